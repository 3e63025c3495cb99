"""The entries of a checkout, held a folder at a time and, where they are plain, packed.

A million-entry checkout must know every entry before it writes one (every
refusal comes first), but holding a million :class:`Entry` objects costs
about 300 bytes each (the object, its path, its digest string). A folder of
plain stored entries (no reference, no extra) is held instead as :class:`Packed`: its names (one
string), its digests (32 bytes each) and its sizes (an array), about 50
bytes an entry; an Entry is made again only for a file that is written or
looked at. A folder with a reference or an extra, a size or digest that is not plain,
or whose entries come apart in the stream keeps its Entry objects
(:class:`Loose`). :func:`index` also refuses what a manifest must not hold:
a bad path, a path twice, a path that is both a file and a folder; each
check needs one folder at a time, so no set of every path is held.
"""
from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice
from operator import attrgetter

from .errors import UsageError
from .hashing import all_digests
from .manifest import NO_EXTRA, Entry
from .paths import check_entry_path, check_entry_paths

_PATH, _DIGEST, _SIZE, _REF = attrgetter("path"), attrgetter("digest"), attrgetter("size"), attrgetter("ref")


class Packed:
    """A folder's plain stored entries (no reference, no extra, a lowercase hex digest, a size ≥ 0),
    in order: names joined by newlines (a checked entry path holds none), digests as bytes, sizes."""

    __slots__ = ("folder", "names", "digests", "sizes")
    has_refs = False

    def __init__(self, folder: str, names: str, digests: bytes, sizes: array) -> None:
        self.folder, self.names, self.digests, self.sizes = folder, names, digests, sizes

    def __len__(self) -> int:
        return len(self.sizes)

    stored = property(__len__, doc="how many entries are stored files (all of them)")

    @property
    def first_path(self) -> str:
        return self._prefix() + self.names.partition("\n")[0]

    def _prefix(self) -> str:
        return f"{self.folder}/" if self.folder else ""

    def name_list(self) -> list[str]:
        return self.names.split("\n")

    def hexes(self) -> str:
        """Every digest, 64 hex digits each, one after the other."""
        return self.digests.hex()

    def __iter__(self) -> Iterator[Entry]:
        return self.entries(0, len(self))

    def entries(self, start: int, stop: int, names: list[str] | None = None) -> Iterator[Entry]:
        """The entries ``start`` to ``stop``, made again (``names``: :meth:`name_list`, if at hand)."""
        prefix, sizes = self._prefix(), self.sizes
        names = (names or self.name_list())[start:stop]
        hx = self.digests[start * 32 : stop * 32].hex()
        return (Entry(prefix + n, hx[k * 64 : k * 64 + 64], sizes[start + k], None, NO_EXTRA) for k, n in enumerate(names))

    def digest_list(self) -> list[str]:
        hx = self.hexes()
        return [hx[i : i + 64] for i in range(0, len(hx), 64)]

    def nbytes(self) -> int:
        return sum(self.sizes)

    def largest(self) -> int:
        return max(self.sizes, default=0)


class Loose:
    """A folder's entries kept as Entry objects (see the module's docstring for when), in order."""

    __slots__ = ("folder", "items", "has_refs")

    def __init__(self, folder: str, items: list[Entry]) -> None:
        self.folder, self.items = folder, items
        self.has_refs = any(e.ref is not None for e in items)

    def extend(self, more: list[Entry]) -> None:
        """``more`` added at the end, in place (a folder that comes back in the stream: copying
        it each time would cost the square of its size when folders interleave)."""
        self.items.extend(more)
        self.has_refs = self.has_refs or any(e.ref is not None for e in more)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def stored(self) -> int:
        return sum(e.ref is None for e in self.items) if self.has_refs else len(self.items)

    @property
    def first_path(self) -> str:
        return self.items[0].path

    def name_list(self) -> list[str]:
        return [e.path.rpartition("/")[2] for e in self.items]

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.items)

    def stored_items(self) -> list[Entry]:
        return [e for e in self.items if e.ref is None] if self.has_refs else self.items

    def digest_list(self) -> list[str]:
        return [e.digest for e in self.items if e.ref is None]

    def nbytes(self) -> int:
        return sum(e.size or 0 for e in self.items if e.ref is None)

    def largest(self) -> int:
        return max((e.size or 0 for e in self.items if e.ref is None), default=0)


Group = Packed | Loose


def _pack(folder: str, run: list[Entry], paths: list[str]) -> Group:
    """``run`` (one folder's entries, paths checked) packed, or kept loose when not plain."""
    if any(map(_REF, run)) or any(e.extra for e in run):  # Packed holds neither
        return Loose(folder, run)
    digests = list(map(_DIGEST, run))
    try:
        sizes = array("q", map(_SIZE, run))
    except (TypeError, OverflowError):  # a size that is no integer
        return Loose(folder, run)
    if not all_digests(digests) or min(sizes) < 0:
        return Loose(folder, run)
    joined = "\n".join(paths)
    names = joined[len(folder) + 1 :].replace(f"\n{folder}/", "\n") if folder else joined
    return Packed(folder, names, bytes.fromhex("".join(digests)), sizes)


