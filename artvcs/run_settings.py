"""``Run.settings``: the frozen settings of a run, under W&B's names (``wandb.Settings`` at v0.17.9).

Only the settings that mean something here are present; W&B's server, console and
code-saving settings have no counterpart (there is no server, no console capture). A
setting read from a frozen copy cannot be changed, as in W&B (``Settings.freeze``).
"""
from __future__ import annotations

from dataclasses import dataclass

# Where a run's artifacts are served from, for the ``wandb-artifact://<base_url>/E/P/C:v``
# strings W&B builds from it: this machine's repository (there is no server).
BASE_URL = "file://localhost"


@dataclass(frozen=True)
class Settings:
    """A run's settings (W&B's names): read them as attributes; they cannot be set."""

    base_url: str
    entity: str
    project: str
    run_id: str
    run_name: str
    run_group: str | None
    run_job_type: str | None
    root_dir: str

    def __getitem__(self, key: str):
        """W&B's settings are also read as items."""
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None
