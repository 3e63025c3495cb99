"""Small helpers for the remote tests: project folders that log versions and talk to one remote."""
from __future__ import annotations

import os
import random
from dataclasses import dataclass

import blake3

import artvcs
from artvcs.sync import pushing, remotes, sync
from artvcs.plumbing import refs, versions
from artvcs.plumbing.refs import CollectionId
from artvcs.plumbing.repository import Repository, init_repository

COLL = CollectionId("me", "proj", "mnist")
KEY_ID = "artvcstestkey"
SECRET = "artvcs-test-secret-value"


def client_env() -> dict[str, str]:
    """Credentials and settings for S3 clients: the test identity, a fixed region, no instance metadata."""
    return {
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


class Counting:
    """A backend wrapper that counts the requests made through it."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            self.calls.append(name)
            return attr(*args, **kwargs)

        return call


@dataclass
class Project:
    folder: str
    repo: Repository

    def write(self, files: dict[str, str]) -> None:
        for rel, text in files.items():
            path = os.path.join(self.folder, "data", rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)

    def log(self, files: dict[str, str] | None = None, name: str = "mnist", aliases: tuple[str, ...] = ()) -> versions.Version:
        if files:
            self.write(files)
        run = artvcs.init(dir=self.folder, job_type="test")  # first: the draft stores into the run's repository
        art = artvcs.Artifact(name, type="dataset")
        art.add_dir(os.path.join(self.folder, "data"))
        run.log_artifact(art, aliases=list(aliases))
        run.finish()
        return art._source

    def api(self) -> artvcs.Api:
        return artvcs.Api(dir=self.folder)

    def remote(self, name: str | None = None):
        return remotes.open_remote(self.repo, name)

    def push(self, *specs: str):
        return pushing.push(self.repo, self.remote(), sync.Selection.of(specs))

    def pull(self, *specs: str, content: bool = True):
        return sync.pull(self.repo, self.remote(), sync.Selection.of(specs), with_content=content)

    def numbers(self, coll: CollectionId = COLL) -> dict[int, str]:
        return {v.number: v.facts["digest"] for v in versions.iter_versions(self.repo.git, coll)}

    def aliases(self, coll: CollectionId = COLL) -> dict[str, int]:
        git = self.repo.git
        return {n.rsplit("/", 1)[1]: versions.read_version(git, o).number for n, o in refs.iter_refs(git, coll.aliases_prefix)}


class Workspace:
    def __init__(self, root) -> None:
        self.root = root

    def project(self, name: str, url: str | None = None, options: dict | None = None) -> Project:
        folder = str(self.root / name)
        repo = init_repository(folder, entity="me", project="proj")
        if url:
            remotes.add_remote(repo, "origin", url, options)
        return Project(folder, repo)

    def clone(self, name: str, url: str, options: dict | None = None, only=()) -> Project:
        folder = str(self.root / name)
        repo, _ = sync.clone(url, folder, options, only)
        return Project(folder, repo)


def random_bytes(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def write_big(project: Project, data: bytes, name: str = "big.bin") -> str:
    """Put ``data`` at data/``name`` in ``project``; its digest."""
    path = os.path.join(project.folder, "data", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return blake3.blake3(data).hexdigest()


def pushed_big(workspace: Workspace, url: str, options: dict, data: bytes) -> tuple[Project, str]:
    """Project "a" on the remote, with one version (mnist:v0) of data/big.bin holding ``data``, pushed."""
    a = workspace.project("a", url, options)
    digest = write_big(a, data)
    a.log()
    a.push()
    return a, digest
