"""Plumbing commands: name → ``module:attribute`` of a click command.

Plumbing output is a promise to scripts: tab-separated fields, ``-z`` for
NUL-terminated records, no colour, no prompts; fields may be added at the
end of a line, never changed or removed.
"""
PLUMBING: dict[str, str] = {}
