"""``add_reference`` of s3:// URIs against the real SeaweedFS server: ETag checksums, version ids,
prefix expansion with max_objects, and downloads that refuse changed objects."""
from __future__ import annotations

import os
import uuid

import pytest

import artvcs
from remote_helpers import client_env


@pytest.fixture
def s3(seaweed, aws_env, monkeypatch):
    import botocore.session

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", seaweed["endpoint_url"])
    env = client_env()
    client = botocore.session.get_session().create_client(
        "s3", endpoint_url=seaweed["endpoint_url"], aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")
    return client


def _log(folder, art):
    run = artvcs.init(dir=str(folder))
    run.log_artifact(art)
    run.finish()


def test_prefix_reference_records_etags_and_downloads(workspace, s3, seaweed):
    bucket, prefix = seaweed["bucket"], f"refs-{uuid.uuid4().hex[:8]}"
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"{prefix}/d/f{i}.txt", Body=f"object {i}".encode())
    p = workspace.project("p")
    run = artvcs.init(dir=p.folder)
    art = artvcs.Artifact("refs", type="dataset")
    with pytest.warns(UserWarning, match="max_objects"):
        entries = art.add_reference(f"s3://{bucket}/{prefix}/d", max_objects=2)
    assert [e.path for e in entries] == ["f0.txt", "f1.txt"]
    etag = s3.head_object(Bucket=bucket, Key=f"{prefix}/d/f0.txt")["ETag"].strip('"')
    assert entries[0].digest == etag and entries[0].size == len("object 0")
    run.log_artifact(art)
    run.finish()
    out = p.api().artifact("refs:latest").download(os.path.join(p.folder, "out"))
    assert open(os.path.join(out, "f1.txt")).read() == "object 1"
    s3.put_object(Bucket=bucket, Key=f"{prefix}/d/f1.txt", Body=b"changed")
    with pytest.raises(ValueError, match="changed since it was logged"):
        p.api().artifact("refs:latest").download(os.path.join(p.folder, "out2"))


def test_versioned_bucket_reference_fetches_the_logged_version(workspace, s3):
    bucket = f"artvcs-versioned-{uuid.uuid4().hex[:6]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="model.bin", Body=b"weights v1")
    p = workspace.project("p")
    run = artvcs.init(dir=p.folder)
    art = artvcs.Artifact("model", type="model")
    (entry,) = art.add_reference(f"s3://{bucket}/model.bin")
    assert entry.extra.get("versionID") == first["VersionId"]
    run.log_artifact(art)
    run.finish()
    s3.put_object(Bucket=bucket, Key="model.bin", Body=b"weights v2")
    out = p.api().artifact("model:latest").download(os.path.join(p.folder, "out"))
    assert open(os.path.join(out, "model.bin"), "rb").read() == b"weights v1"
