"""Inputs and outputs by URL (issue 26, item 2), against moto's S3 server on localhost."""
import json
import shutil

import pytest
from click.testing import CliRunner
from conftest import SAMPLES
from s3_support import upload

from edi837.cli import main
from edi837.files import is_candidate
from edi837.locations import discover

NOT_INPUTS = {".hidden.edi": "x", "late.edi.part": "x", "night.json": "{}",
              "README.md": "x", ".cache/inner.edi": "x", "a.edi.reason.txt": "x"}


def night(tmp_path):
    """A local folder of sample claims, and files that are never inputs."""
    folder = tmp_path / "night"
    (folder / "sub").mkdir(parents=True)
    for name in ("837p-j2350-clean.edi", "837p-j2350-defects.edi"):
        shutil.copy(SAMPLES / name, folder / name)
    shutil.copy(SAMPLES / "837i-j2350-defects.edi", folder / "sub" / "837i.edi")
    for name, text in NOT_INPUTS.items():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_text(text)
    return folder


def check(*args):
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


def without_names(report: dict) -> dict:
    """A JSON report with its file names and times taken out."""
    text = json.dumps(report)
    for file in report["files"]:
        text = text.replace(json.dumps(file["path"])[1:-1], "NAME")
    loaded = json.loads(text)
    for key in ("started", "finished"):
        loaded["run"].pop(key)
    return loaded


def test_a_prefix_is_discovered_like_a_folder(tmp_path, bucket):
    name, fs = bucket
    upload(fs, night(tmp_path), f"{name}/nightly")
    fs.pipe_file(f"{name}/nightly-old/x.edi", b"x")  # another prefix: not below nightly/
    fs.pipe_file(f"{name}/nightly.edi", b"x")
    found = discover(f"s3://{name}/nightly/", is_candidate)
    assert found == [f"s3://{name}/nightly/837p-j2350-clean.edi",
                     f"s3://{name}/nightly/837p-j2350-defects.edi",
                     f"s3://{name}/nightly/sub/837i.edi"]
    # without the slash too; one object named directly is itself, whatever its name
    assert discover(f"s3://{name}/nightly", is_candidate) == found
    assert discover(f"s3://{name}/nightly/night.json", is_candidate) == [
        f"s3://{name}/nightly/night.json"]
    assert discover(f"s3://{name}/nightl/", is_candidate) == []  # a typo: nothing
    # nothing under a name without the slash: an object that is missing
    assert discover(f"s3://{name}/nightl", is_candidate) == [f"s3://{name}/nightl"]


def test_check_of_a_prefix_reports_as_the_local_folder(tmp_path, bucket):
    name, fs = bucket
    folder = night(tmp_path)
    upload(fs, folder, f"{name}/nightly")
    before = {key: fs.info(key)["ETag"] for key in fs.find(name)}
    local = check(str(folder), "--format", "json", "-q")
    remote = check(f"s3://{name}/nightly/", "--format", "json", "-q")
    assert local.exit_code == remote.exit_code == 1  # the defect samples have errors
    local_report, remote_report = json.loads(local.stdout), json.loads(remote.stdout)
    assert [f["path"] for f in remote_report["files"]] == [
        f"s3://{name}/nightly/837p-j2350-clean.edi",
        f"s3://{name}/nightly/837p-j2350-defects.edi", f"s3://{name}/nightly/sub/837i.edi"]
    assert without_names(remote_report) == without_names(local_report)
    assert remote_report["files"][1]["findings"]  # not two empty reports
    # --jobs reads by URL too (README "Files by URL"): worker processes read the objects
    jobs = check(f"s3://{name}/nightly/", "--format", "json", "-q", "--jobs", "2")
    assert jobs.exit_code == 1, jobs.stderr
    assert without_names(json.loads(jobs.stdout)) == without_names(remote_report)
    # the inputs are never modified
    assert {key: fs.info(key)["ETag"] for key in fs.find(name)} == before


def test_a_json_report_written_to_an_object(tmp_path, bucket):
    name, fs = bucket
    upload(fs, night(tmp_path), f"{name}/nightly")
    target = f"s3://{name}/reports/night.json"
    result = check(f"s3://{name}/nightly/837p-j2350-defects.edi", "-o", target, "-q")
    assert result.exit_code == 1
    assert f"wrote {target} (json)" in result.stderr
    report = json.loads(fs.cat_file(f"{name}/reports/night.json"))
    assert report["files"][0]["path"] == f"s3://{name}/nightly/837p-j2350-defects.edi"
    assert report["files"][0]["findings"]
    assert not fs.find(f"{name}/reports", withdirs=True) == []
    assert [key.rsplit("/", 1)[1] for key in fs.find(f"{name}/reports")] == ["night.json"]


