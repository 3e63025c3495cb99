"""The package's version (setup.cfg's), in a module of its own: the launcher says it without loading
the click CLI, and the CLI's ``--version`` says the same."""
VERSION = "0.1.0"
