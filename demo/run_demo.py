"""End-to-end demo of artvcs on the embedded local store (no server).

It makes a throw-away project in ./demo-workdir (inside this checkout; or in
the folder given as its one argument, never anywhere else), then walks a data scientist's day: log a dataset, train
against it in a run, log a model with lineage, edit attributes the W&B way,
promote the model to the model registry, download/checkout/verify, and check
the object database with real git. Each step prints what it shows.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(os.path.dirname(HERE), "demo-workdir")


def step(title: str) -> None:
    print(f"\n== {title}")


def cli(*args: str) -> None:
    """Run the artvcs command line here, showing its output indented."""
    env = {**os.environ, "ARTVCS_PROJECT": "digits"}  # the project the demo's runs log into
    p = subprocess.run([sys.executable, "-m", "artvcs.porcelain.cli", *args], capture_output=True, text=True, cwd=WORK, env=env)
    print(f"  $ artvcs {' '.join(args)}")
    for line in (p.stdout + p.stderr).splitlines():
        print(f"    {line}")


def store_files() -> int:
    """How many files the content store holds (one per distinct content)."""
    return sum(len(files) for _, _, files in os.walk(os.path.join(WORK, ".artifacts", "content")))


def git_objects(commit: str) -> set[str]:
    """Every tree and blob a version commit names, as real git lists them."""
    listing = subprocess.run(["git", "--git-dir", os.path.join(WORK, ".artifacts"), "ls-tree", "-r", "-t", commit],
                             capture_output=True, text=True, check=True)
    return {line.split()[2] for line in listing.stdout.splitlines()}


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(os.path.join(WORK, "data", "train"))
    os.makedirs(os.path.join(WORK, "data", "test"))
    os.chdir(WORK)
    import artvcs as wandb  # the import is the only change a W&B script needs

    step("a project folder with its own repository")
    # The repository made here records demo/digits as its default namespace, once.
    with wandb.init(entity="demo", project="digits", job_type="setup", dir=WORK) as run:
        print(f"repository: {run.context.repo.gitdir}")

    step("a dataset of 200 small files")
    for i in range(200):
        with open(f"data/{'train' if i < 150 else 'test'}/{i:03d}.csv", "w") as f:
            f.write("".join(f"{i},{j},{(i * j) % 7}\n" for j in range(50)))
    with wandb.init(project="digits", job_type="prepare") as run:
        data = wandb.Artifact("mnist", type="dataset", description="toy digits", metadata={"rows": 200 * 50})
        data.add_dir("data")
        run.log_artifact(data, aliases=["raw"])
        print(f"logged {data.qualified_name}: {data.file_count} files, {data.size} bytes, digest {data.digest[:12]}")

    step("a training run uses the dataset and logs a model")
    with wandb.init(project="digits", job_type="train", config={"lr": 0.01}) as run:
        ds = run.use_artifact("mnist:latest")
        path = ds.download()
        rows = sum(1 for root, _, fs in os.walk(path) for f in fs for _ in open(os.path.join(root, f)))
        model = wandb.Artifact("cnn", type="model", metadata={"acc": 0.98, "rows_seen": rows})
        with model.new_file("model.pt", mode="wb") as f:
            f.write(os.urandom(4096))
        run.log_artifact(model, aliases=["best"])
        print(f"trained on {rows} rows from {ds.name}; logged {model.name} by run {run.id}")

    step("a 1-file change makes v1, sharing everything else")
    stored_before = store_files()
    draft = ds.new_draft()
    draft.remove("train/000.csv")
    with draft.new_file("train/000.csv") as f:
        f.write("0,0,0\n")
    with wandb.init(project="digits", job_type="fix") as run:
        v1 = run.log_artifact(draft)
    v0 = wandb.Api(overrides={"project": "digits"}).artifact("mnist:v0")
    print(f"{v1.name}: aliases {', '.join(v1.aliases)}; v0 keeps {', '.join(v0.aliases)}")
    old = {e.digest for e in v0.manifest.entries.values()}
    new = {e.digest: e.size for e in v1.manifest.entries.values()}
    added = [d for d in new if d not in old]
    print(f"content: {len(added)} object written ({sum(new[d] for d in added)} bytes), "
          f"{len(new) - len(added)} of v0's reused; the store grew by {store_files() - stored_before} file")
    objects_v0, objects_v1 = git_objects(v0.commit_hash), git_objects(v1.commit_hash)
    print(f"git objects: {len(objects_v1 - objects_v0)} written (train/'s listing and folder, the manifest root, the facts), "
          f"{len(objects_v1 & objects_v0)} shared with v0 (test/ untouched)")

    step("edit a logged version outside a run (reference: update an artifact)")
    api = wandb.Api(overrides={"project": "digits"})
    art = api.artifact("demo/digits/cnn:best")
    art.description = "CNN trained on mnist:v0"
    art.metadata["notes"] = "demo"
    art.aliases.append("candidate")
    art.save()
    print(f"{art.name}: description \"{art.description}\"; aliases {', '.join(art.aliases)}; "
          f"metadata {json.dumps(art.metadata, sort_keys=True)}")

    step("promote to the model registry")
    art.link("model-registry/Digits", aliases=["production"])
    reg = api.artifact("model-registry/Digits:production")
    print(f"{reg.qualified_name} is {reg.source_qualified_name}; logged by run {reg.logged_by().id}")

    step("checkout and verify")
    out = os.path.join(WORK, "checkout")
    ds.checkout(out)
    ds.verify(out)
    with open(os.path.join(out, "train", "001.csv"), "a") as f:
        f.write("tampered\n")
    try:
        ds.verify(out)
    except ValueError as e:
        print(f"verify caught the change: {e}")
    print("the command line says which version the folder holds and what changed (artvcs status, artvcs diff):")
    cli("status", "checkout")
    cli("diff", "mnist:v0", "checkout", "--name-status")
    cli("diff", "mnist:v0", "mnist:v1", "--stat")

    step("lineage")
    print(f"{ds.name} used by the {', '.join(r.job_type for r in ds.used_by())} run, logged by the {ds.logged_by().job_type} run")

    step("the object database is a real git repository")
    fsck = subprocess.run(["git", "--git-dir", ".artifacts", "fsck", "--strict"], capture_output=True, text=True)
    log = subprocess.run(["git", "--git-dir", ".artifacts", "log", "--format=%h %s", "refs/collections/demo/digits/mnist"],
                         capture_output=True, text=True)
    print(f"git fsck --strict: exit {fsck.returncode}")
    print(log.stdout.rstrip())
    print(f"\ndemo complete: see {WORK}")
    return 0 if fsck.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
