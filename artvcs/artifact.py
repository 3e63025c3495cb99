"""``artvcs.Artifact``: a draft to fill and log, or a logged version to read and edit.

The semantics are W&B's (see the reference): a draft (PENDING) gathers
entries; logging finalizes it into a version (COMMITTED) whose contents never
change, while its description, metadata, ttl, tags and aliases stay editable
and persist on :meth:`save`. An artifact retrieved through a portfolio is a
*view* of its source version: ``name``/``version``/``collection`` describe
the portfolio membership and ``source_*`` the original collection.

This class is the W&B surface only: filling a draft (draft/adding), editing,
lifecycle, checkout and lineage (logged/) are delegated. It stays a little over
600 lines because each of the reference's ~70 properties and methods lives here.
"""
from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import enum
import os
import warnings
from collections.abc import Generator
from typing import IO, TYPE_CHECKING, Any

from artvcs.core import aliases as _aliases
from artvcs.artifact_manifest import ArtifactManifest, ArtifactManifestEntry
from artvcs.collection import ArtifactCollection
from artvcs.core.context import context_for, current_run, find_or_create
from artvcs.draft import adding
from artvcs.errors import ArtifactFinalizedError, ArtifactNotLoggedError, EntryNotFoundError
from artvcs.logged import lifecycle
from artvcs import media_source

# editing, lineage, materialize and files are imported where used: logging a draft needs
# none of them, and materialize alone brings in the whole checkout path.
from artvcs.plumbing import attrs as _attrs
from artvcs.plumbing import config as _config
from artvcs.plumbing import links as _links
from artvcs.plumbing import manifest as _manifest
from artvcs.plumbing import versions as _versions
from artvcs.plumbing.errors import UsageError
from artvcs.plumbing.manifest import Entry
from artvcs.plumbing.names import check_name, check_type
from artvcs.plumbing.paths import normalize_entry_path
from artvcs.runs import Run
from artvcs.runs import start as start_run
from artvcs.core.validation import (
    ArtifactTTL,
    canonical_metadata,
    check_metadata,
    ttl_from_record,
    ttl_to_record,
)

if TYPE_CHECKING:
    from artvcs.core.context import Context

class ArtifactState(enum.Enum):
    """The states W&B names (``wandb.sdk.artifacts.artifact_state.ArtifactState`` at v0.17.9);
    ``Artifact.state`` is one's value. artvcs's artifacts are PENDING, COMMITTED or DELETED: a
    deleted version's content goes at the next gc, with no state of its own."""

    PENDING = "PENDING"
    COMMITTED = "COMMITTED"
    DELETED = "DELETED"
    GARBAGE_COLLECTED = "GARBAGE_COLLECTED"
    PENDING_DELETION = "PENDING_DELETION"


PENDING, COMMITTED, DELETED = ArtifactState.PENDING.value, ArtifactState.COMMITTED.value, ArtifactState.DELETED.value


def _logged(fn):
    """Decorator: the method needs a logged artifact."""

    def wrapper(self, *args, **kwargs):
        if self._version is None:
            raise ArtifactNotLoggedError(self._name, fn.__name__)
        return fn(self, *args, **kwargs)

    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = fn.__name__, fn.__doc__, fn
    return wrapper


def _draft(fn):
    """Decorator: the method changes contents, so the artifact must not be finalized."""

    def wrapper(self, *args, **kwargs):
        if self._final:
            raise ArtifactFinalizedError(self.name, fn.__name__)
        return fn(self, *args, **kwargs)

    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = fn.__name__, fn.__doc__, fn
    return wrapper


