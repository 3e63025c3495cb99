"""Runs: the ``Run`` that ``artvcs.init()`` returns, and starting one.

A run is the unit of lineage: it records its job type, config, the host git
commit (and whether the work tree was dirty), when it started and finished,
and every version it used and logged. The record is written when the run
starts and updated as it goes, so a crashed run still leaves a trace.

Below ``Artifact`` (which returns runs from ``logged_by``/``used_by`` and starts
one in ``save``): the Artifact class a run makes and reads is passed in.
"""
from __future__ import annotations

import atexit
import copy
import os
import secrets
import string
import sys
from typing import TYPE_CHECKING, Any

from artvcs.core import aliases as _aliases
from artvcs.core import hostgit
from artvcs.core.aliases import check_user_aliases
from artvcs.core.context import Context, context_for, current_run, find_or_create, set_current_run
from artvcs.core.resolve import resolve_version
from artvcs.core.validation import check_metadata
from artvcs.draft import adding, commit, distributed
from artvcs.errors import DistributedIdError, RefusedError
from artvcs.logged import folders, lifecycle
from artvcs.plumbing import identity
from artvcs.plumbing import runs as _runs
from artvcs.plumbing import versions as _versions
from artvcs.plumbing.errors import ArtvcsError, UsageError
from artvcs.plumbing.identity import Author
from artvcs.plumbing.names import check_name
from artvcs import run_config, run_log, run_resume, run_settings
from artvcs.run_models import ModelMethods

if TYPE_CHECKING:
    from artvcs.artifact import Artifact

_ALPHABET = string.ascii_lowercase + string.digits


