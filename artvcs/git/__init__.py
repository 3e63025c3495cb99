"""Git integration: artifacts tracked by a git work tree (lock files) and git hooks.

The top of the binding: it drives the W&B face (Api, runs) the way a user's
script would, so it may import everything in artvcs; only porcelain imports it.
"""
