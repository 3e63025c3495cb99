"""The pages of ``artvcs ui``, one module each: ``projects`` (index and a project's collections),
``versions`` (a collection's versions), ``version`` (one version: facts, aliases, history, its file
tree), ``files`` (a file's preview, raw bytes, media objects), ``diff``, ``lineage``, ``remotes``,
``edit`` (the --edit forms). ``lookup`` turns URL parts into binding objects for all of them."""
