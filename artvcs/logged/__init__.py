"""Working with logged versions: editing, lifecycle, lineage, history, diff,
checkout (materialize), file listings, aliases listing and garbage collection.

May import: artvcs.draft, artvcs.sync, artvcs.media, artvcs.core, artvcs.errors,
artvcs.artifact_manifest, artvcs.plumbing. Never the W&B face (Artifact, Api,
Run) except under ``if TYPE_CHECKING:``: the objects it works on are passed in.
"""
