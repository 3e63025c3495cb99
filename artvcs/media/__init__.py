"""Media objects for artifacts: W&B's Table, Image, Audio, Video, Html, Object3D and friends.

``artifact.add(obj, name)`` stores ``obj`` as the JSON entry
``<name>.<kind>.json`` plus content-addressed parts under ``media/``;
``artifact.get(name)`` returns an equal object. The layouts are specified in
artvcs-media(5). Importing this package imports no optional library: numpy,
Pillow, pandas and imageio are loaded by the features that need them.
May import: artvcs.errors and artvcs.plumbing; nothing else of the binding.
"""
from __future__ import annotations

from artvcs.media.audio import Audio
from artvcs.media.bokeh import Bokeh
from artvcs.media.boxes import BoundingBoxes2D
from artvcs.media.classes import Classes
from artvcs.media.codec import decode, encode, json_path
from artvcs.media.html import Html
from artvcs.media.image import Image
from artvcs.media.joined import JoinedTable
from artvcs.media.masks import ImageMask
from artvcs.media.object3d import Object3D
from artvcs.media.partitioned import PartitionedTable
from artvcs.media.table import Table
from artvcs.media.video import Video

__all__ = [
    "Audio",
    "Bokeh",
    "BoundingBoxes2D",
    "Classes",
    "Html",
    "Image",
    "ImageMask",
    "JoinedTable",
    "Object3D",
    "PartitionedTable",
    "Table",
    "Video",
    "decode",
    "encode",
    "json_path",
]
