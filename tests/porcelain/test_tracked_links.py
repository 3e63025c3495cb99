"""A tracked folder whose file was replaced by a link to the same bytes is modified for status, as for
verify: the link is not the file the pin names (checkout replaces it)."""
from __future__ import annotations

import json
import os

from .test_git_integration import artvcs, gitrepo  # noqa: F401 (the fixture)


def _states(folder) -> dict[str, tuple[str, list]]:
    rows = json.loads(artvcs("status", "--json").stdout)
    return {r["path"]: (r["state"], r["changes"]) if r["state"] != "unresolvable" else (r["state"], r.get("detail")) for r in rows}


def test_a_link_in_a_tracked_folder_and_a_tracked_file_that_is_a_link(gitrepo, tmp_path_factory):  # noqa: F811
    (gitrepo / "data").mkdir()
    (gitrepo / "data" / "x.csv").write_text("1,2\n")
    (gitrepo / "model.bin").write_bytes(b"weights")
    artvcs("init", "--entity", "me", "--project", "proj")
    artvcs("track", "data", "--name", "mnist")
    artvcs("track", "model.bin", "--name", "cnn")
    assert {s for s, _ in _states(gitrepo).values()} == {"clean"}
    outside = tmp_path_factory.mktemp("outside")
    for rel, data in (("data/x.csv", b"1,2\n"), ("model.bin", b"weights")):
        twin = outside / rel.replace("/", "-")
        twin.write_bytes(data)
        os.unlink(gitrepo / rel)
        os.symlink(twin, gitrepo / rel)
    states = _states(gitrepo)
    assert states["data/"] == ("modified", [{"path": "x.csv", "problem": "not a file"}]), states
    # a tracked file that is itself a link was refused already (nothing is read through a link): not clean either
    assert states["model.bin"][0] == "unresolvable" and "never through a link" in states["model.bin"][1], states
