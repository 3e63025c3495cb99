"""The YAML text of a simple mapping, written without the yaml module: exactly what
``yaml.safe_dump(data, sort_keys=True, default_flow_style=False)`` writes, for the shapes
artvcs's own files take (``artvcs.lock``, ``artvcs.yaml``: mappings of mappings of short names).

Importing PyYAML costs a re-log more than writing its lock file does (~18 ms of a command's
start). What this writes is checked against PyYAML itself by tests/plumbing/test_plainyaml.py
(hypothesis, over this alphabet and PyYAML's special words); anything outside what it knows
(other types, other characters, long keys) gets None, and the caller uses PyYAML.
"""
from __future__ import annotations

import re

TYPE_CHECKING = False  # typing is not imported: start-up time
if TYPE_CHECKING:
    from typing import Any

# the characters of a scalar written here: names, versions, digests, relative paths
_SAFE = re.compile(r"[A-Za-z0-9_./-]+\Z")
MAX_KEY = 100  # PyYAML writes a key of 128 characters or more as "? key": keep well below

# PyYAML's implicit resolvers (yaml/resolver.py, Resolver), by the first characters they apply to:
# a string that one of them would read as something else (a number, a bool, null, a date) is quoted.
_RESOLVERS = (
    (frozenset("yYnNtTfFoO"), re.compile(r"""^(?:yes|Yes|YES|no|No|NO
                    |true|True|TRUE|false|False|FALSE
                    |on|On|ON|off|Off|OFF)$""", re.X)),
    (frozenset("-+0123456789."), re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
                    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
                    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$""", re.X)),
    (frozenset("-+0123456789"), re.compile(r"""^(?:[-+]?0b[0-1_]+
                    |[-+]?0[0-7_]+
                    |[-+]?(?:0|[1-9][0-9_]*)
                    |[-+]?0x[0-9a-fA-F_]+
                    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$""", re.X)),
    (frozenset("<"), re.compile(r"^(?:<<)$")),
    (frozenset("~nN"), re.compile(r"""^(?: ~
                    |null|Null|NULL
                    | )$""", re.X)),
    (frozenset("0123456789"), re.compile(r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
                    |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
                     (?:[Tt]|[ \t]+)[0-9][0-9]?
                     :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
                     (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""", re.X)),
    (frozenset("="), re.compile(r"^(?:=)$")),
)


class _Unsupported(Exception):
    """Something this writer does not know how PyYAML writes."""


def dump(data: dict[str, Any]) -> str | None:
    """``data`` as ``yaml.safe_dump(data, sort_keys=True, default_flow_style=False)`` writes it,
    or None when it holds anything but mappings with string keys and strings of :data:`_SAFE`."""
    if not isinstance(data, dict):
        return None
    if not data:
        return "{}\n"
    out: list[str] = []
    try:
        _mapping(data, 0, out)
    except _Unsupported:
        return None
    return "".join(out)


def _mapping(data: dict, indent: int, out: list[str]) -> None:
    pad = " " * indent
    for key in sorted(data):  # safe_dump sorts the items; keys of one mapping are unique
        if type(key) is not str or len(key) >= MAX_KEY:
            raise _Unsupported(key)
        value = data[key]
        if type(value) is dict:
            if value:
                out.append(f"{pad}{_scalar(key)}:\n")
                _mapping(value, indent + 2, out)
            else:
                out.append(f"{pad}{_scalar(key)}: {{}}\n")
        elif type(value) is str:
            out.append(f"{pad}{_scalar(key)}: {_scalar(value)}\n")
        else:
            raise _Unsupported(value)


def _scalar(text: str) -> str:
    """A string of :data:`_SAFE` as PyYAML writes it: plain unless PyYAML would read it back as
    something else or as an indicator, then single-quoted (no quote can occur in it)."""
    if not _SAFE.match(text):
        raise _Unsupported(text)
    if text == "-" or text.startswith(("---", "...")) \
            or any(text[0] in first and rx.match(text) for first, rx in _RESOLVERS):
        return f"'{text}'"
    return text
