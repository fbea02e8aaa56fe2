"""Bugs found trying the new features as a new user would (payer policy, the work
queue, release fixes): each test is the one-line reproduction of one of them."""
import json
import tomllib

import pytest
import refdata_files as ref_files
from batch_support import options
from claim_support import claim_checker, claim_engine, professional
from click.testing import CliRunner
from queue_support import claim, drop_night

from edi837.batch import run_batch
from edi837.cli import main
from edi837.config import ConfigError
from edi837.config import parse_config as parse_dict


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.fixture
def held_queue(tmp_path):
    """A batch OUTDIR whose queue holds one claim (NDC002)."""
    opts = options(tmp_path)
    drop_night(opts.inbox, "monday.edi", [claim("A", "001", "20251201", held=True)],
               "000000001")
    run_batch(opts)
    return str(opts.out)


# -- queue filters: a typo in a rule code must not show an empty, "clean" queue -----------

@pytest.mark.parametrize("command", ["list", "export"])
def test_queue_rule_filter_that_names_no_rule_is_refused(held_queue, command):
    code, text = run("queue", command, "--out", held_queue, "--rule", "NDC02")
    assert code == 2, text
    assert "NDC02" in text and "NDC002" in text  # names the close match


def test_queue_rule_filter_is_case_insensitive_like_select(held_queue):
    code, text = run("queue", "list", "--out", held_queue, "--rule", "ndc002",
                     "--format", "json")
    assert code == 0, text
    assert [json.loads(line)["claim_id"] for line in text.splitlines()] == ["A"]


# -- queue export: an extension that names no format is misuse, as for check -o ---------

def test_queue_export_to_an_unknown_extension_is_refused(held_queue, tmp_path):
    target = tmp_path / "queue.pdf"
    code, text = run("queue", "export", "--out", held_queue, "-o", str(target))
    assert code == 2, text
    assert "queue.pdf" in text and ".csv" in text and ".jsonl" in text
    assert not target.exists()


@pytest.mark.parametrize("name, first", [("q.csv", "claim_id,"), ("q.jsonl", "{"),
                                         ("q.json", "{"), ("Q.CSV", "claim_id,")])
def test_queue_export_known_extensions_still_work(held_queue, tmp_path, name, first):
    target = tmp_path / name
    code, text = run("queue", "export", "--out", held_queue, "-o", str(target))
    assert code == 0, text
    assert target.read_text().startswith(first)


# -- profiles: a key that can never match must not make a run look clean ------------------


def parse_config(text, source):
    return parse_dict(tomllib.loads(text), source)


def test_a_profile_filing_indicator_matches_whatever_its_case(tmp_path):
    config = parse_config('[[profiles]]\nname = "x"\nfiling_indicators = ["ci"]\n'
                          'jw_jz = true\n', "edi837.toml")
    assert config.profile_for("ANY01", "CI").name == "x"


@pytest.mark.parametrize("code, close", [("C1", "CI"), ("MCD", "MC"), ("Medicaid", None)])
def test_a_profile_filing_indicator_that_is_no_sbr09_code_is_refused(code, close):
    with pytest.raises(ConfigError) as caught:
        parse_config(f'[[profiles]]\nname = "x"\nfiling_indicators = ["{code}"]\n'
                     'jw_jz = true\n', "edi837.toml")
    message = str(caught.value)
    assert "profiles[0].filing_indicators" in message and repr(code) in message
    assert "SBR09" in message and (close is None or close in message)


def test_a_profile_that_names_no_payer_filing_indicator_or_setting_is_refused():
    with pytest.raises(ConfigError) as caught:
        parse_config('[[profiles]]\nname = "enforce JZ"\njw_jz = true\n', "edi837.toml")
    assert "profiles[0]" in str(caught.value)
    assert "payer_ids" in str(caught.value) and "filing_indicators" in str(caught.value)


def test_a_profile_typo_is_exit_2_on_the_command_line(tmp_path):
    config = tmp_path / "edi837.toml"
    config.write_text('[[profiles]]\nname = "x"\nfiling_indicators = ["C1"]\njw_jz = true\n')
    code, text = run("policy", "--config", str(config), "--filing", "CI")
    assert code == 2 and "C1" in text and "Traceback" not in text


# -- DX002: the replacement it suggests must be writable as it is said -------------------

@pytest.fixture
def engine():  # one run each: the history of one test is not the next test's
    return claim_engine()


@pytest.fixture
def check(engine, tmp_path):
    """Run a claim fragment; return the findings of the claim-context rules."""
    return claim_checker(engine, tmp_path)


@pytest.mark.parametrize("hi, written", [("G35B", "G35B0, G35B1, G35B2"),
                                         ("G35.A", None), ("G35", "G35A, G35B0")])
def test_dx002_names_the_replacement_codes_as_the_hi_segment_carries_them(check, hi, written):
    date = "20251001" if hi == "G35" else "20260115"
    found, = check(professional(hi=f"HI*ABK:{hi}", date=date), rules={"DX002"})
    # a G35.A finding says the HI carries no decimal point: its advice must not add one
    if written:
        assert f"written {written}" in found.message and "in HI" in found.message
    assert "G35A" in found.message or hi != "G35.A"


# -- drugs HCPCS: the dates check judges by, from imported files, are shown ------------------


