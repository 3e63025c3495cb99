"""Build glue for the optional C scan (plumbing/_native/scan.c); everything else is in setup.cfg.

The extension is optional: where no compiler is, the build warns and
artvcs uses plumbing/scan.py's pure-Python loop, which gives the same results.
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension("artvcs.plumbing._scan", ["plumbing/_native/scan.c"], optional=True,
                             extra_compile_args=["-O2"])])