def test_a_report_to_a_missing_bucket_is_exit_2_naming_it(tmp_path, bucket):
    name, fs = bucket
    upload(fs, night(tmp_path), f"{name}/nightly")
    target = f"s3://{name}-gone/reports/night.json"
    result = check(f"s3://{name}/nightly/837p-j2350-clean.edi", "-o", target, "-q")
    assert result.exit_code == 2
    assert f"cannot write {target}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_object_is_exit_2_naming_the_url(tmp_path, bucket):
    name, fs = bucket
    upload(fs, night(tmp_path), f"{name}/nightly")
    gone = f"s3://{name}/nightly/never-sent.edi"
    result = check(f"s3://{name}/nightly/837p-j2350-clean.edi", gone, "-q")
    assert result.exit_code == 2
    assert gone in result.stderr and "EDI001" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_empty_or_mistyped_prefix_is_exit_2(tmp_path, bucket):
    name, fs = bucket
    upload(fs, night(tmp_path), f"{name}/nightly")
    url = f"s3://{name}/nightyl/"
    result = check(url, "-q")
    assert result.exit_code == 2, (url, result.stderr)
    assert f"no 837 files found in {url}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("options", [[], ["--jobs", "2"]])
def test_a_missing_bucket_is_named_as_such(tmp_path, bucket, options, monkeypatch):
    """Operator trial 7b: "no 837 files found in s3://nobucket/nightly/" said nothing of
    the bucket; an output's missing bucket was found only after the whole run."""
    name, fs = bucket
    upload(fs, night(tmp_path), f"{name}/nightly")
    missing = f"{name}-no-such-bucket"
    for url in (f"s3://{missing}/nightly/", f"s3://{missing}/nightly/a.edi"):
        result = check(url, "-q", *options)
        assert result.exit_code == 2, (url, result.stderr)
        assert f"{url}: the bucket {missing} does not exist" in result.stderr, result.stderr
        assert "no 837 files" not in result.stderr and "Traceback" not in result.stderr
    from edi837.engine import Engine

    checked = []
    monkeypatch.setattr(Engine, "check_file", lambda *args, **kw: checked.append(args))
    result = check(f"s3://{name}/nightly/", "-q", *options,
                   "-o", f"s3://{missing}/reports/r.json")
    monkeypatch.undo()
    assert result.exit_code == 2, result.stderr
    assert f"the bucket {missing} does not exist" in result.stderr
    assert checked == []  # refused before the run
    # PASS: a bucket that exists takes the report
    result = check(f"s3://{name}/nightly/", "-q", *options, "-o", f"s3://{name}/r/r.json")
    assert result.exit_code == 1 and fs.exists(f"{name}/r/r.json"), result.stderr


def test_a_scheme_without_its_driver_says_what_to_install():
    pytest.importorskip("fsspec")
    try:
        import gcsfs  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.fail("gcsfs is installed: this test needs a scheme without its driver")
    result = check("gs://some-bucket/nightly/", "-q")
    assert result.exit_code == 2
    assert "pip install gcsfs" in result.stderr
    assert "gs://some-bucket/nightly/" in result.stderr
    assert "Traceback" not in result.stderr


def test_extract_reads_an_object(tmp_path, bucket):
    name, fs = bucket
    upload(fs, night(tmp_path), f"{name}/nightly")
    local = CliRunner().invoke(main, ["extract", "-q", str(SAMPLES / "837p-j2350-defects.edi")])
    remote = CliRunner().invoke(main, ["extract", "-q",
                                       f"s3://{name}/nightly/837p-j2350-defects.edi"])
    assert remote.exit_code == local.exit_code
    assert remote.stdout.replace(f"s3://{name}/nightly/", "") == \
        local.stdout.replace(str(SAMPLES) + "/", "")
    assert remote.stdout.count("\n") > 1


@pytest.mark.parametrize("missing, hint", [("s3fs", "pip install 'edi837[s3]'"),
                                           ("fsspec", "pip install 'edi837[s3]'")])
