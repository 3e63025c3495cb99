"""Making a version: staging files, reference entries and the commit of a draft.

May import: artvcs.core, artvcs.errors, artvcs.artifact_manifest, artvcs.plumbing.
Never the W&B face (Artifact, Api, Run) except under ``if TYPE_CHECKING:``.
"""
