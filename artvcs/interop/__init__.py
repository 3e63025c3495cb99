"""Trading artifacts with W&B: export a version as a W&B download, import one as a version.

Holds: the W&B manifest v1 format (MD5 digests, W&B's manifest digest),
export and import. It drives the W&B face as a user's script would, so it
sits above it beside ``artvcs.git``; it may import the face, ``logged``,
``core``, ``errors`` and plumbing, and is imported only by porcelain.
MD5 is computed here only, never on the ``log`` path.
"""
