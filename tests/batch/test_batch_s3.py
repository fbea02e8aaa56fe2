"""`edi837 batch s3://...`: an inbox in an object store (issue 26, item 2), against moto's
S3 server on localhost.  Every `edi837` here runs as a process of its own, reading the
server's address and the dummy credentials from the environment, as an operator's would."""
import json

import pytest
from batch_support import CLEAN, DEFECT, edi, ledger, sha
from store_support import edi837, killed_at

GARBAGE = b"this is not an X12 interchange\n"


def inbox_of(name: str) -> str:
    return f"s3://{name}/nightly/inbox"


def objects(fs, name: str) -> dict[str, bytes]:
    """Every object of the bucket: its key below the bucket, its bytes."""
    fs.invalidate_cache()
    return {key.split("/", 1)[1]: fs.cat_file(key) for key in fs.find(name)}


def taken_run(rows: list[dict]) -> str:
    [run_id] = {row["run_id"] for row in rows}
    return run_id


@pytest.mark.parametrize("jobs", ["1", "2"])  # 2: worker processes read the objects
def test_an_s3_inbox_is_archived_and_quarantined_by_copy_and_delete(tmp_path, bucket,
                                                                   jobs):
    name, fs = bucket
    inputs = {"a-clean.edi": edi(CLEAN), "sub/b-defect.edi": edi(DEFECT, "000000002"),
              "c-garbage.edi": GARBAGE}
    left = {"d-late.edi.part": b"partial", ".hidden.edi": edi(CLEAN, "000000003")}
    for key, data in {**inputs, **left}.items():
        fs.pipe_file(f"{name}/nightly/inbox/{key}", data)
    out = tmp_path / "out"
    result = edi837("batch", inbox_of(name), "--out", out, "--settle", "0", "--jobs", jobs)
    assert result.returncode == 2, result.stderr  # a file quarantined
    rows = {row["name"]: row for row in ledger(out)}
    assert set(rows) == set(inputs)
    run_id = taken_run(list(rows.values()))
    stored = objects(fs, name)
    archive, quarantine = f"nightly/archive/{run_id}", f"nightly/quarantine/{run_id}"
    assert stored == {
        **{f"nightly/inbox/{key}": data for key, data in left.items()},  # never inputs
        f"{archive}/a-clean.edi": inputs["a-clean.edi"],
        f"{archive}/sub/b-defect.edi": inputs["sub/b-defect.edi"],
        f"{quarantine}/c-garbage.edi": GARBAGE,
        f"{quarantine}/c-garbage.edi.reason.txt": stored[f"{quarantine}/c-garbage.edi.reason.txt"],
    }
    assert b"EDI001" in stored[f"{quarantine}/c-garbage.edi.reason.txt"]
    for key, row in rows.items():
        assert row["state"] == "done" and row["sha256"] == sha(inputs[key])
        assert row["source"] == f"{inbox_of(name)}/{key}"
        where = quarantine if key == "c-garbage.edi" else archive
        assert row["destination"] == f"s3://{name}/{where}/{key}"
    assert [rows[k]["outcome"] for k in sorted(rows)] == ["ok", "quarantined", "findings"]
    # the reports name the input by its URL
    report = json.loads((out / run_id / "files" / "sub/b-defect.edi" / "report.json").read_text())
    assert report["files"][0]["path"] == f"{inbox_of(name)}/sub/b-defect.edi"
    # the same content dropped again is a duplicate: archived, not checked again
    fs.pipe_file(f"{name}/nightly/inbox/a-again.edi", inputs["a-clean.edi"])
    again = edi837("batch", inbox_of(name), "--out", out, "--settle", "0")
    assert again.returncode == 0, again.stderr
    [row] = [r for r in ledger(out) if r["name"] == "a-again.edi"]
    assert row["outcome"] == "duplicate" and row["state"] == "done"
    assert objects(fs, name)[f"nightly/archive/{row['run_id']}/a-again.edi"] == inputs[
        "a-clean.edi"]
    assert "nightly/inbox/a-again.edi" not in objects(fs, name)


def test_fresh_uploads_wait_and_markers_are_honoured(tmp_path, bucket):
    name, fs = bucket
    fs.pipe_file(f"{name}/nightly/inbox/a.edi", edi(CLEAN))
    out = tmp_path / "out"
    # just uploaded: not settled for an hour yet
    result = edi837("batch", inbox_of(name), "--out", out, "--settle", "3600")
    assert result.returncode == 0, result.stderr
    assert ledger(out) == []
    assert list(objects(fs, name)) == ["nightly/inbox/a.edi"]
    # with a marker: taken once NAME.done is there, and the marker goes with it
    result = edi837("batch", inbox_of(name), "--out", out, "--marker", ".done")
    assert ledger(out) == [] and result.returncode == 0
    fs.pipe_file(f"{name}/nightly/inbox/a.edi.done", b"")
    result = edi837("batch", inbox_of(name), "--out", out, "--marker", ".done")
    assert result.returncode == 0, result.stderr
    [row] = ledger(out)
    assert list(objects(fs, name)) == [f"nightly/archive/{row['run_id']}/a.edi"]


