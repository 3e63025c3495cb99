"""W&B's model shortcuts on a run: ``log_model``, ``use_model`` and ``link_model``.

They follow ``wandb.sdk.wandb_run.Run`` at v0.17.9: a model is an artifact whose type
contains "model"; ``link_model`` links into the project ``model-registry``. Kept apart
from :mod:`artvcs.runs` (the run record) as a mixin that :class:`artvcs.runs.Run` takes.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from artvcs.core.resolve import resolve_version
from artvcs.errors import CommError
from artvcs.plumbing.errors import NotFoundError, UsageError

if TYPE_CHECKING:
    from artvcs.artifact import Artifact

MODEL_TYPE_MESSAGE = ("You can only use this method for 'model' artifacts. For an artifact to be a 'model' artifact, "
                      "its type property must contain the substring 'model'.")
REGISTRY_PROJECT = "model-registry"


class ModelMethods:
    """Run methods for model artifacts; the host class provides ``log_artifact``, ``use_artifact``,
    ``link_artifact``, ``_check_live``, ``context``, ``entity`` and ``_artifact_class``."""

    def log_model(self, path: "str | os.PathLike", name: str | None = None, aliases: list[str] | None = None) -> None:
        """Log the file or folder at ``path`` (or a reference URI) as an artifact of type ``model``
        (named ``run-<run id>-<basename>`` unless ``name`` is given) and mark it this run's output."""
        self._check_live("log_model")
        self.log_artifact(path, name=name, type="model", aliases=aliases)

    def use_model(self, name: str) -> str:
        """Use the model artifact ``name`` (``[entity/][project/]name:version-or-alias``), download it and
        return the folder, or the one file in it when there is exactly one. A type without "model"
        in it is an AssertionError, as in W&B."""
        self._check_live("use_model")
        artifact = self.use_artifact(name)
        assert "model" in str(artifact.type.lower()), MODEL_TYPE_MESSAGE  # W&B's exception, kept on purpose
        path = artifact.download()
        found = os.listdir(path)
        return os.path.join(path, found[0]) if len(found) == 1 else path

    def link_model(self, path: "str | os.PathLike", registered_model_name: str, name: str | None = None,
                   aliases: list[str] | None = None) -> None:
        """Log ``path`` as a version of the model artifact ``name`` (of the type of its latest version
        if it exists, else ``model``) and link it into ``<entity>/model-registry/<registered_model_name>``.
        A registered model name with "/" in it, or an existing ``name`` whose type has no "model" in
        it, is an AssertionError, as in W&B."""
        self._check_live("link_model")
        assert len(registered_model_name.split("/")) == 1, (
            "Please provide only the name of the registered model. Do not append the entity or project name.")
        target_path = f"{self.entity}/{REGISTRY_PROJECT}/{registered_model_name}"
        model_type = "model"
        if name is not None:
            try:
                existing = resolve_version(self.context, f"{name}:latest")
            except (NotFoundError, UsageError, CommError):
                existing = None
            if existing is not None:
                model_type = existing.facts.get("type") or ""
                assert "model" in model_type.lower(), MODEL_TYPE_MESSAGE
        artifact: "Artifact" = self.log_artifact(path, name=name, type=model_type)
        self.link_artifact(artifact, target_path, aliases)
