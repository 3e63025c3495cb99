"""The base of the binding: what every other part of it needs and nothing above it.

Holds the context (which repository, entity and project; the current run),
argument validation, alias refs and the enclosing git repository's state.
May import: artvcs.plumbing, artvcs.errors and artvcs.artifact_manifest only.
"""