def test_drugs_shows_the_imported_code_and_marketing_dates_check_uses(tmp_path):
    store = tmp_path / "store"
    hcpcs = ref_files.hcpcs_file([["J2350", "0010", "3", "Injection, ocrelizumab, 1 mg",
                                   "Injection, ocrelizumab, 1 mg", "20180101", "20180101",
                                   "20251231", "D"]])
    package = ref_files.fda_package([["x_1", "50242-150", "50242-150-01", "1 VIAL in 1 CARTON",
                                      "20170328", "20251130", "N", "N"]])
    code, text = run("refdata", "import", "--refdata", str(store),
                     str(ref_files.write(tmp_path, "HCPC2026_JAN_ANWEB.csv", hcpcs)),
                     str(ref_files.write(tmp_path, "package.txt", package)))
    assert code == 0, text
    code, text = run("drugs", "J2350", "--refdata", str(store), "--date", "2026-01-15")
    assert code == 0, text
    imported = text.split("from imported CMS files")[1]
    assert "none for this code and date" not in imported
    assert "code valid: 2018-01-01 to 2025-12-31" in imported and "HCPC2026_JAN" in imported
    assert "NDC 50242015001 marketed: 2017-03-28 to 2025-11-30" in imported
    assert "package.txt" in imported


# -- edi837 policy: a filing indicator typo must not quietly explain the "other" policy ---

def test_policy_refuses_a_filing_indicator_that_is_no_sbr09_code():
    code, text = run("policy", "--filing", "C1", "--date", "2026-03-01")
    assert code == 2, text
    assert "C1" in text and "CI" in text and "policy other" not in text


def test_policy_reads_a_lower_case_filing_indicator():
    code, text = run("policy", "--filing", "mb", "--date", "2026-03-01")
    assert code == 0 and "policy medicare-ffs" in text


def test_policy_listing_ends_with_a_whole_sentence():
    code, text = run("policy")
    assert code == 0
    last = text.strip().splitlines()[-1]
    assert last.startswith("`edi837 policy --payer") and not last.endswith("claim's")


# -- batch summary: a rule row links into the queue only when the rule held claims --------

def test_summary_links_only_rules_that_held_claims_into_the_queue(held_queue):
    from pathlib import Path

    from batch_support import run_dirs

    summary = (run_dirs(Path(held_queue))[-1] / "summary.html").read_text()
    rules = summary.split('id="rules"')[1].split("</table>")[0]
    assert 'href="queue.html#rule=NDC002&amp;tonight=1"' in rules  # held the claim
    # an info rule held nothing: its link would open an empty queue view
    assert "<code>DOC000</code>" in rules  # the claim's documentation checklist
    assert "queue.html#rule=DOC000" not in rules


def test_a_profile_payer_id_given_as_a_string_is_one_payer_id_not_its_letters():
    config = parse_config('[[profiles]]\nname = "x"\npayer_ids = "PAYER01"\njw_jz = true\n',
                          "edi837.toml")
    assert config.profile_for("PAYER01", "CI").name == "x"
    assert config.profile_for("P", "CI").name != "x"


def test_a_profile_payer_ids_that_is_no_list_is_refused():
    with pytest.raises(ConfigError, match=r"profiles\[0\]\.payer_ids"):
        parse_config('[[profiles]]\nname = "x"\npayer_ids = {a = 1}\njw_jz = true\n',
                     "edi837.toml")


# -- a schedule override for a code the drug table does not have would never apply --------

SCHEDULE_TYPO = ('[[profiles]]\nname = "x"\npayer_ids = ["PAYER01"]\n'
                 '[profiles.schedules.J2530]\nmaintenance_min_days = 100\n')


@pytest.mark.parametrize("command", ["check", "fix", "ack", "batch"])
def test_a_schedule_for_a_code_not_in_the_drug_table_is_refused(tmp_path, command):
    from edi837.x12.fragment import wrap_claims

    config = tmp_path / "edi837.toml"
    config.write_text(SCHEDULE_TYPO)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.edi").write_text(wrap_claims("CLM*C1*100***11:B:1*Y*A*Y*Y\nHI*ABK:G35A"))
    args = {"check": [str(inbox)], "fix": [str(inbox), "--out-dir", str(tmp_path / "o")],
            "ack": [str(inbox), "--out-dir", str(tmp_path / "o")],
            "batch": [str(inbox), "--out", str(tmp_path / "o"), "--settle", "0"]}[command]
    code, text = run(command, "--config", str(config), *args)
    assert code == 2, text
    assert "J2530" in text and "J2350" in text and "Traceback" not in text


# -- the queue: a void withdraws the held claim even if the void repeats its defect -------

def test_a_void_of_a_held_claim_voids_it_even_when_the_void_is_held_too(tmp_path):
    opts = options(tmp_path)
    drop_night(opts.inbox, "monday.edi", [claim("A", "001", "20251201", held=True)],
               "000000001")
    run_batch(opts)
    # the sender withdraws A: a copy of it with CLM05-3 = 8, the same NDC defect in it
    drop_night(opts.inbox, "tuesday.edi",
               [claim("A", "001", "20251201", held=True, frequency="8")], "000000002")
    run_batch(opts)
    code, text = run("queue", "list", "--out", str(opts.out), "--all", "--format", "json")
    entries = [json.loads(line) for line in text.splitlines()]
    assert [(e["claim_id"], e["status"]) for e in entries] == [("A", "voided")]


# -- README: every edi837.toml example it shows is a configuration edi837 accepts ---------

def test_every_toml_example_of_the_readme_is_accepted():
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", readme, re.S)
    assert len(blocks) >= 3
    for block in blocks:
        parse_config(block, "README.md")


def test_an_empty_acknowledgment_id_means_the_default():
    config = parse_config('[acknowledgments]\nname = "CH"\nid = "CH0001"\nreceiver_id = ""\n',
                          "edi837.toml")
    assert config.acknowledgments.receiver_id == ""
    with pytest.raises(ConfigError, match="receiver_id"):
        parse_config('[acknowledgments]\nreceiver_id = "X"\n', "edi837.toml")  # too short
