"""Operator trial 7b, item 4: `batch --dask` of a file checked whole sends step 2 (the
reports) no file data: its worker takes step 1's findings and claim records from step
1's outcome, which Dask hands between workers; the driver's task carries only what it
wrote itself (the history's findings).  A 15 MB object's step 2 carried ~10 MB and
made Dask warn "Sending large graph of size 9.87 MiB"."""
import json
import pickle
from dataclasses import replace
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from batch_support import HOUR, drop, generated, new_key, options  # noqa: E402

from edi837.batch import run_batch  # noqa: E402
from edi837.batch.run import FINDINGS, HISTORY, RECORDS, ReportJob  # noqa: E402
from edi837.parallel import faults  # noqa: E402


@pytest.mark.slow
def test_step_two_carries_no_findings_or_records(tmp_path, dask_cluster, monkeypatch):
    data = {"big.edi": generated("837P", claims=400, seed=3),
            "small.edi": generated("837P", claims=4, seed=4)}
    sent = []  # (job, pickled size of the task's arguments, the worker's files' size)
    submit = faults.Guard.submit

    def spy(self, function, *args, name):
        job = next((a for a in args if isinstance(a, ReportJob)), None)
        if job is not None:  # (args[0], the settings: in every task)
            work = Path(job.job.work_dir)
            made = sum((work / n).stat().st_size for n in (FINDINGS, RECORDS))
            sent.append((job, len(pickle.dumps(args[1:])), made))
        return submit(self, function, *args, name=name)

    monkeypatch.setattr(faults.Guard, "submit", spy)
    runs = {}
    for how in ("one", "dask"):
        opts = options(tmp_path / how, history_key=new_key(tmp_path / "history.key"))
        for name, content in data.items():
            drop(opts.inbox, name, content, age=HOUR)
        if how == "dask":
            opts = replace(opts, dask=dask_cluster)
        assert run_batch(opts) in (0, 1)
        runs[how] = reports(opts.out)
    assert runs["dask"] == runs["one"] and len(runs["one"]) == 2
    assert sorted(job.job.name for job, _, _ in sent) == sorted(data)
    assert max(made for _, _, made in sent) > 50_000  # what step 2 used to carry
    for job, size, _ in sent:
        assert FINDINGS not in job.handover and RECORDS not in job.handover
        # what is left: the history's findings, which the driver made (and the job)
        assert size - len(job.handover.get(HISTORY, b"")) < 5_000, (job.job.name, size)

def reports(out: Path) -> dict[str, dict]:
    found = {}
    for path in sorted(out.glob("*/files/*/report.json")):
        doc = json.loads(path.read_text())
        for entry in doc["files"]:
            entry.pop("path", None)
        doc.pop("run", None)
        doc.get("reference_data", {}).pop("history", None)  # the store's name
        found[path.parent.name] = doc
    return found