def test_an_s3_url_without_its_driver_says_what_to_install(monkeypatch, missing, hint):
    """A base install (no fsspec), or fsspec without s3fs: the pip command, exit 2."""
    import sys

    pytest.importorskip("fsspec")
    # no driver class already imported; then `import s3fs` (or fsspec) raises ImportError
    known = sys.modules["fsspec.registry"]._registry
    for protocol in ("s3", "s3a"):
        monkeypatch.delitem(known, protocol, raising=False)
    monkeypatch.setitem(sys.modules, missing, None)
    for command in (["check", "s3://bucket/nightly/", "-q"],
                    ["check", "samples/837p-j2350-clean.edi", "-o", "s3://bucket/r.json"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2, (command, result.output)
        assert hint in result.stderr and "s3://bucket/" in result.stderr
        assert "Traceback" not in result.stderr


def test_validate_reads_objects_as_files(tmp_path, bucket):
    pytest.importorskip("pyx12")
    name, fs = bucket
    sample = "837p-j2350-defects-ig-invalid.edi"
    fs.put_file(str(SAMPLES / sample), f"{name}/nightly/{sample}")
    url = f"s3://{name}/nightly/{sample}"
    local = CliRunner().invoke(main, ["validate", "-q", "--format", "json",
                                      str(SAMPLES / sample)])
    remote = CliRunner().invoke(main, ["validate", "-q", "--format", "json", url])
    assert remote.exit_code == local.exit_code == 1
    rules = [f["rule"] for f in json.loads(remote.stdout)["files"][0]["findings"]]
    assert rules and all(rule.startswith("IG") for rule in rules)
    assert rules == [f["rule"] for f in json.loads(local.stdout)["files"][0]["findings"]]
    # check --validate adds the same IG findings for an object as for a file
    checked = check(url, "--validate", "--format", "json", "-q")
    assert {f["rule"] for f in json.loads(checked.stdout)["files"][0]["findings"]} >= set(rules)


def test_ack277_with_an_input_by_url_is_refused(tmp_path, bucket):
    name, fs = bucket
    fs.put_file(str(SAMPLES / "837p-j2350-clean.edi"), f"{name}/nightly/a.edi")
    result = check(f"s3://{name}/nightly/", "--ack277", str(tmp_path / "acks"), "-q")
    assert result.exit_code == 2
    assert f"--ack277 reads its inputs as local files: not with a URL (s3://{name}/nightly/a.edi)" \
        in result.stderr
    assert not (tmp_path / "acks").exists()


def test_fix_with_an_input_by_url_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["fix", "s3://bucket/nightly/", "--out-dir",
                                       str(tmp_path / "fixed"), "-q"])
    assert result.exit_code == 2
    assert "fix reads its inputs as local files: not with a URL (s3://bucket/nightly/)" \
        in result.stderr
    assert not (tmp_path / "fixed").exists()


def test_a_url_with_credentials_is_refused_without_showing_them():
    result = check("s3://AKIAEXAMPLE:s3cr3t-value@bucket/nightly/", "-q")
    assert result.exit_code == 2
    assert "must not hold credentials" in result.stderr
    assert "s3cr3t-value" not in result.stderr


def test_an_output_over_an_input_object_is_refused(tmp_path, bucket):
    name, fs = bucket
    fs.put_file(str(SAMPLES / "837p-j2350-clean.edi"), f"{name}/nightly/a.edi")
    url = f"s3://{name}/nightly/a.edi"
    result = check(url, "-o", url, "--format", "json", "-q")
    assert result.exit_code == 2
    assert f"output {url} is one of the input files" in result.stderr
    assert fs.cat_file(f"{name}/nightly/a.edi") == (SAMPLES / "837p-j2350-clean.edi").read_bytes()


def test_an_output_that_fails_half_way_leaves_the_old_object(bucket):
    from edi837.files import atomic_output

    name, fs = bucket
    url = f"s3://{name}/reports/night.json"
    with atomic_output(url) as out:
        out.write('{"old": true}')
    with pytest.raises(RuntimeError):
        with atomic_output(url) as out:
            out.write('{"new": ')
            raise RuntimeError("the writer failed half way")
    assert fs.cat_file(f"{name}/reports/night.json") == b'{"old": true}'
    with pytest.raises(RuntimeError):
        with atomic_output(f"s3://{name}/reports/other.json") as out:
            out.write('{"new": ')
            raise RuntimeError("the writer failed half way")
    assert not fs.exists(f"{name}/reports/other.json")
