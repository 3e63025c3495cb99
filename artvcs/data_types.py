"""W&B's ``wandb.data_types`` module: the media types under the names W&B code imports.

``from artvcs import data_types`` (or ``import artvcs as wandb;
wandb.data_types.ImageMask``) gives the same classes as ``artvcs.Table`` and
friends; W&B's types that artvcs does not store (Histogram, Molecule, Plotly,
...) are absent.
"""
from __future__ import annotations

from artvcs.media import (  # noqa: F401  (re-exported)
    Audio,
    Bokeh,
    BoundingBoxes2D,
    Classes,
    Html,
    Image,
    ImageMask,
    JoinedTable,
    Object3D,
    PartitionedTable,
    Table,
    Video,
)
from artvcs import media as _media
from artvcs.media.base import Media as WBValue  # noqa: F401  (W&B's base class of every data type)

__all__ = [n for n in _media.__all__ if n[0].isupper()] + ["WBValue"]
