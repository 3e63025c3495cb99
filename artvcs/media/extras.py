"""The optional libraries behind media objects, imported only when a feature needs them.

``import artvcs`` never imports numpy, Pillow, pandas or imageio; a media
feature asks for its library here, and a user without it gets one
:class:`~artvcs.errors.MediaDependencyError` naming the extra to install
instead of an ImportError trace.
"""
from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

from artvcs.errors import MediaDependencyError

#: import name -> (distribution on PyPI, what installs it)
_DISTRIBUTIONS = {
    "numpy": ("numpy", "pip install 'artvcs[media]'"),
    "PIL": ("pillow", "pip install 'artvcs[media]'"),
    "PIL.Image": ("pillow", "pip install 'artvcs[media]'"),
    "pandas": ("pandas", "pip install 'artvcs[media]'"),
    "imageio": ("imageio", "pip install 'artvcs[media]'"),
    "imageio.v3": ("imageio", "pip install 'artvcs[media]'"),
    "imageio_ffmpeg": ("imageio-ffmpeg", "pip install 'artvcs[media]'"),
    "soundfile": ("soundfile", "pip install 'artvcs[media]'"),
    "bokeh": ("bokeh", "pip install bokeh"),
    "bokeh.document": ("bokeh", "pip install bokeh"),
}


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` for ``feature``, or raise MediaDependencyError saying what to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        dist, how = _DISTRIBUTIONS.get(module, (module.split(".")[0], "pip install 'artvcs[media]'"))
        raise MediaDependencyError(
            f"{feature} needs the Python package {dist!r}, which is not installed: {how}"
        ) from None


def numpy(feature: str) -> Any:
    """numpy, for ``feature``."""
    return require("numpy", feature)


def pil_image(feature: str) -> Any:
    """``PIL.Image``, for ``feature``."""
    return require("PIL.Image", feature)


def pandas(feature: str) -> Any:
    """pandas, for ``feature``."""
    return require("pandas", feature)


def _loaded(module: str) -> Any:
    """The module if something already imported it (so a check never imports a library)."""
    mod = sys.modules.get(module)
    return mod if isinstance(mod, ModuleType) else None


def is_ndarray(value: Any) -> bool:
    """True for a numpy array; never imports numpy (an array means numpy is loaded)."""
    np = _loaded("numpy")
    return np is not None and isinstance(value, np.ndarray)


def is_numpy_scalar(value: Any) -> bool:
    np = _loaded("numpy")
    return np is not None and isinstance(value, np.generic)


def is_dataframe(value: Any) -> bool:
    pd = _loaded("pandas")
    return pd is not None and isinstance(value, pd.DataFrame)


def is_pil_image(value: Any) -> bool:
    pil = _loaded("PIL.Image")
    return pil is not None and isinstance(value, pil.Image)