class Run(ModelMethods):
    """A process that uses and logs artifacts (W&B's ``wandb.Run``; its model shortcuts are in
    :class:`artvcs.run_models.ModelMethods`)."""

    def __init__(self, context: Context, record: dict[str, Any], artifact_class: "type[Artifact]", live: bool = False) -> None:
        self.context = context
        self._record = record
        self._live = live
        self._config: run_config.Config | None = None  # made on first use of ``config`` while live
        # Artifact is the layer above: it is passed in so that this module never imports it.
        self._artifact_class = artifact_class

    # -- the record ------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._record["id"]

    @property
    def name(self) -> str:
        return self._record.get("name") or self._record["id"]

    @property
    def entity(self) -> str:
        return self._record["entity"]

    @property
    def project(self) -> str:
        return self._record["project"]

    @property
    def job_type(self) -> str | None:
        return self._record.get("job_type")

    @property
    def group(self) -> str:
        """The run's group (``init(group=...)``; "" when none), as W&B's ``Run.group``: runs of one
        distributed job share it, and it is their default ``distributed_id``."""
        return self._record.get("group") or ""

    @property
    def config(self) -> dict[str, Any]:
        """The run's configuration; while the run runs, W&B's ``Config`` (:mod:`artvcs.run_config`):
        set keys as items or attributes, artifacts in it are used by the run."""
        if not self._live:
            return self._record.get("config") or {}
        if self._config is None:
            self._config = run_config.Config(self._record.get("config") or {},
                                             lambda v: isinstance(v, self._artifact_class),
                                             self._use_from_config, self._write_config)
        return self._config

    @property
    def summary(self) -> dict[str, Any]:
        """The last value logged for each key (W&B's ``run.summary``), as JSON values; a table's is
        where its ``run_table`` artifact holds it. A copy: change it through ``log``."""
        return copy.deepcopy(self._record.get("summary") or {})

    @property
    def step(self) -> int:
        """The step the next ``log`` records at (W&B's ``run.step``): the count of committed logs,
        or past the last ``step`` given."""
        return int(self._record.get("step") or 0)

    @property
    def settings(self) -> run_settings.Settings:
        """The run's settings under W&B's names, frozen (W&B's ``run.settings``)."""
        return run_settings.Settings(
            base_url=run_settings.BASE_URL, entity=self.entity, project=self.project, run_id=self.id,
            run_name=self.name, run_group=self.group or None, run_job_type=self.job_type,
            root_dir=self.context.repo.worktree,
        )

    def log(self, data: dict[str, Any], step: int | None = None, commit: bool | None = None) -> None:
        """Record ``data``'s values as the run's summary (W&B's ``run.log``; see :mod:`artvcs.run_log`):
        tables and DataFrames are logged as ``run_table`` artifacts, media other than tables are refused."""
        self._check_live("log")
        run_log.check(data)
        at = run_log.next_step(self.step, step)
        if at is None:
            return
        values = run_log.to_summary(self, data)
        commit = step is None if commit is None else bool(commit)
        after = at + 1 if commit else at

        def change(rec: dict) -> dict:
            rec["summary"] = {**(rec.get("summary") or {}), **values}
            rec["step"] = max(int(rec.get("step") or 0), after)
            return rec

        self._update(change, "log")

    def _use_from_config(self, key: str, value: Any) -> "Artifact":
        """W&B's ``Run._config_artifact_callback``: use the artifact a config value stands for as ``key``."""
        if run_config.is_artifact_dict(value):
            value = value.get("id")
        elif run_config.is_artifact_string(value):
            value = run_config.artifact_spec(value)
        return self.use_artifact(value, use_as=key)

    def _write_config(self, recorded: dict[str, Any]) -> None:
        def change(rec: dict) -> dict:
            rec["config"] = {**(rec.get("config") or {}), **recorded}
            return rec

        self._update(change, "config")

    @property
    def path(self) -> str:
        return f"{self.entity}/{self.project}/{self.id}"

    @property
    def git(self) -> dict[str, Any] | None:
        """Host repository facts: commit, branch, dirty, root."""
        return self._record.get("git")

    @property
    def state(self) -> str:
        """running, finished, failed or crashed (its process died before finishing it), as in W&B."""
        return _runs.state_of(self._record)

    @property
    def started_at(self) -> str:
        return self._record["started_at"]

    @property
    def finished_at(self) -> str | None:
        return self._record.get("finished_at")

    @property
    def user(self) -> Author | None:
        """Who ran it (name, email; W&B's ``Run.user``), apart from its entity; None for runs recorded before it was."""
        found = self._record.get("user")
        if not isinstance(found, dict):
            return None
        return Author(str(found.get("name", "")), str(found.get("email", "")))

    def _artifacts(self, key: str) -> list["Artifact"]:
        out = []
        for item in self._record.get(key, []):
            try:
                version = _versions.read_version(self.context.repo.git, item["commit"])
                out.append(self._artifact_class._from_version(self.context, version))
            except KeyError:
                continue
        return out

    def logged_artifacts(self) -> list["Artifact"]:
        return self._artifacts("logged")

    def used_artifacts(self) -> list["Artifact"]:
        return self._artifacts("used")

    def _update(self, change, message: str) -> None:
        repo = self.context.repo.git
        self._record = _runs.write_run(repo, self.entity, self.project, self.id, lambda old: change(old or self._record), message)

    def _note(self, key: str, version: _versions.Version, extra: dict[str, Any] | None = None) -> None:
        item = {
            "entity": version.collection.entity,
            "project": version.collection.project,
            "name": version.collection.name,
            "version": version.number,
            "commit": str(version.commit),
            **(extra or {}),
        }

        def change(rec: dict) -> dict:
            lst = rec.setdefault(key, [])
            if item not in lst:
                lst.append(item)
            return rec

        self._update(change, f"{key} {version.collection.name}:v{version.number}")

    def _declare(self, what: str, key: str, artifact: Any, aliases: list[str] | None, use_as: str | None = None) -> "Artifact":
        """W&B's public-API ``Run.log_artifact``/``use_artifact`` (wandb/apis/public/runs.py at v0.17.9):
        record a logged artifact as this finished run's output or input. Anything else is refused
        before anything changes, with W&B's CommError."""
        if not isinstance(artifact, self._artifact_class):
            raise RefusedError(f"{what} on finished run {self.path} takes an artifact from Api().artifact(), not {artifact!r:.60}")
        if artifact.is_draft():
            raise RefusedError(f"{what} on finished run {self.path}: {artifact.name!r} is a draft; only logged artifacts "
                               "can be declared (log it with a running run)")
        src = artifact._source
        if key == "logged" and (src.collection.entity, src.collection.project) != (self.entity, self.project):
            raise RefusedError(f"log_artifact: a run can't log an artifact to a different project ({artifact.source_qualified_name} "
                               f"is not in {self.entity}/{self.project})")
        wanted = check_user_aliases(list(aliases or [])) if key == "logged" else []
        for a in wanted:
            _aliases.move_alias(self.context.repo.git, src.collection, a, src.commit, f"log (run {self.id})")
        self._note(key, src, {"use_as": use_as} if use_as else None)
        return artifact

    def _check_live(self, what: str) -> None:
        if not self._live:
            raise UsageError(f"run {self.path} is finished: '{what}' needs a running run; start one with artvcs.init()")

    # -- W&B's run methods -----------------------------------------------------
    def log_artifact(
        self,
        artifact_or_path: "Artifact | str | os.PathLike",
        name: str | None = None,
        type: str | None = None,
        aliases: list[str] | None = None,
        tags: list[str] | None = None,
    ) -> "Artifact":
        """Log a draft (or a file/folder path) as a new version; return the artifact. On a finished run
        (from ``Api().run``) only declare a logged artifact its output, as W&B's public API does."""
        if not self._live:
            return self._declare("log_artifact", "logged", artifact_or_path, aliases)
        if isinstance(aliases, str):
            aliases = [aliases]
        artifact = self._prepare_artifact(artifact_or_path, name, type)
        if not artifact.is_draft():
            for a in check_user_aliases(list(aliases or [])):
                _aliases.move_alias(self.context.repo.git, artifact._version.collection, a, artifact._version.commit, "log")
            artifact._load_attrs()
            self._note("logged", artifact._source)
            return artifact
        artifact.finalize()
        count = artifact._entry_count()  # in memory now; once logged it would be read back from the manifest
        root = (adding.pending_root(artifact, count) if artifact._pending
                else folders.logged_root(artifact._whole_dirs, artifact._local_paths, count))
        try:
            version = commit.log(self.context, artifact, {"entity": self.entity, "project": self.project, "id": self.id}, list(aliases or []), tags)
        except BaseException:
            artifact._final = False  # a refused log leaves the draft editable
            raise
        lifecycle.expire(self.context, version.collection)
        self._note("logged", version)
        if root is not None:
            folders.remember(self.context, str(version.commit), root, "log")
        return artifact

    def _prepare_artifact(self, artifact_or_path: "Artifact | str | os.PathLike", name: str | None, type: str | None) -> "Artifact":
        """The artifact a log names: the one given, or a draft of the file, folder or reference
        at a path (as W&B's ``Run._prepare_artifact``)."""
        if isinstance(artifact_or_path, (str, os.PathLike)):
            path = os.fspath(artifact_or_path)
            artifact = self._artifact_class(name or f"run-{self.id}-{os.path.basename(os.path.abspath(path))}", type or "unspecified")
            # as W&B's Run._prepare_artifact (wandb/sdk/wandb_run.py at v0.17.9): a file, a folder,
            # or else anything with a scheme is a reference
            if os.path.isfile(path):
                artifact.add_file(path)
            elif os.path.isdir(path):
                artifact.add_dir(path)
            elif "://" in path:
                artifact.add_reference(path)
            else:
                raise UsageError(f"path must be a file, directory or external reference like s3://bucket/path: {path!r} is none")
        else:
            artifact = artifact_or_path
            if type is not None and artifact._type is not None and artifact._type != type:
                raise UsageError(f"log_artifact: type {type!r} does not match the artifact's type {artifact._type!r}")
            if type is not None and artifact._type is None:
                artifact._type = type
        return artifact

    # -- distributed artifacts (W&B's upsert_artifact / finish_artifact) ------------
    def _distributed_id(self, given: str | None, what: str) -> str:
        """W&B's rule: the id given, else the run's group; neither is a TypeError."""
        if given is None and not self.group:
            raise DistributedIdError(f"Cannot {what} artifact unless run is in a group or distributed_id is provided")
        return distributed.check_distributed_id(given if given is not None else self.group)

    def _draft_for(self, what: str, artifact_or_path: "Artifact | str | os.PathLike", name: str | None,
                   type: str | None, aliases: list[str] | str | None, distributed_id: str | None) -> tuple["Artifact", str, list[str]]:
        self._check_live(f"{what}_artifact")
        did = self._distributed_id(distributed_id, what)
        wanted = check_user_aliases([aliases] if isinstance(aliases, str) else list(aliases or []))
        artifact = self._prepare_artifact(artifact_or_path, name, type)
        if not artifact.is_draft():
            raise UsageError(f"{what}_artifact: {artifact.qualified_name} is already logged; pass a new artifact (a draft)")
        artifact.finalize()
        artifact.distributed_id = did
        return artifact, did, wanted

    def upsert_artifact(
        self,
        artifact_or_path: "Artifact | str | os.PathLike",
        name: str | None = None,
        type: str | None = None,
        aliases: list[str] | None = None,
        distributed_id: str | None = None,
    ) -> "Artifact":
        """Add the artifact's entries to the draft version that the runs sharing ``distributed_id``
        (default: this run's group) write together; ``finish_artifact`` makes it a version. Runs
        in other processes may upsert at the same time (see :mod:`artvcs.draft.distributed`)."""
        artifact, did, wanted = self._draft_for("upsert", artifact_or_path, name, type, aliases, distributed_id)
        ctx = self.context
        distributed.upsert(ctx, artifact, self.id, did, wanted)
        artifact._context = ctx
        return artifact

    def finish_artifact(
        self,
        artifact_or_path: "Artifact | str | os.PathLike",
        name: str | None = None,
        type: str | None = None,
        aliases: list[str] | None = None,
        distributed_id: str | None = None,
    ) -> "Artifact":
        """Make the draft of ``distributed_id`` (default: this run's group), with this artifact's
        entries added, a version logged by this run; a later upsert starts the next version."""
        artifact, did, wanted = self._draft_for("finish", artifact_or_path, name, type, aliases, distributed_id)
        ref, state, draft_aliases = distributed.take(self.context, artifact, self.id, did)
        try:
            self.log_artifact(artifact, aliases=list(dict.fromkeys(draft_aliases + wanted)))
        except BaseException:
            if state is not None:
                distributed.release(self.context, ref, state)
            raise
        if state is not None:
            distributed.drop(self.context, ref, state)
        return artifact

    def use_artifact(
        self,
        artifact_or_name: "Artifact | str",
        type: str | None = None,
        aliases: list[str] | None = None,
        use_as: str | None = None,
    ) -> "Artifact":
        """Declare that this run reads an artifact; return it (a draft is logged first; a finished run
        takes only logged artifacts, as W&B's public API)."""
        if not self._live:
            return self._declare("use_artifact", "used", artifact_or_name, aliases, use_as)
        if isinstance(artifact_or_name, self._artifact_class):
            artifact = artifact_or_name
            if artifact.is_draft():
                self.log_artifact(artifact, aliases=aliases)
        else:
            artifact = self._artifact_class._from_version(self.context, resolve_version(self.context, artifact_or_name))
        if type is not None and artifact.type != type:
            raise UsageError(f"use_artifact: {artifact.name} has type {artifact.type!r}, not {type!r}")
        artifact._use_as = use_as or artifact._use_as
        self._note("used", artifact._source, {"use_as": use_as} if use_as else None)
        return artifact

    def link_artifact(self, artifact: "Artifact", target_path: str, aliases: list[str] | None = None) -> None:
        """Link a logged artifact (a draft is logged first) into a portfolio."""
        self._check_live("link_artifact")
        if artifact.is_draft():
            self.log_artifact(artifact)
        # a target without entity/project is in this run's, as in W&B's Run.link_artifact
        lifecycle.link(self.context, artifact._source, target_path, aliases or [])

    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        """Mark the run finished; further logging needs a new run."""
        if not self._live:
            return
        code = exit_code

        def change(rec: dict) -> dict:
            rec["finished_at"] = _versions.utcnow()
            rec["exit_code"] = code
            rec["state"] = "finished" if code in (0, None) else "failed"
            return rec

        self._update(change, "finish")
        self._live = False
        if current_run() is self:
            set_current_run(None)

    def discard(self) -> None:
        """End a run that a command started for itself after that command failed: the run's ref goes
        when it recorded no version (a failed command leaves nothing, as a failed ``git commit``
        does); otherwise (or when the newest version of a collection names it: the command failed after the
        version was made) it is finished as failed, since that version names it."""
        if not self._live:
            return
        git = self.context.repo.git
        if not self._names_a_tip() and _runs.discard_run(git, self.entity, self.project, self.id):
            self._live = False
            if current_run() is self:
                set_current_run(None)
            return
        self.finish(exit_code=1)

    def _names_a_tip(self) -> bool:
        """True if the newest version of a collection of this run's project was logged by this run
        (or that cannot be told: then the run is kept)."""
        git = self.context.repo.git
        try:
            for coll in _versions.iter_collections(git, self.entity, self.project):
                tip = _versions.collection_tip(git, coll)
                if tip is not None and (tip.facts.get("run") or {}).get("id") == self.id:
                    return True
        except ArtvcsError:
            return True
        return False

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # As W&B: an exception out of the block fails the run (exit code 1); the exception goes on.
        self.finish(exit_code=1 if exc_type is not None else 0)

    def __repr__(self) -> str:
        return f"<Run {self.path} job_type={self.job_type} {self.state}>"


