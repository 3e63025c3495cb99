"""The porcelain: artvcs's commands for people (``artvcs.porcelain.commands``), over the binding."""
import os as _os

if _os.environ.get("_ARTVCS_COMPLETE", "").startswith("bash"):  # only while bash asks for completions
    from .completion import register as _register

    _register()