def test_a_batch_killed_between_copy_and_delete_is_repaired(tmp_path, bucket):
    name, fs = bucket
    data = {"a.edi": edi(CLEAN), "b.edi": edi(DEFECT, "000000002")}
    for key, content in data.items():
        fs.pipe_file(f"{name}/nightly/inbox/{key}", content)
    out = tmp_path / "out"
    killed_at("copied", "batch", inbox_of(name), "--out", out, "--settle", "0")
    [row] = ledger(out)  # killed at the first file's move: copied, not yet deleted
    assert row["state"] == "reported" and row["name"] == "a.edi"
    stored = objects(fs, name)
    assert stored[f"nightly/archive/{row['run_id']}/a.edi"] == data["a.edi"]
    assert stored["nightly/inbox/a.edi"] == data["a.edi"]
    # the next start finishes the move (the source deleted), then takes b.edi
    result = edi837("batch", inbox_of(name), "--out", out, "--settle", "0")
    assert result.returncode == 1, result.stderr  # b.edi's error finding
    rows = {r["name"]: r for r in ledger(out)}
    assert [(r["state"], r["id"]) for r in rows.values()] == [("done", row["id"]),
                                                             ("done", row["id"] + 1)]
    assert objects(fs, name) == {
        f"nightly/archive/{row['run_id']}/a.edi": data["a.edi"],
        f"nightly/archive/{rows['b.edi']['run_id']}/b.edi": data["b.edi"]}


def test_a_new_upload_after_the_copy_is_not_deleted_by_the_repair(tmp_path, bucket):
    name, fs = bucket
    fs.pipe_file(f"{name}/nightly/inbox/a.edi", edi(CLEAN))
    out = tmp_path / "out"
    killed_at("copied", "batch", inbox_of(name), "--out", out, "--settle", "0")
    [row] = ledger(out)
    resent = edi(DEFECT, "000000009")  # the sender sends a new a.edi meanwhile
    fs.pipe_file(f"{name}/nightly/inbox/a.edi", resent)
    result = edi837("batch", inbox_of(name), "--out", out, "--settle", "0")
    assert result.returncode == 1, result.stderr  # the new file, checked: its error
    first, second = ledger(out)
    assert first["id"] == row["id"] and first["state"] == "done"
    assert second["sha256"] == sha(resent) and second["state"] == "done"
    assert objects(fs, name) == {
        f"nightly/archive/{first['run_id']}/a.edi": edi(CLEAN),
        f"nightly/archive/{second['run_id']}/a.edi": resent}


@pytest.mark.parametrize("extra, message", [
    (["--archive", "LOCAL"], "needs the archive (--archive) there too"),
    (["--quarantine", "s3://{name}/nightly/inbox/q"], "is inside the inbox"),
    (["--fix"], "not available with an inbox in an object store"),
])
def test_store_options_that_cannot_work_are_refused(tmp_path, bucket, extra, message):
    name, fs = bucket
    fs.pipe_file(f"{name}/nightly/inbox/a.edi", edi(CLEAN))
    extra = [str(tmp_path / "archive") if e == "LOCAL" else e.format(name=name) for e in extra]
    result = edi837("batch", inbox_of(name), "--out", tmp_path / "out", "--settle", "0", *extra)
    assert result.returncode == 2
    assert message in result.stderr
    assert list(objects(fs, name)) == ["nightly/inbox/a.edi"]  # nothing moved


def test_a_missing_bucket_is_exit_2_naming_it(tmp_path, s3_server):
    result = edi837("batch", "s3://edi837-no-such-bucket/inbox", "--out", tmp_path / "out")
    assert result.returncode == 2
    assert "s3://edi837-no-such-bucket/inbox" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_inbox_at_the_top_of_a_bucket_needs_archive_urls(tmp_path, bucket):
    name, fs = bucket
    fs.pipe_file(f"{name}/a.edi", edi(CLEAN))
    result = edi837("batch", f"s3://{name}", "--out", tmp_path / "out", "--settle", "0")
    assert result.returncode == 2
    assert "needs the archive (--archive) there too" in result.stderr
    assert list(objects(fs, name)) == ["a.edi"]
    # in the same bucket, the archive would be inside the inbox: refused too
    result = edi837("batch", f"s3://{name}/", "--out", tmp_path / "out", "--settle", "0",
                    "--archive", f"s3://{name}/archive", "--quarantine", f"s3://{name}/q")
    assert result.returncode == 2 and "is inside the inbox" in result.stderr
    # in another bucket of the store: taken, and archived there by copy and delete
    fs.mkdir(f"{name}-kept")
    result = edi837("batch", f"s3://{name}/", "--out", tmp_path / "out", "--settle", "0",
                    "--archive", f"s3://{name}-kept/done",
                    "--quarantine", f"s3://{name}-kept/quarantine")
    assert result.returncode == 0, result.stderr
    [row] = ledger(tmp_path / "out")
    assert objects(fs, name) == {}
    assert objects(fs, f"{name}-kept") == {f"done/{row['run_id']}/a.edi": edi(CLEAN)}


def test_no_credentials_is_exit_2_saying_so(tmp_path, bucket):
    import os

    from batch_support import subprocess_env

    name, fs = bucket
    fs.pipe_file(f"{name}/nightly/inbox/a.edi", edi(CLEAN))
    env = {key: value for key, value in subprocess_env().items()
           if not key.startswith("AWS_") or key == "AWS_ENDPOINT_URL"}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_EC2_METADATA_DISABLED="true")
    for args in (["batch", inbox_of(name), "--out", tmp_path / "out", "--settle", "0"],
                 ["check", f"{inbox_of(name)}/"], ["check", f"{inbox_of(name)}/a.edi"]):
        result = edi837(*args, env=env)
        assert result.returncode == 2, (args, result.stderr)
        assert "NoCredentialsError: Unable to locate credentials" in result.stderr, args
        assert inbox_of(name) in result.stderr and "Traceback" not in result.stderr
    assert list(objects(fs, name)) == ["nightly/inbox/a.edi"]
