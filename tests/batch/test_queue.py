"""The work queue (issue 27): claims held by batch runs, across files and nights,
until each comes back clean, is replaced, resent, voided or closed."""
import json
import sqlite3
from itertools import count

import pytest
from batch_support import drop, options, summaries
from click.testing import CliRunner
from queue_support import claim, drop_night

from edi837.batch import driver, run_batch
from edi837.cli import main

CONTRACT = {"claim_id", "payer_id", "billing_npi", "charge", "rules", "first_run",
            "age_days", "resubmissions"}


@pytest.fixture
def nights(monkeypatch):
    """Runs dated by night: run ids 2026-01-05, -06, ... in the order they start."""
    days = count(5)

    def run_id():
        return f"202601{next(days):02d}T021500.000000Z"

    monkeypatch.setattr(driver, "_new_run_id", run_id)


def queue(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["queue", *args])
    return result.exit_code, result.output


def listed(out, *args: str) -> list[dict]:
    code, text = queue("list", "--out", str(out), "--format", "json", *args)
    assert code == 0, text
    return [json.loads(line) for line in text.splitlines()]


def test_three_nights_the_third_summary_shows_exactly_the_open_claims(tmp_path, nights):
    """The issue's "Done when": some held claims corrected and resent on the second
    night; the third night's summary shows the claims still open with their age and
    dollars, the corrected ones resolved with the run that resolved them, and
    `queue list` agrees."""
    opts = options(tmp_path)
    drop_night(opts.inbox, "monday.edi", [
        claim("A", "001", "20251201", held=True, charge="9400"),
        claim("B", "002", "20251201", held=True, charge="8000"),
        claim("C", "003", "20251201", held=True, charge="7000"),
        claim("D", "004", "20251201"),
        claim("V", "005", "20251201", charge="5000", no_ms=True)], "000000001")
    assert run_batch(opts) == 1
    drop_night(opts.inbox, "tuesday.edi", [
        claim("A", "001", "20251201", charge="9400"),  # corrected, same claim id
        claim("B2", "002", "20251201", charge="8000"),  # corrected under a new claim id
        claim("C", "003", "20251201", held=True, charge="7000"),  # sent again, still wrong
        claim("E", "006", "20251202", charge="6000", no_ms=True),
        claim("V", "005", "20251201", frequency="8", original="V", charge="5000")],
        "000000002")
    run_batch(opts)
    drop_night(opts.inbox, "wednesday.edi", [
        claim("E", "006", "20251202", frequency="7", original="E", charge="6000"),
        claim("G", "007", "20251203", held=True, charge="3000"),
        claim("H", "008", "20251203")], "000000003")
    run_batch(opts)

    first, second, third = (s["queue"] for s in summaries(opts.out))
    assert {c["claim_id"] for c in first["claims"]} == {"A", "B", "C", "V"}
    run1, run2, run3 = (s["run"]["id"] for s in summaries(opts.out))
    assert {(c["claim_id"], c["status"], c["resolved_by_run"]) for c in
            second["resolved_by_this_run"]} == {("A", "resolved", run2), ("B", "resolved", run2),
                                                ("V", "voided", run2)}
    assert {c["claim_id"]: c["resolution"] for c in second["resolved_by_this_run"]} == {
        "A": "clean", "B": "resend", "V": "void"}

    # the third night: exactly C and G open, aged and with their dollars
    assert third["as_of"] == "2026-01-07"
    assert {c["claim_id"]: (c["age_days"], c["charge"], c["resubmissions"])
            for c in third["claims"]} == {"C": (2, 7000.0, 1), "G": (0, 3000.0, 0)}
    assert third["open"] == {"claims": 2, "charges": 10000.0}
    assert [(c["claim_id"], c["resolution"], c["resolved_by_run"])
            for c in third["resolved_by_this_run"]] == [("E", "replacement", run3)]
    assert {(a["key"], a["claims"], a["charges"]) for a in third["by_age"]} == {
        ("today", 1, 3000.0), ("1-7 days", 1, 7000.0)}

    # queue list agrees, aged to the same night
    now = listed(opts.out, "--as-of", "2026-01-07")
    assert [{k: c[k] for k in CONTRACT} for c in third["claims"]] == now
    assert all(set(c) == CONTRACT for c in now)
    everything = {c["claim_id"]: c for c in listed(opts.out, "--all", "--as-of", "2026-01-07")}
    assert set(everything) == {"A", "B", "C", "E", "G", "V"}
    assert {k: (c["status"], c["resolved_by_run"]) for k, c in everything.items()} == {
        "A": ("resolved", run2), "B": ("resolved", run2), "V": ("voided", run2),
        "E": ("resolved", run3), "C": ("open", None), "G": ("open", None)}
    assert everything["C"]["first_run"] == run1 and everything["C"]["rules"] == ["NDC002"]
    assert everything["E"]["rules"] == ["DX001"]

    # the summary page says it, and its queue page carries the same claims
    page = (opts.out / run3 / "summary.html").read_text()
    assert 'data-figure="queue-open">2<' in page and "$10,000.00" in page
    assert 'href="queue.html#payer=PAYER01&amp;tonight=1"' in page
    assert 'href="queue.html#rule=NDC002&amp;tonight=1"' in page
    data = _page_data(opts.out / run3 / "queue.html")
    assert {c["claim_id"] for c in data["claims"]} == {"C", "G"}


