"""``Run.log``, ``Run.summary``, ``Run.step``, ``Run.settings``, ``Run.group``, ``ArtifactState``
and ``Artifact.distributed_id``, as W&B 0.17.9 has them (wandb/sdk/wandb_run.py,
sdk/data_types/utils.py ``val_to_json``, sdk/artifacts/artifact_state.py and artifact.py).

W&B's own tests that use them: tests/system_tests/test_artifacts/test_data_types.py
``test_log_dataframe`` (logging a DataFrame logs one artifact), test_wandb_run_artifacts.py
(``run.settings.base_url`` in a ``wandb-artifact://`` string), test_misc2.py
``test_lazy_artifact_passthrough`` (``distributed_id`` is read and set on a draft).
"""
from __future__ import annotations

import dataclasses

import pytest

import artvcs
from artvcs.artifact import ArtifactState


def test_artifact_state_has_w_and_b_values_and_state_is_one(project):
    assert [s.value for s in ArtifactState] == ["PENDING", "COMMITTED", "DELETED", "GARBAGE_COLLECTED", "PENDING_DELETION"]
    (project / "a.txt").write_text("a")
    art = artvcs.Artifact("ds", "dataset")
    art.add_file("a.txt")
    assert art.state == ArtifactState.PENDING.value
    with artvcs.init() as run:
        run.log_artifact(art)
    assert art.state == ArtifactState.COMMITTED.value
    art.delete(delete_aliases=True)
    assert art.state == ArtifactState.DELETED.value


def test_distributed_id_is_read_and_set_on_drafts_and_logged_artifacts(project):
    art = artvcs.Artifact("ds", "dataset")
    assert art.distributed_id is None
    art.distributed_id = "x"
    assert art.distributed_id == "x"
    with pytest.raises(ValueError, match="distributed_id must be a string"):
        art.distributed_id = 3
    assert art.distributed_id == "x"


def test_settings_are_frozen_and_name_the_run(project):
    run = artvcs.init(name="first", job_type="train", group="g")
    s = run.settings
    assert (s.entity, s.project, s.run_id, s.run_name, s.run_group, s.run_job_type) == ("me", "proj", run.id, "first", "g", "train")
    assert s.root_dir == str(project) and s["run_id"] == run.id
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.project = "other"
    with pytest.raises(KeyError):
        s["no_such_setting"]


def test_a_wandb_artifact_string_built_from_base_url_is_used(project):
    (project / "a.txt").write_text("a")
    with artvcs.init() as run:
        art = artvcs.Artifact("boom-data", "dataset")
        art.add_file("a.txt")
        run.log_artifact(art)
    with artvcs.init() as run:
        run.config.dataset = f"wandb-artifact://{run.settings.base_url}/me/proj/boom-data:v0"
        assert run.config.dataset.source_name == "boom-data:v0"
    assert [a.name for a in artvcs.Api().run(f"proj/{run.id}").used_artifacts()] == ["boom-data:v0"]


def test_log_keeps_the_last_value_of_each_key_as_summary(project):
    run = artvcs.init()
    assert run.step == 0 and run.summary == {}
    run.log({"loss": 0.5, "acc": 0.1})
    run.log({"loss": 0.25, "nested": {"a": (1, 2)}})
    run.log({"acc": 0.9}, commit=False)
    assert run.step == 2
    run.finish()
    got = artvcs.Api().run(f"proj/{run.id}")
    assert got.summary == {"loss": 0.25, "acc": 0.9, "nested": {"a": [1, 2]}}


def test_log_step_below_the_current_is_dropped_with_a_warning(project):
    run = artvcs.init()
    run.log({"x": 1}, step=5)
    assert run.step == 5
    with pytest.warns(UserWarning, match="less than the current step"):
        run.log({"x": 2}, step=3)
    assert run.summary == {"x": 1}


def test_log_a_dataframe_logs_a_run_table_artifact(project):
    pd = pytest.importorskip("pandas")
    run = artvcs.init()
    run.log({"results df": pd.DataFrame({"test_col": [1, 2, 3], "test_col2": [4, 5, 6]})})
    run.finish()
    got = artvcs.Api().run(f"proj/{run.id}")
    (art,) = got.logged_artifacts()
    assert art.name == f"run-{run.id}-resultsdf:v0" and art.type == "run_table"
    table = art.get("results df")
    assert table.columns == ["test_col", "test_col2"] and table.data == [[1, 4], [2, 5], [3, 6]]
    summary = got.summary["results df"]
    assert summary["_type"] == "table-file" and (summary["nrows"], summary["ncols"]) == (3, 2)
    assert summary["artifact_path"] == f"wandb-artifact://me/proj/run-{run.id}-resultsdf:v0/results df.table.json"


def test_log_refuses_what_it_cannot_record_and_records_nothing(project):
    run = artvcs.init()
    with pytest.raises(ValueError, match="must be passed a dictionary"):
        run.log([("a", 1)])
    with pytest.raises(ValueError, match="must be strings"):
        run.log({1: 2})
    with pytest.raises(ValueError, match="add it to one"):
        run.log({"ok": 1, "img": artvcs.Html("<p>x</p>")})
    with pytest.raises(ValueError, match="step must be a non-negative integer"):
        run.log({"ok": 1}, step=-1)
    assert run.summary == {} and run.step == 0
    run.finish()
    with pytest.raises(ValueError, match="needs a running run"):
        run.log({"x": 1})
