"""``download``, ``checkout`` and ``verify`` of a logged artifact, over plumbing.checkout.

download writes the artifact's files (or those under ``path_prefix``) and
leaves everything else in the folder alone; checkout makes the folder exactly
the artifact; verify raises ValueError on any changed, missing or extra file.
A logged version whose entries were not read yet is streamed from its manifest
(:class:`Listed`), never held as a list: plumbing packs it a folder at a time,
so a million-entry checkout stays within a few hundred MiB.
"""
from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from artvcs.logged import folders
from artvcs.plumbing import checkout as _checkout
from artvcs.plumbing import foldersums
from artvcs.plumbing import manifest as _manifest
from artvcs.plumbing.errors import UsageError
from artvcs.plumbing.manifest import ARTIFACT_SCHEME, Entry
from artvcs.plumbing.worklinks import verify_workspace

if TYPE_CHECKING:
    from artvcs.artifact import Artifact

LINK_MODE_ENV = "ARTVCS_LINK_MODE"
# A version of more entries than this is streamed from its manifest; a smaller one is read into a
# list, as plumbing plans a held list without packing it: streaming costs about 1.5 µs an entry
# written (packed, then made again), a list about 300 B an entry (30 MB at this count).
STREAM_FROM = 100_000


def _fetcher(artifact: "Artifact"):
    repo = artifact._context.repo
    store = repo.store
    policy = None

    def fetch(entry: Entry, dest: str) -> None:
        if entry.ref.startswith(ARTIFACT_SCHEME):
            # A reference to another artifact's entry: its bytes are stored here (verified on the way).
            _copy_out(store, entry.digest, dest, entry.path)
            return
        from artvcs.draft.file_references import policy_for
        from artvcs.draft.references import fetch_reference

        nonlocal policy
        if policy is None and entry.ref[:5].lower() == "file:":
            policy = policy_for(repo.gitdir, repo.config_path)  # read once per download, when needed
        fetch_reference(entry, dest, policy)

    return fetch


def with_remote(repo, entries: Iterable[Entry], fn):
    """Run ``fn``; if it finds content missing here that a configured remote holds, fetch just the
    content of ``entries`` (verified, into the store) and run it again. Costs nothing when all is here.
    ``entries`` is iterated once more only then (a :class:`Listed` reads its manifest again)."""
    from artvcs.plumbing.errors import ObjectMissingError

    try:
        return fn()
    except ObjectMissingError:
        from artvcs.sync.remotes import fetch_missing

        if not fetch_missing(repo, entries):
            raise
        return fn()


class Listed:
    """The entries of a logged version's manifest under a path prefix, read from the manifest each
    time they are iterated (folder by folder, in tree order), never all held at once."""

    __slots__ = ("_git", "_tree", "_prefix")

    def __init__(self, git, tree, prefix: str = "") -> None:
        self._git, self._tree, self._prefix = git, tree, prefix

    def __iter__(self) -> Iterator[Entry]:
        return _manifest.iter_entries(self._git, self._tree, self._prefix)


def _entries(artifact: "Artifact", path_prefix: str | None) -> Iterable[Entry]:
    """The entries whose path starts with ``path_prefix`` (all without one): a plain string prefix,
    as the reference says, so ``"p/"`` takes ``p/x`` but not ``p-two.txt``, and ``"p"`` takes both.
    A :class:`Listed` stream for a logged version not read yet of more than STREAM_FROM entries,
    else a list."""
    prefix = _plain_prefix(path_prefix) if path_prefix else ""
    if artifact._entries is None and artifact._source is not None:
        # a logged version not read yet: its manifest's entries as they are (only the subtrees the
        # prefix reaches), without the W&B-shaped entry objects (a tenth of a 20,000-file checkout)
        listed = Listed(artifact._context.repo.git, artifact._source.manifest, prefix)
        return listed if _count(artifact._source.facts) > STREAM_FROM else list(listed)
    return [e.to_entry() for e in artifact._entry_map().values() if e.path.startswith(prefix)]


def _count(facts: dict) -> float:
    """The version's entry count as its facts give it (a hint: infinite when not a count)."""
    count = facts.get("file_count")
    return count if type(count) is int and count >= 0 else float("inf")


def _plain_prefix(value: str) -> str:
    """``value`` as a prefix of entry paths: a string, with a leading ``./`` dropped (entry paths have none)."""
    if not isinstance(value, str):
        raise UsageError(f"path_prefix {value!r} must be a string such as 'images/'")
    while value.startswith("./"):
        value = value[2:]
    return value


def _mode() -> str:
    mode = os.environ.get(LINK_MODE_ENV, "auto")
    if mode not in ("auto", "copy", "hardlink", "reflink", "symlink"):
        raise UsageError(f"${LINK_MODE_ENV}={mode!r} is invalid: use auto, copy, hardlink, reflink or symlink")
    return mode


def download(artifact: "Artifact", root: str, allow_missing_references: bool, skip_cache: bool | None, path_prefix: str | None,
             verify: bool = True) -> str:
    write_entries(artifact, _entries(artifact, path_prefix), root, allow_missing_references, verify=verify)
    if path_prefix is None and artifact._source is not None:
        folders.remember(artifact._context, str(artifact._source.commit), root, "download")
    return os.path.abspath(root)


def stored_entries(artifact: "Artifact") -> list[Entry]:
    """The entries whose bytes artvcs holds: stored files and references to other artifacts' entries."""
    return [e for e in _entries(artifact, None) if e.ref is None or e.ref.startswith(ARTIFACT_SCHEME)]