def _page_data(path) -> dict:
    text = path.read_text()
    start = text.index('<script type="application/json" id="queue-data">')
    body = text[start:].split(">", 1)[1].split("</script>", 1)[0]
    return json.loads(body)


def test_filters_combine_and_totals_follow_them(tmp_path, nights):
    opts = options(tmp_path)
    drop_night(opts.inbox, "monday.edi", [
        claim("P1", "001", "20251201", held=True, charge="100", payer="PAYER01"),
        claim("P2", "002", "20251201", held=True, charge="200", payer="PAYER01", no_ms=True),
        claim("Q1", "003", "20251201", held=True, charge="400", payer="PAYER02"),
        claim("Q2", "004", "20251201", held=True, charge="800", payer="PAYER02", no_ms=True)],
        "000000001")
    run_batch(opts)
    out = str(opts.out)
    assert {c["claim_id"] for c in listed(out, "--payer", "PAYER02")} == {"Q1", "Q2"}
    assert {c["claim_id"] for c in listed(out, "--rule", "DX001")} == {"P2", "Q2"}
    assert [c["claim_id"] for c in listed(out, "--payer", "PAYER02", "--rule", "DX001")] == ["Q2"]
    assert listed(out, "--min-age", "3", "--as-of", "2026-01-07") == []
    assert len(listed(out, "--min-age", "2", "--as-of", "2026-01-07")) == 4
    code, text = queue("list", "--out", out, "--payer", "PAYER02", "--rule", "DX001")
    assert code == 0 and text.splitlines()[-1] == "1 claim, $800.00 open"
    code, text = queue("list", "--out", out)
    assert text.splitlines()[-1] == "4 claims, $1,500.00 open"
    assert "SUB0001" in text  # the submitter: the people to call


def test_close_note_show_and_export(tmp_path, nights):
    opts = options(tmp_path)
    drop_night(opts.inbox, "monday.edi", [
        claim("A", "001", "20251201", held=True), claim("B", "002", "20251201", held=True)],
        "000000001")
    run_batch(opts)
    out = str(opts.out)
    assert queue("close", "--out", out, "A")[0] == 2  # a reason is required
    assert queue("close", "--out", out, "A", "--reason", " ")[0] == 2
    assert queue("note", "--out", out, "A", "called the clinic, NDC to follow")[0] == 0
    code, text = queue("close", "--out", out, "A", "--reason", "paid on appeal")
    assert code == 0 and "closed" in text
    assert [c["claim_id"] for c in listed(out)] == ["B"]
    closed = [c for c in listed(out, "--all") if c["claim_id"] == "A"]
    assert closed[0]["status"] == "closed" and closed[0]["resolved_by_run"] == "operator"
    code, text = queue("close", "--out", out, "A", "--reason", "again")
    assert code == 2 and "no open claim A" in text
    code, text = queue("show", "--out", out, "A")
    assert code == 0 and "paid on appeal" in text and "called the clinic" in text
    assert queue("show", "--out", out, "NOPE")[0] == 2
    target = tmp_path / "queue.csv"
    assert queue("export", "--out", out, "--all", "-o", str(target))[0] == 0
    lines = target.read_text().splitlines()
    assert lines[0].startswith("claim_id,payer_id") and len(lines) == 3