def _refuse_twice(group: Group) -> None:
    # a folder's paths differ where its names do (a loose folder's paths are at hand)
    names = list(map(_PATH, group.items)) if isinstance(group, Loose) else group.name_list()
    if len(set(names)) != len(names):
        names = group.name_list()
        seen: set[str] = set()
        for n in names:
            if n in seen:
                path = f"{group.folder}/{n}" if group.folder else n
                raise UsageError(f"entry path {path!r} appears twice in the manifest")
            seen.add(n)


def index(entries: Iterable[Entry]) -> tuple[set[str], dict[str, Group]]:
    """Every folder path, and the entries of each folder (in order), refusing bad, duplicate or
    clashing paths. A manifest lists a folder's entries together: each run of one folder is
    checked and, when the entries are streamed, packed as it ends, so only one folder's Entry
    objects are held at a time. Entries handed over in a list are held by the caller anyway:
    they are kept as they are (packing them would cost time and save nothing)."""
    pack = not isinstance(entries, (list, tuple))
    folders: set[str] = set()
    groups: dict[str, Group] = {}
    merged: set[str] = set()  # folders whose entries came apart: checked for repeats at the end
    run: list[Entry] = []
    last: str | None = None

    def end_run() -> None:
        paths = list(map(_PATH, run))
        check_entry_paths(paths)
        before = groups.get(last)
        if before is None:
            group = groups[last] = _pack(last, run, paths) if pack else Loose(last, run)
            _refuse_twice(group)
        else:  # the folder came back: its entries are kept as objects, checked once all are in
            if isinstance(before, Packed):  # made into objects once, then only added to
                before = groups[last] = Loose(last, list(before))
            before.extend(run)
            merged.add(last)

    for e in entries:
        path = e.path
        if type(path) is not str:
            check_entry_path(path)  # its error
        folder = path.rpartition("/")[0]
        if folder != last:
            if run:
                end_run()
                run = []
            last = folder
            while folder and folder not in folders:
                folders.add(folder)
                folder = folder.rpartition("/")[0]
        run.append(e)
    if run:
        end_run()
    del run
    for folder in merged:
        _refuse_twice(groups[folder])
    kids: dict[str, list[str]] = {}
    for f in folders:
        parent, _, name = f.rpartition("/")
        if parent in groups:
            kids.setdefault(parent, []).append(name)
    for parent, names in kids.items():
        files = set(groups[parent].name_list())
        for name in sorted(names):
            if name in files:
                path = f"{parent}/{name}" if parent else name
                raise UsageError(f"entry path {path!r} is both a file and a folder in the manifest")
    return folders, groups


def vouched(group: Group, found: Sequence) -> bool:
    """Whether the stat-cache records ``found`` (a folder's scan: a record, or None or False, per
    entry in order) hold every entry's own digest: compared digest by digest, for a manifest's
    digest may be of any length ("" and X+Y must not pass for X and Y)."""
    if group.has_refs:
        return False
    got = [r[0] if r else "" for r in found]
    if isinstance(group, Packed):  # 64 digits each: joined, they compare one by one if the records' are too (faster)
        return set(map(len, got)) == {64} and "".join(got) == group.hexes()
    return got == group.digest_list()


def holds_file(groups: dict[str, Group], path: str) -> bool:
    """Whether ``path`` is a file entry of ``groups`` (for a few lookups: no set is kept)."""
    folder, _, name = path.rpartition("/")
    group = groups.get(folder)
    return group is not None and name in group.name_list()


def all_paths(groups: dict[str, Group]) -> Iterator[str]:
    for g in groups.values():
        prefix = f"{g.folder}/" if g.folder else ""
        for n in g.name_list():
            yield prefix + n


class Fresh:
    """The stored entries of the folders written whole (nothing of theirs is there yet), made into
    Entry objects only a slice at a time as they are written."""

    def __init__(self, groups: list[Group]) -> None:
        self.groups = groups
        self._count = sum(g.stored for g in groups)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Entry]:
        for batch in self.slices(1024):
            yield from batch

    def slices(self, step: int) -> Iterator[list[Entry]]:
        """The entries, ``step`` at a time across folders (the last slice may be shorter). Each
        entry is taken from its folder once, as its slice fills (never more than a slice is held,
        and a big folder is not copied again for each slice it yields)."""
        out: list[Entry] = []
        for g in self.groups:
            source: Iterator[Entry]
            if isinstance(g, Packed):
                names, n = g.name_list(), len(g)
                source = chain.from_iterable(g.entries(i, min(i + step, n), names) for i in range(0, n, step))
            else:
                source = (e for e in g.items if e.ref is None) if g.has_refs else iter(g.items)
            while True:
                out.extend(islice(source, step - len(out)))
                if len(out) < step:
                    break  # this folder is done: the next one fills the rest
                yield out
                out = []
        if out:
            yield out

    def nbytes(self) -> int:
        return sum(g.nbytes() for g in self.groups)

    def large(self, threshold: int) -> set[str]:
        """The digests of entries of at least ``threshold`` bytes."""
        out: set[str] = set()
        for g in self.groups:
            if g.largest() >= threshold:
                out.update(e.digest for e in (g if isinstance(g, Packed) else g.stored_items()) if (e.size or 0) >= threshold)
        return out

    def digests(self) -> Iterator[tuple[Group, list[str]]]:
        """Each folder with its stored entries' digests (in order)."""
        for g in self.groups:
            yield g, g.digest_list()
