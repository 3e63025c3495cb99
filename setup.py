"""Packaging is declared in setup.cfg; this file adds what setup.cfg cannot say.

- The optional C extensions (plumbing/_native/): the scan (scan.c), the
  FastCDC cutter (cdc.c) and a checkout's batched small copies (copybatch.c).
  Where no compiler is, the build warns and artvcs uses plumbing/scan.py's
  pure-Python loop, pyfastcdc and a copy per file (plumbing/placefile.py),
  which give the same results.
- Editable installs with data files: setuptools' editable wheel means to
  install data files (our man pages under share/man) but asks the distribution
  ``has_data()``, a method that does not exist (it is ``has_data_files``), so
  ``pip install -e .`` never put them where ``man`` looks. This command
  installs them as a plain install does.
"""
from setuptools import Extension, setup
from setuptools.command.editable_wheel import editable_wheel


class EditableWheelWithData(editable_wheel):
    """An editable wheel that also carries the data files (share/man/man1, man5)."""

    def _run_install(self, category: str) -> None:
        if category == "data" and self.distribution.has_data_files():
            self.run_command("install_data")
            return
        super()._run_install(category)


setup(
    cmdclass={"editable_wheel": EditableWheelWithData},
    ext_modules=[
        Extension("artvcs.plumbing._scan", ["plumbing/_native/scan.c"], optional=True, extra_compile_args=["-O2"]),
        Extension("artvcs.plumbing._cdc", ["plumbing/_native/cdc.c"], optional=True, extra_compile_args=["-O2"]),
        Extension("artvcs.plumbing._copybatch", ["plumbing/_native/copybatch.c"], optional=True, extra_compile_args=["-O2"]),
    ],
)
