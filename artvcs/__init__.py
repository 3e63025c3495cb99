"""artvcs: version control for datasets and models, with W&B Artifact semantics.

``import artvcs as wandb`` runs W&B Artifact code unchanged. Names are
imported lazily so that ``import artvcs`` and the CLI start fast.
"""
from __future__ import annotations

__version__ = "0.1.0"

_EXPORTS = {
    "Artifact": "artvcs.artifact",
    "Api": "artvcs.api",
    "Run": "artvcs.session",
    "init": "artvcs.session",
    "log_artifact": "artvcs.session",
    "use_artifact": "artvcs.session",
    "finish": "artvcs.session",
    "ArtifactTTL": "artvcs.core.validation",
    "errors": None,
    "Error": "artvcs.errors",  # W&B's wandb.Error, wandb.CommError and wandb.UsageError
    "CommError": "artvcs.errors",
    "UsageError": "artvcs.errors",
    "data_types": None,
    "Table": "artvcs.media",
    "Image": "artvcs.media",
    "Audio": "artvcs.media",
    "Video": "artvcs.media",
    "Html": "artvcs.media",
    "Object3D": "artvcs.media",
    "Classes": "artvcs.media",
    "JoinedTable": "artvcs.media",
    "PartitionedTable": "artvcs.media",
    "ImageMask": "artvcs.media",
    "BoundingBoxes2D": "artvcs.media",
    "Bokeh": "artvcs.media",
}

__all__ = sorted(_EXPORTS) + ["run"]


def __getattr__(name: str) -> object:
    import importlib

    if name == "run":  # W&B's ``wandb.run``: the current run or None
        from artvcs.core.context import current_run

        return current_run()
    module = _EXPORTS.get(name, "")
    if module is None:
        return importlib.import_module(f"artvcs.{name}")
    if module:
        return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'artvcs' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
