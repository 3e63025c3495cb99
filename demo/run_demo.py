"""End-to-end demo of artvcs on the embedded local store (no server).

It makes a throw-away project in ./demo-workdir (inside this checkout, never
anywhere else), then walks a data scientist's day: log a dataset, train
against it in a run, log a model with lineage, edit attributes the W&B way,
promote the model to the model registry, download/checkout/verify, and check
the object database with real git. Each step prints what it shows.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(os.path.dirname(HERE), "demo-workdir")


def step(title: str) -> None:
    print(f"\n== {title}")


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(os.path.join(WORK, "data", "train"))
    os.chdir(WORK)
    import artvcs as wandb  # the import is the only change a W&B script needs

    step("a project folder with its own repository")
    # The repository made here records demo/digits as its default namespace, once.
    with wandb.init(entity="demo", project="digits", job_type="setup", dir=WORK) as run:
        print(f"repository: {run.context.repo.gitdir}")

    step("a dataset of 200 small files")
    for i in range(200):
        with open(f"data/train/{i:03d}.csv", "w") as f:
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
    draft = ds.new_draft()
    draft.remove("train/000.csv")
    with draft.new_file("train/000.csv") as f:
        f.write("0,0,0\n")
    with wandb.init(project="digits", job_type="fix") as run:
        v1 = run.log_artifact(draft)
    print(f"{v1.name}: aliases {v1.aliases}; v0 still has {wandb.Api(overrides={'project': 'digits'}).artifact('mnist:v0').aliases}")

    step("edit a logged version outside a run (reference: update an artifact)")
    api = wandb.Api(overrides={"project": "digits"})
    art = api.artifact("demo/digits/cnn:best")
    art.description = "CNN trained on mnist:v0"
    art.metadata["notes"] = "demo"
    art.aliases.append("candidate")
    art.save()
    print(f"{art.name}: description={art.description!r} aliases={art.aliases} metadata={art.metadata}")

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

    step("lineage")
    print(f"{ds.name} used by {[r.job_type for r in ds.used_by()]}, logged by {ds.logged_by().job_type}")

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