def start(
    artifact_class: "type[Artifact]",
    project: str | None = None,
    entity: str | None = None,
    job_type: str | None = None,
    name: str | None = None,
    config: dict[str, Any] | None = None,
    dir: str | None = None,
    id: str | None = None,
    resume: bool | str | None = None,
    group: str | None = None,
    **_ignored: Any,
) -> Run:
    """Start a run in the repository found from ``dir`` (or the current folder); create one if none exists.
    ``id`` names the run as W&B's ``wandb.init(id=...)`` does; without ``resume`` it must not be in use in
    the project. ``resume`` ("allow", "must", "never", "auto"/True) resumes a run as W&B does
    (see :mod:`artvcs.run_resume`)."""
    mode, id = run_resume.normalize(resume, id)
    if id is not None:
        check_name(id, "run id")  # before anything changes
    if (previous := current_run()) is not None:
        previous.finish()
    repo = find_or_create(dir, entity=entity, project=project)
    ctx = context_for(repo, entity, project)
    if job_type is not None:
        check_name(job_type, "job_type")
    if group is not None and (not isinstance(group, str) or len(group) > 128 or any(ord(c) < 32 for c in group)):
        raise UsageError(f"invalid group {group!r:.80}: use at most 128 characters without control characters")
    given = dict(config or {})
    artifacts = {k: v for k, v in given.items() if _artifact_in_config(artifact_class, v)}
    probe = run_config.Config({}, lambda v: isinstance(v, artifact_class), None, None)  # type: ignore[arg-type]
    probe._refuse_nested(given, False)  # before anything is written, as W&B's init does
    cfg = check_metadata({k: v for k, v in given.items() if k not in artifacts})
    if mode == "auto" and id is None:
        id = run_resume.auto_candidate(repo.git, ctx.entity, ctx.project)
    run_id = id if id is not None else "".join(secrets.choice(_ALPHABET) for _ in range(8))
    process = _runs.this_process()  # host, pid, pid_start: to tell a crashed run later
    record = {
        "id": run_id,
        "name": name or run_id,
        "entity": ctx.entity,
        "project": ctx.project,
        "job_type": job_type,
        **({"group": group} if group else {}),
        "config": cfg,
        "git": hostgit.describe(repo.worktree),
        **process,
        **({"resume": "auto"} if mode == "auto" else {}),
        "user": {"name": (who := identity.current()).name, "email": who.email},
        "started_at": _versions.utcnow(),
        "finished_at": None,
        "used": [],
        "logged": [],
    }
    def create(old: dict[str, Any] | None) -> dict[str, Any]:
        # only a chosen id can be taken: checked inside the compare-and-swap, so it is race-free
        run_resume.check(mode, old, f"{ctx.entity}/{ctx.project}", run_id)
        if old is None:
            return record
        rec = run_resume.reopen(old, name, job_type, cfg, process, record["git"])
        return {**rec, "group": group} if group else rec

    record = _runs.write_run(repo.git, ctx.entity, ctx.project, run_id, create, "start")
    run = Run(ctx, record, artifact_class, live=True)
    set_current_run(run)
    _finish_at_exit()
    if artifacts:
        run.config.update(artifacts, allow_val_change=True)
    return run


def _artifact_in_config(artifact_class: type, value: Any) -> bool:
    return isinstance(value, artifact_class) or run_config.is_artifact_string(value) or run_config.is_artifact_dict(value)


_uncaught: list[BaseException] = []  # an exception that ended the program (W&B: the run failed)
_exit_hooks: list[bool] = []  # non-empty once the exit hooks are installed


def _finish_at_exit() -> None:
    """As W&B does: a run still open when Python exits is finished then, failed if an uncaught
    exception ended the program. (A killed process runs no exit handler: its run is crashed.)"""
    if _exit_hooks:
        return
    _exit_hooks.append(True)
    previous = sys.excepthook

    def excepthook(kind, value, tb):
        _uncaught.append(value)
        previous(kind, value, tb)

    def at_exit() -> None:
        if (run := current_run()) is not None:
            try:
                run.finish(exit_code=1 if _uncaught else 0)
            except Exception:  # the repository may be gone by now: an exit must not end in a traceback
                pass

    sys.excepthook = excepthook
    atexit.register(at_exit)