def test_an_ambiguous_claim_id_is_refused(tmp_path, nights):
    opts = options(tmp_path)
    drop_night(opts.inbox, "monday.edi", [
        claim("A", "001", "20251201", held=True, payer="PAYER01"),
        claim("A", "002", "20251202", held=True, payer="PAYER02")], "000000001")
    run_batch(opts)
    code, text = queue("close", "--out", str(opts.out), "A", "--reason", "x")
    assert code == 2 and "--payer" in text
    assert queue("close", "--out", str(opts.out), "A", "--payer", "PAYER02",
                 "--reason", "x")[0] == 0


def test_no_ledger_is_a_clear_error(tmp_path):
    code, text = queue("list", "--out", str(tmp_path))
    assert code == 2 and "no ledger.sqlite3" in text and "Traceback" not in text


def test_held_again_counts_a_resubmission_but_the_same_bytes_do_not(tmp_path, nights):
    opts = options(tmp_path)
    drop_night(opts.inbox, "monday.edi", [claim("C", "003", "20251201", held=True)], "000000001")
    run_batch(opts)
    drop_night(opts.inbox, "again.edi", [claim("C", "003", "20251201", held=True)], "000000001")
    run_batch(opts)  # the same content: a duplicate, not checked
    assert listed(opts.out)[0]["resubmissions"] == 0
    drop_night(opts.inbox, "tuesday.edi", [claim("C", "003", "20251201", held=True)],
               "000000002")
    run_batch(opts)
    [entry] = listed(opts.out)
    assert entry["resubmissions"] == 1


def test_without_a_lasting_history_claims_match_by_claim_id(tmp_path, nights):
    opts = options(tmp_path, history=False)
    drop_night(opts.inbox, "monday.edi", [
        claim("A", "001", "20251201", held=True), claim("B", "002", "20251201", held=True)],
        "000000001")
    run_batch(opts)
    drop_night(opts.inbox, "tuesday.edi", [
        claim("A", "001", "20251201"), claim("B2", "002", "20251201")], "000000002")
    run_batch(opts)
    # A came back clean; B's resend under a new id cannot be told without the history
    assert [c["claim_id"] for c in listed(opts.out)] == ["B"]


def test_the_queue_holds_no_patient_identity(tmp_path, nights):
    opts = options(tmp_path)
    drop_night(opts.inbox, "monday.edi", [claim("A", "001", "20251201", held=True)], "000000001")
    run_batch(opts)
    db = sqlite3.connect(opts.out / "ledger.sqlite3")
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                       "AND name LIKE 'queue_%'")]
    assert set(tables) == {"queue_claims", "queue_services", "queue_notes", "queue_inputs",
                           "queue_later"}
    text = " ".join(str(v) for t in tables for row in db.execute(f"SELECT * FROM {t}")
                    for v in row)
    for private in ("SYN001", "DOE", "JANE", "19800101"):
        assert private not in text
    assert "A" in text and "PAYER01" in text


@pytest.mark.slow
def test_killed_at_every_step_each_file_reaches_the_queue_once(tmp_path):
    from queue_support import night
    from test_batch import killed_at_step

    inputs = {"a-monday.edi": night([claim("A", "001", "20251201", held=True),
                                     claim("B", "002", "20251201", held=True)], "000000001"),
              "b-tuesday.edi": night([claim("A", "001", "20251201"),
                                      claim("B", "002", "20251201", held=True)], "000000002")}
    step = 0
    while True:
        step += 1
        opts = options(tmp_path / f"step{step}")
        for name, data in inputs.items():
            drop(opts.inbox, name, data)
        died = killed_at_step(opts, step)
        run_batch(opts)  # the restart repairs and finishes
        everything = {c["claim_id"]: c for c in listed(opts.out, "--all")}
        assert set(everything) == {"A", "B"}, step
        assert everything["A"]["status"] == "resolved", step
        assert (everything["B"]["status"], everything["B"]["resubmissions"]) == ("open", 1), step
        if not died:
            break
    assert step > 8


