"""Where the ``file:`` references of this repository's manifests came from.

``.artifacts/remotes/.references`` holds every ``file:`` reference URI that
arrived in a manifest from a remote (pull, fetch, clone), percent-encoded,
then a TAB and the remote's name, one per line, appended and never
rewritten; it is written before any local ref names the version that holds
the reference. Such a URI names a path on *this* machine chosen by whoever
wrote the remote, so the code that reads references follows it only where
its content is checked against the entry's recorded digest, or the user
allowed its root (see :func:`reference_origin`). A URI only ever added here
is absent from the record.

The file's name starts with a dot, which no remote name does.
"""
from __future__ import annotations

import urllib.parse
from collections.abc import Iterable

from .state import append_lines, read_lines, record_path

REFERENCES = ".references"
# A line holds no TAB, line break or other control character: everything else is %-escaped.
_SAFE = "!$&'()*+,-./:;=?@_~"


def _encode(uri: str) -> str:
    return urllib.parse.quote(uri, safe=_SAFE)


def is_local_reference(uri: object) -> bool:
    """True for a ``file:`` URI (any case): a reference that reads this machine's files."""
    return isinstance(uri, str) and uri[:5].lower() == "file:"


def record_references(gitdir: str, uris: Iterable[str], remote: str) -> None:
    """Remember that ``uris`` (file: references) arrived in manifests from ``remote``."""
    known = remote_references(gitdir)
    new = sorted({_encode(u) for u in uris if is_local_reference(u) and u not in known})
    append_lines(record_path(gitdir, REFERENCES), [f"{u}\t{remote}" for u in new])


def remote_references(gitdir: str) -> dict[str, str]:
    """Every file: reference URI that arrived from a remote → the first remote it came from."""
    out: dict[str, str] = {}
    for line in read_lines(record_path(gitdir, REFERENCES)):
        uri, _, remote = line.partition("\t")
        out.setdefault(urllib.parse.unquote(uri), remote)
    return out


def reference_origin(gitdir: str, uri: str) -> str | None:
    """The remote a ``file:`` reference ``uri`` arrived from, or None when it was only ever added here.

    For the reference reader: a URI that a remote brought must be checked
    against its entry's recorded digest (or lie under a root the user
    allowed) before its bytes are handed over.
    """
    if not is_local_reference(uri):
        return None
    return remote_references(gitdir).get(uri)
