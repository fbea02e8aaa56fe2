"""What crosses between a cluster's worker and the driver without a shared folder
(issue 26): findings and claim records as bytes, outputs written by the driver
where the worker would have, and a worker that cannot read an input told apart
from a file that changed."""
import json
from concurrent.futures import Future
from pathlib import Path

import pytest

from edi837.batch.remote import RemoteJobs, _relocated, write_outputs
from edi837.batch.run import Job, ReportJob
from edi837.findings import ERROR, Finding
from edi837.history import handover
from edi837.workers import UNREACHABLE, InputUnreachable, unreachable


def _findings(count: int) -> list[Finding]:
    return [Finding("NDC002", ERROR, f"bad NDC {n}", "in.edi", segment_index=n)
            for n in range(count)]


def test_findings_as_bytes_are_the_bytes_of_a_handover_file(tmp_path):
    findings = _findings(1300)  # several chunks
    data = handover.findings_bytes(findings)
    handover.dump_findings(findings, tmp_path / "findings")
    assert data == (tmp_path / "findings").read_bytes()
    back = list(handover.findings_of_bytes(data))
    assert [(f.rule, f.message, f.segment_index) for f in back] == \
        [(f.rule, f.message, f.segment_index) for f in findings]
    assert list(handover.findings_of_bytes(b"")) == []


def test_an_in_memory_record_sink_holds_what_a_file_sink_writes(tmp_path):
    memory = handover.RecordSink(None, b"k" * 32, persistent=False)
    on_disk = handover.RecordSink(tmp_path / "records", b"k" * 32, persistent=False)
    for sink in (memory, on_disk):
        sink.begin_file()
        sink.end_file("0" * 64)
    assert memory.data == (tmp_path / "records").read_bytes() == b""


@pytest.mark.parametrize("out", ["/srv/out/run/files/a.edi", '/srv/o"ut/ré/files/a.edi'])
def test_an_output_naming_the_workers_scratch_folder_names_the_drivers(out):
    scratch = "/tmp/edi837-job-abc/out"
    log = json.dumps({"output": f"{scratch}/fixed/a.edi", "applied": 1}).encode()
    moved = json.loads(_relocated("a.edi.changes.json", log, scratch, out))
    assert moved["output"] == f"{out}/fixed/a.edi"
    text = f"in.edi -> {scratch}/fixed/a.edi: 1 change(s)\n".encode()
    assert _relocated("a.edi.changes.txt", text, scratch, out).decode() == \
        f"in.edi -> {out}/fixed/a.edi: 1 change(s)\n"
    assert _relocated("report.json", b'{"x": 1}', scratch, out) == b'{"x": 1}'


def test_the_driver_writes_a_workers_outputs_in_place(tmp_path):
    job = Job("in.edi", "a.edi", "0" * 64, (0, 0, 1, 1), str(tmp_path / "files" / "a.edi"))
    write_outputs(job, {"report.json": b"{}", "fixed/a.edi": b"ISA~"}, "/tmp/scratch")
    assert (tmp_path / "files/a.edi/report.json").read_bytes() == b"{}"
    assert (tmp_path / "files/a.edi/fixed/a.edi").read_bytes() == b"ISA~"
    assert sorted(p.name for p in (tmp_path / "files/a.edi").rglob("*")) == \
        ["a.edi", "fixed", "report.json"]  # no temporary left


class _Done:
    slots, table_version = 1, "t"

    def __init__(self, outcome: dict) -> None:
        self.outcome, self.sent = outcome, []

    def submit(self, job):
        self.sent.append(job)
        future = Future()
        future.set_result(dict(self.outcome))
        return future

    def result(self, future):
        return future.result()


def test_a_worker_that_cannot_read_the_input_is_not_a_changed_file(tmp_path):
    missing = tmp_path / "not-here.edi"
    outcome = unreachable(str(missing), open)
    assert outcome[UNREACHABLE] == "No such file or directory" and outcome["worker"]
    assert unreachable(__file__, open) is None
    job = Job(str(missing), "not-here.edi", "0" * 64, (0, 0, 1, 1), str(tmp_path / "out"),
              str(tmp_path / "work"))
    jobs = RemoteJobs(_Done(outcome))
    with pytest.raises(InputUnreachable) as caught:
        jobs.result(jobs.submit(job))
    assert str(missing) in str(caught.value) and outcome["worker"] in str(caught.value)
    assert "nothing was quarantined" in str(caught.value)


def test_a_report_job_carries_the_drivers_work_folder(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / handover.FINDINGS).write_bytes(b"f")
    (work / handover.HISTORY).write_bytes(b"h")
    job = Job("in.edi", "a.edi", "0" * 64, (0, 0, 1, 1), str(tmp_path / "out"), str(work))
    executor = _Done({"outputs": [], "quarantine": False})
    RemoteJobs(executor).submit(ReportJob(job, {"sha256": "0" * 64}))
    assert executor.sent[0].handover == {"findings": b"f", "history": b"h"}
    assert Path(job.work_dir).is_dir()
