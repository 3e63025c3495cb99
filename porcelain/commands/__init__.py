"""Porcelain commands: name → ``module:attribute`` of a click command."""
PORCELAIN: dict[str, str] = {}
