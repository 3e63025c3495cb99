"""Packaging is declared in setup.cfg; this file adds what setup.cfg cannot say.

- The optional C extensions (plumbing/_native/): the scan (scan.c), the
  FastCDC cutter (cdc.c), a checkout's batched small copies (copybatch.c) and
  the row parser of chunk lists and pack indexes (chunkrows.c).
  Where no compiler is, the build warns and artvcs uses plumbing/scan.py's
  pure-Python loop, pyfastcdc, a copy per file (plumbing/placefile.py) and
  plumbing/chunklist.py's row check, which give the same results.
  Each carries SOURCE_ID, the CRC-32, size and mtime of the source it was
  built from: plumbing/native.py refuses a build that its source has moved
  past (an edit or a checkout after ``pip install -e .``) instead of letting
  it silently turn the C path off, or run old code.
- Editable installs with data files: setuptools' editable wheel means to
  install data files (our man pages under share/man) but asks the distribution
  ``has_data()``, a method that does not exist (it is ``has_data_files``), so
  ``pip install -e .`` never put them where ``man`` looks. This command
  installs them as a plain install does.
- A lighter editable finder: setuptools maps our packages (artvcs.plumbing
  lives in plumbing/) with a finder module that a .pth imports at every
  interpreter start, and that module imports pathlib, importlib.util and
  through them urllib.parse, re, fnmatch...: about 20 ms of every artvcs
  command in an editable install, more than an up-to-date ``artvcs status``
  spends on its folder. :class:`LeanFinder` writes one that imports nothing,
  when the mapping is plain (each package a folder of its own last name, no
  namespaces); anything else keeps setuptools' finder.
"""
import os
import zlib

from setuptools import Extension, setup
from setuptools.command.editable_wheel import editable_wheel

LEAN_FINDER = '''"""Where artvcs's editable install finds its packages (written by artvcs's setup.py: importing
nothing, it costs an interpreter start next to nothing)."""
import sys

MAPPING = {mapping!r}


class _Finder:  # a meta path finder: the interpreter's own path finder, asked in the right folder
    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        where = MAPPING.get(fullname)
        if where is None:
            return None
        for finder in sys.meta_path:
            if getattr(finder, "__name__", None) == "PathFinder":
                return finder.find_spec(fullname, [where.rpartition({sep!r})[0]])
        return None


def install():
    if _Finder not in sys.meta_path:
        sys.meta_path.append(_Finder)
'''


class LeanFinder:
    """An editable-install strategy: setuptools' top-level finder (``plain``), written as
    :data:`LEAN_FINDER` when its mapping allows, else as setuptools writes it."""

    def __init__(self, plain) -> None:
        self.plain = plain

    def __enter__(self):
        self.plain.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.plain.__exit__(*exc)

    def __call__(self, wheel, files, mapping) -> None:
        try:  # setuptools' private shape: anything unexpected keeps its own finder
            finder, _, packages, namespaces = self.plain.template_vars()
            packages = dict(packages)
        except (TypeError, ValueError, AttributeError):
            return self.plain(wheel, files, mapping)
        if namespaces or not all(
                os.path.basename(where) == name.rpartition(".")[2] and os.path.isfile(os.path.join(where, "__init__.py"))
                for name, where in packages.items()):
            return self.plain(wheel, files, mapping)
        wheel.writestr(f"{finder}.py", LEAN_FINDER.format(mapping=packages, sep=os.sep).encode())
        wheel.writestr(f"__editable__.{self.plain.name}.pth", f"import {finder}; {finder}.install()\n".encode())
        return None


class EditableWheelWithData(editable_wheel):
    """An editable wheel that also carries the data files (share/man/man1, man5), and a finder that
    imports nothing (:class:`LeanFinder`)."""

    def _run_install(self, category: str) -> None:
        if category == "data" and self.distribution.has_data_files():
            self.run_command("install_data")
            return
        super()._run_install(category)

    def _select_strategy(self, name, tag, build_lib):
        strategy = super()._select_strategy(name, tag, build_lib)
        if hasattr(strategy, "template_vars") and hasattr(strategy, "name"):  # setuptools' top-level finder
            return LeanFinder(strategy)
        return strategy


def native(name: str) -> Extension:
    """The optional C extension ``artvcs.plumbing._<name>`` from plumbing/_native/<name>.c, stamped
    with its source's id (plumbing/native.py reads it: "crc32:size:mtime_ns")."""
    source = f"plumbing/_native/{name}.c"
    with open(source, "rb") as f:
        data = f.read()
    stamp = f"{zlib.crc32(data)}:{len(data)}:{os.stat(source).st_mtime_ns}"
    return Extension(f"artvcs.plumbing._{name}", [source], optional=True, extra_compile_args=["-O2"],
                     define_macros=[("SOURCE_ID", f'"{stamp}"')])


setup(
    cmdclass={"editable_wheel": EditableWheelWithData},
    ext_modules=[native("scan"), native("cdc"), native("copybatch"), native("chunkrows")],
)