def write_entries(artifact: "Artifact", entries: Iterable[Entry], root: str, allow_missing_references: bool = False,
                  mode: str | None = None, verify: bool = True) -> None:
    """Write ``entries`` (some of the artifact's) under ``root``, leaving other files there alone;
    ``verify``: hash every stored file handed over (see plumbing.checkout.materialize)."""
    repo = artifact._context.repo
    with_remote(repo, entries, lambda: _checkout.materialize(
        repo.store, entries, root, mode=mode or _mode(), prune=False,
        statcache=repo.statcache, fetch_reference=_fetcher(artifact),
        allow_missing_references=allow_missing_references, verify=verify,
    ))
    repo.statcache.flush()


def checkout(artifact: "Artifact", root: str, force: bool = True, mode: str | None = None,
             verify: bool = True) -> _checkout.MaterializeResult:
    """Make ``root`` exactly the artifact; without ``force``, refuse to delete work not in the store.
    ``verify``: hash every stored file handed over (see plumbing.checkout.materialize)."""
    repo = artifact._context.repo
    mode = mode or _mode()
    if artifact._source is not None:  # a folder that holds exactly this version already: nothing to read or write
        done = _checkout.already_holds(repo.store, root, repo.statcache, mode, str(artifact._source.commit),
                                       artifact._source.facts.get("digest", ""))
        if done is not None:
            folders.remember(artifact._context, str(artifact._source.commit), root, "checkout")
            return done
    entries = _entries(artifact, None)
    # a streamed version's folder sums are gathered as plumbing reads it (no second manifest read)
    along = foldersums.SumsAlong(entries) if isinstance(entries, Listed) else None
    result = with_remote(repo, entries, lambda: _checkout.materialize(
        repo.store, entries if along is None else along, root, mode=mode, prune=True,
        statcache=repo.statcache, fetch_reference=_fetcher(artifact),
        protect_untracked=not force, verify=verify,
    ))
    repo.statcache.flush()
    if artifact._source is not None:
        folders.remember(artifact._context, str(artifact._source.commit), root, "checkout")
        # root holds exactly the version now: its status needs no manifest read (quickstatus)
        commit, digest = str(artifact._source.commit), artifact._source.facts.get("digest", "")
        if along is None:
            foldersums.keep(repo.statcache, commit, digest, entries)
        else:
            foldersums.keep_sums(repo.statcache, commit, digest, along.sums())
    return result


def place_single(artifact: "Artifact", entry_path: str, target: str, force: bool = False) -> None:
    """Put one entry at ``target`` (a tracked single file), refusing to overwrite unstored work."""
    repo = artifact._context.repo
    entry = artifact._entry_map()[entry_path].to_entry()
    if os.path.exists(target):
        from artvcs.plumbing.hashing import hash_file

        digest = hash_file(target)[0]
        if digest == entry.digest:
            return
        if not force and not repo.store.has(digest):
            raise UsageError(f"checkout would overwrite {target!r}, whose changes are not in the artifact store: log them or use --force")
    folder = os.path.dirname(os.path.abspath(target))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".artvcs-tmp-{os.getpid()}")
    if entry.ref is None:
        with_remote(repo, [entry], lambda: _copy_out(repo.store, entry.digest, tmp, target))
    else:
        _fetcher(artifact)(entry, tmp)
    os.replace(tmp, target)


def _copy_out(store, digest: str, dest: str, what: str) -> None:
    """Write stored content ``digest`` to the new file ``dest``, verified (removed again if it is not)."""
    fd = os.open(dest, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        store.copy_to(digest, fd, repr(what))
    except BaseException:
        os.close(fd)
        os.unlink(dest)
        raise
    os.close(fd)


def verify(artifact: "Artifact", root: str) -> None:
    if not os.path.isdir(root):
        raise UsageError(f"verify: {root!r} is not a folder; download the artifact there first")
    repo = artifact._context.repo
    entries = _entries(artifact, None)
    problems = verify_workspace(entries, root, repo.store, repo.statcache)
    if problems:
        by_path = {e.path: e for e in entries}
        causes = [_store_link(repo.store, root, by_path.get(p)) if what == "modified" else "" for p, what in problems[:5]]
        shown = "; ".join(f"{p} ({what}{cause})" for (p, what), cause in zip(problems[:5], causes))
        more = f" and {len(problems) - 5} more" if len(problems) > 5 else ""
        why = (": files checked out with --link hardlink or symlink are the stored content, so editing one (root ignores "
               "the read-only mode) changed the store too; run artvcs fsck, and check out with copy or reflink") if any(causes) else ""
        raise UsageError(f"verify: {root!r} does not match {artifact.name}: {shown}{more}{why}")


def _store_link(store, root: str, entry: Entry | None) -> str:
    """How a modified file shares the store's copy of its content ('' when it does not)."""
    if entry is None or entry.ref is not None:
        return ""
    target = os.path.join(root, *entry.path.split("/"))
    try:
        st = os.lstat(target)
        if stat.S_ISLNK(st.st_mode):
            real = os.path.realpath(target)
            inside = real.startswith(os.path.realpath(store.root) + os.sep)
            return ", a symbolic link into the artifact store" if inside else ""
        stored = os.stat(store.path_of(entry.digest))
    except OSError:
        return ""
    return ", a hard link to the stored file" if (stored.st_dev, stored.st_ino) == (st.st_dev, st.st_ino) else ""