def test_a_claim_with_warnings_only_is_written_for_the_page_and_never_queued(tmp_path):
    """Not a drug claim (no history record), warnings only: written as ``listed``
    with its warning rules, and the queue store passes over it (it holds nothing, and
    resolves nothing either: the queue changes only through held and drug claims)."""
    from edi837.findings import Finding
    from edi837.queue.facts import claim_facts
    from edi837.queue.store import apply_file, ensure_schema

    def found(rule, severity, claim_id, first):
        return Finding(rule, severity, "m", "f.edi", claim_id=claim_id, claim_first=first,
                       payer_id="PAYER01", billing_npi="1234567893", claim_charge="75")

    facts = list(claim_facts([], [found("NDC002", "error", "E1", 10),
                                  found("ADM001", "warning", "E1", 10),
                                  found("ADM001", "warning", "W1", 30),
                                  found("DOC001", "info", "I1", 50)],
                             persistent=False))
    assert [(f["claim_id"], f["held"], f["rules"], f["warnings"], f.get("listed"))
            for f in facts] == [("E1", True, ["NDC002"], ["ADM001"], None),
                                ("W1", False, [], ["ADM001"], True)]
    db = sqlite3.connect(":memory:", isolation_level=None)
    ensure_schema(db)
    held = {**facts[0], "claim_id": "W1"}  # W1 held by an earlier night
    counts = apply_file(db, [held], run_id="20260101T000000.000000Z", file="a", sha256="a")
    assert counts["opened"] == 1
    counts = apply_file(db, [facts[1]], run_id="20260102T000000.000000Z", file="b",
                        sha256="b")
    assert not any(counts.values())
    assert db.execute("SELECT status FROM queue_claims").fetchall() == [("open",)]


def test_each_held_claim_names_the_submitter_of_its_own_transaction_set():
    """A file may carry sets of several submitters: each claim's submitter is its set's,
    as the reader found it (FileResult.submitters), not the file's first 1000A."""
    from edi837.findings import Finding
    from edi837.model import envelope_key
    from edi837.queue.facts import claim_facts

    def held(claim_id, first, transaction):
        return Finding("NDC002", "error", "m", "f.edi", claim_id=claim_id, claim_first=first,
                       interchange="000000001", group="1", transaction=transaction,
                       payer_id="PAYER01", billing_npi="1234567893", claim_charge="75")

    submitters = {envelope_key("000000001", "1", "0001"): ["SUB0001", "FIRST SENDER"],
                  envelope_key("000000001", "1", "0002"): ["SUB0002", "SECOND SENDER"]}
    facts = claim_facts([], [held("A1", 10, "0001"), held("B1", 90, "0002")],
                        submitters=submitters, persistent=False)
    assert [(f["claim_id"], f["submitter"], f["submitter_name"]) for f in facts] == [
        ("A1", "SUB0001", "FIRST SENDER"), ("B1", "SUB0002", "SECOND SENDER")]


@pytest.mark.parametrize("command", [["close", "C1", "--reason", "paid"], ["list"],
                                     ["note", "C1", "called"]])
def test_a_ledger_of_something_else_is_refused_untouched(tmp_path, command):
    """`queue` opens the ledger as batch does: a foreign SQLite file named ledger.sqlite3
    gets no queue tables, and one of a newer edi837 is refused too."""
    foreign = tmp_path / "ledger.sqlite3"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE invoices (id INTEGER)")
    db.commit()
    db.close()
    before = foreign.read_bytes()
    result = CliRunner().invoke(main, ["queue", command[0], "--out", str(tmp_path),
                                       *command[1:]])
    assert result.exit_code == 2, result.output
    assert "a SQLite database of something else" in result.output
    assert foreign.read_bytes() == before
    newer = tmp_path / "newer"
    newer.mkdir()
    db = sqlite3.connect(newer / "ledger.sqlite3")
    db.execute("CREATE TABLE runs (run_id TEXT)")
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    result = CliRunner().invoke(main, ["queue", command[0], "--out", str(newer),
                                       *command[1:]])
    assert result.exit_code == 2 and "written by a newer edi837" in result.output
