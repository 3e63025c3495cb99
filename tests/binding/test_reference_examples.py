"""The code examples of ../shared/reference, run with only the import changed.

Placeholders are filled in: '<example>' → 'example', '<job-type>' → 'train',
'<artifact-name>:<alias>' → 'mnist:latest', '<description>' → a sentence,
'entity/project/artifact:alias' → 'me/example/mnist:latest', and the draft
name '' → 'notes'.
"""
from __future__ import annotations

import artvcs as wandb


def _log_mnist(project_name: str = "example") -> None:
    with wandb.init(project=project_name, job_type="seed") as run:
        a = wandb.Artifact("mnist", type="dataset", metadata={"oldKey": "old"})
        with a.new_file("train.csv") as f:
            f.write("x,y\n1,2\n")
        run.log_artifact(a)


def test_update_during_a_run(project):
    _log_mnist()
    # --- example: "During a run" ---
    run = wandb.init(project="example", job_type="train")
    artifact = run.use_artifact("mnist:latest")

    artifact = wandb.Artifact("notes", type="notes")
    run.use_artifact(artifact)
    artifact.description = "Notes made while training."
    artifact.save()
    # --- end of example ---
    run.finish()
    api = wandb.Api(overrides={"project": "example"})
    saved = api.artifact("notes:latest")
    assert saved.description == "Notes made while training."
    assert [r.id for r in saved.used_by()] == [run.id]
    assert [r.id for r in api.artifact("mnist:latest").used_by()] == [run.id]


def test_update_outside_a_run(project):
    _log_mnist()
    # --- example: "Outside of a run" ---
    api = wandb.Api()

    artifact = api.artifact("me/example/mnist:latest")

    # Update the description
    artifact.description = "My new description"

    # Selectively update metadata keys
    artifact.metadata["oldKey"] = "new value"

    # Replace the metadata entirely
    artifact.metadata = {"newKey": "new value"}

    # Add an alias
    artifact.aliases.append("best")

    # Remove an alias
    artifact.aliases.remove("latest")

    # Completely replace the aliases
    artifact.aliases = ["replaced"]

    # Persist all artifact modifications
    artifact.save()
    # --- end of example ---
    again = wandb.Api().artifact("me/example/mnist:replaced")
    assert again.description == "My new description"
    assert again.metadata == {"newKey": "new value"}
    # 'best' was replaced away before save; 'latest' is managed and stays where logging put it
    assert again.aliases == ["latest", "replaced"]