class Artifact:
    """Flexible and lightweight building block for dataset and model versioning."""

    def __init__(
        self,
        name: str,
        type: str,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        incremental: bool = False,
        use_as: str | None = None,
    ) -> None:
        self._name = check_name(name)
        self._type = check_type(type)
        if description is not None and not isinstance(description, str):
            raise UsageError(f"description must be a string, not {description!r:.60}")
        self._description = description
        self._metadata = check_metadata(metadata)
        self._incremental = bool(incremental)
        self._use_as = use_as
        self._distributed_id: str | None = None
        self._ttl: Any = ArtifactTTL.INHERIT
        self._tags: list[str] = []
        self._aliases: list[str] = []
        self._entries: dict[str, ArtifactManifestEntry] | None = {}
        self._base_tree = None  # manifest tree a new_draft starts from
        self._changes: dict[str, Entry | None] = {}
        self._local_paths: dict[str, str] = {}
        self._whole_dirs: list[str] = []  # folders added as the root (add_dir without name): see logged.folders
        self._pending: list[adding.PendingDir] = []  # an add_dir not yet made entries: see adding.materialize
        self._logged_dirs: list[adding.PendingDir] = []  # the pending add_dir a log wrote as it was
        self._created: bool | None = None  # after a log: whether it made a new version (False: equal content)
        self._final = False
        self._context: Context | None = None
        self._version: _versions.Version | None = None  # as retrieved (maybe a portfolio link)
        self._source: _versions.Version | None = None  # the original version
        self._saved: dict[str, Any] = {}
        self._held: list[str] = []  # digests this draft needs; see _hold()
        self._draft_record = None
        self._deferred: dict[str, str] = {}  # entry path -> local file, for skip_cache
        self._staged_in = None  # the repository a draft without a project stored its content in

    # -- construction from a logged version -----------------------------------
    @classmethod
    def _from_version(cls, context: "Context", version: _versions.Version) -> "Artifact":
        self = cls.__new__(cls)
        source = _links.source_of(context.repo.git, version) if version.kind == "link" else version
        Artifact.__init__(self, source.collection.name, source.facts["type"])
        self._context = context
        self._bind(version, source)
        return self

    def _bind(self, version: _versions.Version, source: _versions.Version) -> None:
        self._version, self._source = version, source
        self._name = source.collection.name
        self._type = source.facts["type"]
        self._entries = None  # loaded on first use
        self._logged_dirs, self._pending = self._pending, []  # get_added_local_path_name asks them
        self._changes = {}
        self._base_tree = None
        self._final = True
        self._load_attrs()

    def _load_attrs(self) -> None:
        assert self._source is not None and self._context is not None
        src = self._source
        current = _attrs.read_attrs(self._context.repo.git, src.collection, src.number)
        a = current if current is not None else src.facts.get("attrs", {})
        self._description = a.get("description")
        self._metadata = copy.deepcopy(a.get("metadata") or {})
        self._ttl = ttl_from_record(a.get("ttl", ArtifactTTL.INHERIT))
        self._tags = list(a.get("tags") or [])
        self._updated_at = a.get("updated_at")
        self._aliases = _aliases.aliases_of(self._context.repo.git, self._version)
        self._saved = {
            "description": self._description,
            "metadata": copy.deepcopy(self._metadata),
            "ttl": self._ttl,
            "tags": list(self._tags),
            "aliases": list(self._aliases),
        }

    def _attrs_record(self) -> dict[str, Any]:
        return {
            "description": self._description,
            "metadata": canonical_metadata(self._metadata),
            "ttl": ttl_to_record(self._ttl),
            "tags": list(self._tags),
        }

    # -- identity ---------------------------------------------------------------
    def is_draft(self) -> bool:
        """True until the artifact is logged."""
        return self._version is None

    @property
    def id(self) -> str | None:
        """The artifact's ID (its version commit id); None for a draft."""
        return str(self._source.commit) if self._source is not None else None

    @property
    def name(self) -> str:
        """``collection:vN`` in the collection it was retrieved from; the bare name for a draft."""
        if self._version is None:
            return self._name
        return f"{self._version.collection.name}:v{self._version.number}"

    @property
    @_logged
    def version(self) -> str:
        return f"v{self._version.number}"

    @property
    @_logged
    def entity(self) -> str:
        return self._version.collection.entity

    @property
    @_logged
    def project(self) -> str:
        return self._version.collection.project

    @property
    def qualified_name(self) -> str:
        return f"{self.entity}/{self.project}/{self.name}"

    @property
    @_logged
    def collection(self):
        return ArtifactCollection(self._context, self._version.collection, Artifact)

    @property
    @_logged
    def source_entity(self) -> str:
        return self._source.collection.entity

    @property
    @_logged
    def source_project(self) -> str:
        return self._source.collection.project

    @property
    def source_name(self) -> str:
        if self._source is None:
            return self._name
        return f"{self._source.collection.name}:v{self._source.number}"

    @property
    def source_qualified_name(self) -> str:
        return f"{self.source_entity}/{self.source_project}/{self.source_name}"

    @property
    @_logged
    def source_version(self) -> str:
        return f"v{self._source.number}"

    @property
    @_logged
    def source_collection(self):
        return ArtifactCollection(self._context, self._source.collection, Artifact)

    @property
    def type(self) -> str:
        return self._type or "unspecified"

    @property
    def incremental(self) -> bool:
        """Whether logging this draft keeps the collection's latest files it does not change (W&B's
        ``Artifact.incremental``)."""
        return self._incremental

    @property
    def use_as(self) -> str | None:
        return self._use_as

    @property
    def distributed_id(self) -> str | None:
        """The id of the distributed draft this artifact was upserted into or finished from
        (``Run.upsert_artifact``); None otherwise. Settable, as in W&B."""
        return self._distributed_id

    @distributed_id.setter
    def distributed_id(self, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise UsageError(f"distributed_id must be a string or None, not {value!r:.60}")
        self._distributed_id = value

    @property
    @_logged
    def commit_hash(self) -> str:
        return str(self._source.commit)

    @property
    @_logged
    def author(self) -> dict[str, str]:
        """Who logged this version, ``{"name", "email"}`` (artvcs: recorded apart from the entity)."""
        who = _versions.author(self._context.repo.git, self._source)
        return {"name": who.name, "email": who.email}

    @property
    @_logged
    def created_at(self) -> str:
        return self._source.facts["created_at"]

    @property
    @_logged
    def updated_at(self) -> str:
        """When an attribute or alias was last edited (the creation time if never)."""
        return self._updated_at or self.created_at

    @property
    def state(self) -> str:
        """PENDING (draft), COMMITTED, or DELETED."""
        if self._version is None:
            return PENDING
        v = self._version
        live = _versions.version_commit(self._context.repo.git, v.collection, v.number)
        return COMMITTED if live == v.commit else DELETED

    # -- contents -----------------------------------------------------------------
    @property
    def manifest(self) -> ArtifactManifest:
        """The artifact's entries by path (W&B's ``manifest.entries``)."""
        return ArtifactManifest(self._entry_map())

    def _entry_map(self) -> dict[str, ArtifactManifestEntry]:
        if self._pending:
            adding.materialize(self)
        if self._entries is None:
            repo = self._context.repo.git
            self._entries = {
                e.path: ArtifactManifestEntry._of(e, artifact=self)
                for e in _manifest.iter_entries(repo, self._source.manifest)
            }
        return self._entries

    def _entry_count(self) -> int:
        """How many entries the draft holds, without making a pending add_dir's entries."""
        return len(self._entry_map()) if not self._pending else sum(p.count() for p in self._pending)

    @property
    def digest(self) -> str:
        """blake3 over the canonical (path, entry digest) listing."""
        if self._source is not None:
            return self._source.facts["digest"]
        return _manifest.manifest_digest(e.to_entry() for e in self._entry_map().values())

    @property
    def size(self) -> int:
        """Total bytes, references included."""
        if self._source is not None:
            return int(self._source.facts["size"])
        return sum(e.size or 0 for e in self._entry_map().values())

    @property
    @_logged
    def file_count(self) -> int:
        """The number of files, references included (W&B: only once logged)."""
        return int(self._source.facts["file_count"])

    # -- mutable attributes ----------------------------------------------------------
    @property
    def description(self) -> str | None:
        return self._description

    @description.setter
    def description(self, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise UsageError(f"description must be a string or None, not {value!r:.60}")
        self._description = value

    @property
    def metadata(self) -> dict[str, Any]:
        """User metadata; in-place edits persist on save()."""
        return self._metadata

    @metadata.setter
    def metadata(self, value: dict[str, Any]) -> None:
        self._metadata = check_metadata(value)

    @property
    def ttl(self) -> _dt.timedelta | None:
        """Time to live: a timedelta, None (never expires), or the project default when inherited."""
        if self._ttl == ArtifactTTL.INHERIT:
            if self._version is None:
                raise ArtifactNotLoggedError(self._name, "ttl")
            seconds = _config.project_ttl(self._context.repo.config_path, self._source.collection.project)
            return _dt.timedelta(seconds=seconds) if seconds is not None else None
        return self._ttl

    @ttl.setter
    def ttl(self, value: _dt.timedelta | None | str) -> None:
        ttl_to_record(value)
        self._ttl = value

    @property
    def tags(self) -> list[str]:
        return self._tags

    @tags.setter
    def tags(self, value: list[str]) -> None:
        self._tags = [check_name(t, "tag") for t in value]

    @property
    @_logged
    def aliases(self) -> list[str]:
        """Aliases of this version in the collection it was retrieved from (``latest`` included);
        a draft's aliases are given to ``log_artifact``, as in W&B."""
        return self._aliases

    @aliases.setter
    @_logged
    def aliases(self, value: list[str]) -> None:
        if isinstance(value, str) or not all(isinstance(a, str) for a in value):
            raise UsageError(f"aliases must be a list of strings, not {value!r:.60}")
        self._aliases = list(value)

    # -- adding -------------------------------------------------------------------
    def _repo(self):
        """Where this draft stores what it adds: its project's repository once it has one, else the
        one found (or made) from here, remembered so that logging elsewhere can bring the content."""
        if self._context is not None:
            return self._context.repo
        if self._staged_in is None:
            self._staged_in = find_or_create()
        return self._staged_in

    def _put(self, staged_entry: Entry, local_path: str | None, overwrite: bool, what: str) -> ArtifactManifestEntry:
        entries = self._entry_map()
        old = entries.get(staged_entry.path)
        if old is not None and not overwrite and old.to_entry() != staged_entry:
            raise UsageError(
                f"{what}: the artifact already has a different {staged_entry.path!r}; "
                "pass overwrite=True (add_file) or merge=True (add_dir) to replace it"
            )
        item = ArtifactManifestEntry._of(staged_entry, local_path, self)
        if staged_entry.ref is None:
            self._held.append(staged_entry.digest)
        entries[item.path] = item
        self._changes[item.path] = staged_entry
        if local_path:
            self._local_paths[local_path if local_path[0] == "/" else os.path.abspath(local_path)] = item.path
        return item

    @_draft
    def add_file(
        self,
        local_path: str,
        name: str | None = None,
        is_tmp: bool | None = False,
        skip_cache: bool | None = False,
        policy: str | None = "mutable",
        overwrite: bool = False,
    ) -> ArtifactManifestEntry:
        """Add a local file (snapshotted now unless ``policy="immutable"``)."""
        return adding.add_file(self, local_path, name, is_tmp, skip_cache, policy, overwrite)

    @_draft
    def add_dir(
        self,
        local_path: str,
        name: str | None = None,
        skip_cache: bool | None = False,
        policy: str | None = "mutable",
        merge: bool = False,
    ) -> None:
        """Add every file below a local folder, under ``name`` (default: the artifact's root)."""
        adding.add_dir(self, local_path, name, skip_cache, policy, merge)

    @_draft
    def add_reference(self, uri, name: str | None = None, checksum: bool = True, max_objects: int | None = None) -> list[ArtifactManifestEntry]:
        """Track a file or prefix by URI without storing its bytes (W&B reference semantics)."""
        if isinstance(uri, ArtifactManifestEntry):
            return [self._put(adding.entry_reference(uri, name), None, True, "add_reference")]
        from artvcs.draft.references import resolve_reference  # here: logging local files never needs it

        return [self._put(e, None, True, "add_reference") for e in resolve_reference(uri, name, checksum, max_objects)]

    @_draft
    def add(self, obj, name: str) -> ArtifactManifestEntry:
        """Add a media object (Table, Image, ...) under ``name``."""
        from artvcs import media  # imported on first use: its 20 modules are not needed to start

        path = normalize_entry_path(name)
        parts = media.encode(obj, path)
        json_path = media.json_path(obj, path)
        source = None if self._final else media_source.logged_entry(obj, parts[json_path], self)
        if source is not None:
            # already in a logged artifact: a reference to that entry, as W&B makes (its parts,
            # content-addressed, are stored here as well so the object reads back from this artifact)
            self._add_media_parts({p: data for p, data in parts.items() if p != json_path})
            self.add_reference(source, json_path)
        else:
            self._add_media_parts(parts)
        media_source.remember(obj, self, json_path)
        return self._entry_map()[json_path]

    def _add_media_parts(self, parts: dict[str, bytes]) -> None:
        """Store a media object's entries (path -> bytes) in this draft. A finalized artifact takes
        none: it must hold them already (``Table.to_json(artifact)`` of a table read from it)."""
        from artvcs.plumbing.hashing import hash_bytes

        if self._final:
            entries = self._entry_map()
            missing = [p for p, data in parts.items() if p not in entries or entries[p].digest != hash_bytes(data)]
            if missing:
                raise ArtifactFinalizedError(self.name, "add")
            return
        store = self._repo().store
        for path, data in parts.items():
            digest = store.put_bytes(data)
            self._put(Entry(normalize_entry_path(path), digest, len(data)), None, True, "add")
        self._hold()

    def _media_reader(self):
        """A reader of this artifact's entries for decoding media, every byte verified by the store.
        A draft reads what it has stored so far (W&B's ``Table.from_json(doc, draft)`` works too)."""
        from artvcs.logged.materialize import with_remote
        from artvcs.media.base import Reader

        entries = self._entry_map()
        repo = self._context.repo if self._context is not None else self._repo()
        store = repo.store

        def read(path: str) -> bytes:
            e = entries[path]
            if self._version is None:  # a draft: its content is in this repository's store, or nowhere yet
                return store.read(e.digest, f"entry {path!r}")
            return with_remote(repo, [e], lambda: store.read(e.digest, f"entry {path!r}"))

        return Reader(frozenset(entries), read)

    def __setitem__(self, name: str, item) -> ArtifactManifestEntry:
        return self.add(item, name)

    @contextlib.contextmanager
    def new_file(self, name: str, mode: str = "w", encoding: str | None = None) -> Generator[IO, None, None]:
        """Open a new file; when the block ends it is added to the artifact as ``name``."""
        with adding.new_file(self, name, mode, encoding) as f:
            yield f

    @_draft
    def remove(self, item) -> None:
        """Remove an entry, or every entry under a folder path."""
        adding.remove(self, item)

    def _hold(self) -> None:
        """Record the digests this draft needs, so gc keeps them until it is logged."""
        if not self._held:
            return
        if self._draft_record is None:
            from artvcs.plumbing.drafts import DraftRecord

            self._draft_record = DraftRecord(self._repo().gitdir)
        self._draft_record.add(self._held)
        self._held = []

    def _hold_now(self, digests: list[str]) -> None:
        """List ``digests`` in this draft's record now (staging calls this before it trusts what it
        did not look for in the store; see staging.stage_dir)."""
        self._held.extend(digests)
        self._hold()

    def _release(self) -> None:
        if self._draft_record is not None:
            self._draft_record.close()
            self._draft_record = None

    def get_added_local_path_name(self, local_path: str) -> str | None:
        """The entry path a local file was added under, or None."""
        self._entry_map()
        path = os.path.abspath(local_path)
        found = self._local_paths.get(path)
        return adding.added_path(self._logged_dirs, path) if found is None and self._logged_dirs else found

    @_logged
    def get_entry(self, name: str) -> ArtifactManifestEntry:
        """The entry at ``name``; KeyError if there is none."""
        path = normalize_entry_path(name)
        entry = self._entry_map().get(path)
        if entry is None:
            raise EntryNotFoundError(f"{self.name} has no entry {path!r}: list its files with artifact.files()")
        return entry

    def get_path(self, name: str) -> ArtifactManifestEntry:
        """Deprecated: use get_entry."""
        warnings.warn("get_path is deprecated; use get_entry", DeprecationWarning, stacklevel=2)
        return self.get_entry(name)

    @_logged
    def get(self, name: str):
        """The media object stored under ``name`` (None if there is none)."""
        from artvcs.media import codec  # imported on first use: the media modules are not needed to start

        reader = self._media_reader()
        path = codec.find(normalize_entry_path(name), reader.entries)
        if path is None:
            return None
        obj = reader.object(path)
        media_source.remember(obj, self, path)
        return obj

    def __getitem__(self, name: str):
        return self.get(name)

    # -- lifecycle -------------------------------------------------------------------
    def finalize(self) -> None:
        """Freeze the contents; done automatically when logged."""
        self._final = True

    @_logged
    def new_draft(self) -> "Artifact":
        """A draft with this version's type, description, metadata and contents (not aliases)."""
        draft = Artifact(self._source.collection.name, self._type, self._description, copy.deepcopy(self._metadata))
        draft._context = self._context
        draft._entries = {p: ArtifactManifestEntry._of(e.to_entry(), None, draft) for p, e in self._entry_map().items()}
        draft._base_tree = self._source.manifest
        draft._draft_of = self._source.collection
        return draft

    def save(self, project: str | None = None, settings: Any = None) -> None:
        """Persist changes: log a draft (through the current run, or a new ``auto`` run), or record edits."""
        if self._version is None:
            run = current_run()
            if run is not None and project is None:
                run.log_artifact(self)
            else:
                with start_run(Artifact, project=project, job_type="auto") as auto:
                    auto.log_artifact(self)
            return
        from artvcs.logged import editing

        editing.save_edits(self)

    def wait(self, timeout: int | None = None) -> "Artifact":
        """Logging is synchronous here, so a logged artifact is always ready."""
        if self._version is None:
            raise ArtifactNotLoggedError(self._name, "wait")
        return self

    @_logged
    def delete(self, delete_aliases: bool = False) -> None:
        """Delete this version (or, for a portfolio member, only the link)."""
        lifecycle.delete_version(self._context, self._version, delete_aliases)
        self._aliases = []

    @_logged
    def link(self, target_path: str, aliases: list[str] | None = None) -> None:
        """Add this version to a portfolio (``portfolio``, ``project/portfolio`` or ``entity/project/portfolio``).

        As W&B's: what the target leaves out is the current run's entity/project, or without a
        run the source version's (not the project the artifact was retrieved through)."""
        run = current_run()
        if run is not None and run.context.repo.gitdir == self._context.repo.gitdir:
            run.link_artifact(self, target_path, aliases)
            return
        src = self._source.collection
        lifecycle.link(context_for(self._context.repo, src.entity, src.project), self._source, target_path, aliases or [])

    @_logged
    def unlink(self) -> None:
        """Remove this portfolio membership; ValueError if this artifact is not a link."""
        if self._version.kind != "link":
            # W&B's words (wandb/sdk/artifacts/artifact.py unlink at v0.17.9)
            raise UsageError(f"Artifact {self.qualified_name!r} is not a linked artifact and cannot be unlinked.  "
                             "To delete it, use 'Artifact.delete' instead.")
        lifecycle.delete_version(self._context, self._version, True)

    # -- files on disk ---------------------------------------------------------------
    def _default_root(self, include_version: bool = True) -> str:
        """``./artifacts/<source name>`` as in W&B (``checkout`` leaves the version out, so the
        same folder is checked out to each version in turn); ``ARTVCS_ARTIFACT_DIR`` (or W&B's
        ``WANDB_ARTIFACT_DIR``) names another folder than ``./artifacts``."""
        name = self.source_name if include_version else self.source_name.split(":")[0]
        base = os.environ.get("ARTVCS_ARTIFACT_DIR") or os.environ.get("WANDB_ARTIFACT_DIR") or os.path.join(".", "artifacts")
        return os.path.join(base, name)

    @_logged
    def download(
        self,
        root: str | None = None,
        allow_missing_references: bool = False,
        skip_cache: bool | None = None,
        path_prefix: str | None = None,
    ) -> str:
        """Write the artifact's files under ``root``, leaving other files there alone."""
        from artvcs.logged import materialize

        return materialize.download(self, root or self._default_root(), allow_missing_references, skip_cache, path_prefix)

    @_logged
    def checkout(self, root: str | None = None) -> str:
        """Make ``root`` exactly this artifact: other files in it are deleted."""
        from artvcs.logged import materialize

        root = root or self._default_root(include_version=False)
        materialize.checkout(self, root)
        return os.path.abspath(root)

    @_logged
    def verify(self, root: str | None = None) -> None:
        """Raise ValueError unless ``root`` holds exactly this artifact's files, unchanged."""
        from artvcs.logged import materialize

        materialize.verify(self, root or self._default_root())

    @_logged
    def file(self, root: str | None = None) -> str:
        """Download a single-file artifact; return the file's path."""
        entries = self._entry_map()
        if len(entries) != 1:
            raise UsageError(f"file() needs an artifact with exactly one file; {self.name} has {len(entries)}: use download()")
        (path,) = entries
        root = root or self._default_root()
        self.download(root)
        return os.path.join(root, *path.split("/"))

    @_logged
    def files(self, names: list[str] | None = None, per_page: int = 50):
        """Iterate over the artifact's files (``File`` objects), ``per_page`` at a time."""
        from artvcs.logged.files import ArtifactFiles

        return ArtifactFiles(self, names, per_page)

    # -- lineage ----------------------------------------------------------------------
    @_logged
    def logged_by(self) -> "Run | None":
        """The run that logged this version."""
        from artvcs.logged import lineage

        found = lineage.logged_by(self._context, self._source)
        return None if found is None else Run(*found, Artifact)

    @_logged
    def used_by(self) -> list["Run"]:
        """The runs that used this version."""
        from artvcs.logged import lineage

        return [Run(ctx, rec, Artifact) for ctx, rec in lineage.used_by(self._context, self._source)]

    @_logged
    def json_encode(self) -> dict[str, Any]:
        return {
            "_type": "artifactVersion",
            "_version": "v0",
            "id": self.id,
            "version": self.source_version,
            "sequenceName": self._source.collection.name,
            "usedAs": self._use_as,
        }

    def __repr__(self) -> str:
        return f"<Artifact {self.name} type={self.type} state={self.state}>"

    def __del__(self) -> None:
        if getattr(self, "_draft_record", None) is not None:
            self._draft_record.close()
