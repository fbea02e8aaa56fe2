"""Payer policy (issue 22): each claim is judged by who pays, where, and when.

MOD001 (no JW/JZ) and NDC001 (no NDC) take their severity from the claim's
payer policy: PASS/FAIL fragments for each payer class x setting x date window,
the issue's "Done when" list, user profiles layered on top, `edi837 policy`,
and the rule catalog's wording checked against the shipped policies.
"""
import datetime as dt
import json
import re
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from edi837.cli import main
from edi837.config import ConfigError, parse_config
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.policy import PolicyResolver, payer_class, shipped_data, shipped_policies
from edi837.rules import all_rules
from edi837.x12.fragment import wrap_claims

REPO = Path(__file__).resolve().parents[2]
TABLE = load_drug_table()
OCREVUS_NDC = "50242015001"


# -- fragments ---------------------------------------------------------------------------

def line(composite="J2350", units=600, date="20260115", ndc=OCREVUS_NDC, number=1,
         kind="837P"):
    service = (f"SV1*HC:{composite}*9000*UN*{units}***1" if kind == "837P"
               else f"SV2*0636*HC:{composite}*9000*UN*{units}")
    segments = [f"LX*{number}", service, f"DTP*472*D8*{date}"]
    if ndc:
        segments += [f"LIN**N4*{ndc}", f"CTP****{units // 30 or 1}*ML"]
    return "\n".join(segments)


def claim(setting, *lines, date="20260115"):
    """A claim in a setting: "837P:11" (place of service) or "837I:13" (type of bill 13x)."""
    kind, code = setting.split(":")
    # the MS code valid on the date (G35A.. from 2025-10-01, bare G35 before): no DX002
    first = min(re.findall(r"DTP\*472\*D8\*([0-9]{8})", "\n".join(lines)) or [date])
    dx = "G35A" if first >= "20251001" else "G35"
    if kind == "837P":
        return "\n".join([f"CLM*C1*9000***{code}:B:1*Y*A*Y*Y", f"HI*ABK:{dx}", *lines])
    return "\n".join([f"CLM*I1*9000***{code}:A:1**A*Y*Y", f"DTP*434*RD8*{date}-{date}",
                      f"HI*ABK:{dx}", *lines])


def findings(tmp_path, fragment, kind, config=None, **wrap):
    path = tmp_path / f"claim-{kind}-{len(list(tmp_path.iterdir()))}.edi"
    path.write_text(wrap_claims(fragment, kind, **wrap))
    return list(Engine(TABLE, config).check_file(path).findings)


def severity_of(found, code):
    severities = {f.severity for f in found if f.rule == code}
    assert len(severities) <= 1, severities
    return severities.pop() if severities else None


# -- payer class -------------------------------------------------------------------------

@pytest.mark.parametrize("filing, expected", [
    ("MB", "medicare-ffs"), ("MA", "medicare-ffs"), ("16", "medicare-advantage"),
    ("MC", "medicaid"), ("CI", "commercial"), ("BL", "commercial"), ("HM", "commercial"),
    ("12", "commercial"), ("15", "commercial"), ("17", "commercial"), ("VA", "other"),
    ("WC", "other"), ("ZZ", "other"), ("", "other"), ("mb", "medicare-ffs")])
def test_payer_class_from_the_filing_indicator(filing, expected):
    assert payer_class(filing, "ANY01") == expected


def test_shipped_policies_validate_against_their_schema_and_ship_no_unsourced_payer_id():
    data = json.loads(json.dumps(shipped_data(), default=str))  # TOML dates as ISO strings
    schema = json.loads(resources.files("edi837.policy").joinpath("policy.schema.json")
                        .read_text())
    problems = sorted(Draft202012Validator(schema, format_checker=Draft202012Validator
                                           .FORMAT_CHECKER).iter_errors(data), key=str)
    assert problems == []
    assert (REPO / "schemas" / "policy.schema.json").read_text() == \
        resources.files("edi837.policy").joinpath("policy.schema.json").read_text()
    assert all(entry["source"] for entry in data["payer_ids"])  # (none shipped today)


def test_every_requirement_has_a_source_and_no_error_rests_on_an_unconfirmed_one():
    book = shipped_policies()
    for policy in book.policies.values():
        for requirement in (*policy.jw_jz, *policy.ndc, *policy.jw_denied):
            assert requirement.source and requirement.confidence
            if requirement.severity == "error":
                assert requirement.confidence in ("A", "B"), requirement


def test_payers_that_vary_get_a_warning_at_most():
    for name in ("medicare-advantage", "commercial", "other"):
        policy = shipped_policies().policies[name]
        assert {r.severity for r in (*policy.jw_jz, *policy.ndc)} <= {"warning", "none"}


# -- MOD001: payer class x setting x date window -------------------------------------------

CLASSES = {"medicare-ffs": None, "medicare-advantage": "16", "medicaid": "MC",
           "commercial": "CI"}
SETTINGS = ["837P:11", "837I:13", "837I:85", "837I:11", "837I:71", "837I:77"]
WINDOWS = {"before-2023-07-01": "20230630", "2023-07-01..09-30": "20230815",
           "from-2023-10-01": "20231001", "2026": "20260115"}


def expected_mod001(payer, setting, window):
    if window == "before-2023-07-01" or setting in ("837I:11", "837I:71", "837I:77"):
        return None
    if payer == "medicare-ffs":
        return "warning" if window == "2023-07-01..09-30" else "error"
    return "warning"


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("payer", CLASSES)
def test_mod001_by_payer_class_setting_and_date(tmp_path, payer, setting, window):
    kind = setting.split(":")[0]
    filing = CLASSES[payer] or ("MB" if kind == "837P" else "MA")
    date = WINDOWS[window]
    fail = claim(setting, line(date=date, kind=kind), date=date)
    found = findings(tmp_path, fail, kind, filing=filing)
    assert severity_of(found, "MOD001") == expected_mod001(payer, setting, window)
    assert {f.policy for f in found if f.claim_id} == {payer}
    passing = claim(setting, line("J2350:JZ", date=date, kind=kind), date=date)
    assert severity_of(findings(tmp_path, passing, kind, filing=filing), "MOD001") is None


# -- NDC001: payer class x setting x date window x drug ------------------------------------

def expected_ndc001(payer, hcpcs, setting=""):
    if payer == "medicaid":  # every physician-administered drug; not said of inpatient stays
        return "warning" if setting == "837I:11" else "error"
    if payer == "medicare-ffs":
        return "error" if hcpcs == "J3490" else None  # NOC codes only
    # table drugs: payers vary; a NOC code's NDC is the drug's only identity (trial 5 item 9)
    return "warning"


@pytest.mark.parametrize("hcpcs", ["J2350", "J3490"])
@pytest.mark.parametrize("window", ["2023-07-01..09-30", "2026"])
@pytest.mark.parametrize("setting", ["837P:11", "837I:13", "837I:11"])
@pytest.mark.parametrize("payer", CLASSES)
def test_ndc001_by_payer_class_setting_and_date(tmp_path, payer, setting, window, hcpcs):
    kind = setting.split(":")[0]
    filing = CLASSES[payer] or ("MB" if kind == "837P" else "MA")
    date = WINDOWS[window]
    units = 600 if hcpcs == "J2350" else 1
    fail = claim(setting, line(f"{hcpcs}:JZ", units, date, ndc=None, kind=kind), date=date)
    assert severity_of(findings(tmp_path, fail, kind, filing=filing), "NDC001") == \
        expected_ndc001(payer, hcpcs, setting)
    passing = claim(setting, line(f"{hcpcs}:JZ", units, date, kind=kind), date=date)
    assert severity_of(findings(tmp_path, passing, kind, filing=filing), "NDC001") is None


# -- the "Done when" -------------------------------------------------------------

MISSING_JZ = claim("837P:11", line(date="20231002"))
MISSING_JZ_837I = claim("837I:13", line(date="20231002", kind="837I"), date="20231002")


def test_done_medicare_part_b_missing_jz_from_2023_10_01_is_an_error(tmp_path):
    found = findings(tmp_path, MISSING_JZ, "837P", filing="MB")
    assert severity_of(found, "MOD001") == "error"


@pytest.mark.parametrize("filing", ["CI", "MC", "16"])
def test_done_the_same_claim_for_commercial_medicaid_or_ma_is_not_an_error(tmp_path, filing):
    found = findings(tmp_path, MISSING_JZ, "837P", filing=filing)
    assert severity_of(found, "MOD001") != "error"
    assert not any(f.severity == "error" for f in found)


@pytest.mark.parametrize("bill_type", ["11", "71", "77"])
def test_done_inpatient_rhc_and_fqhc_bills_are_not_an_error(tmp_path, bill_type):
    fragment = MISSING_JZ_837I.replace("CLM*I1*9000***13:", f"CLM*I1*9000***{bill_type}:")
    assert severity_of(findings(tmp_path, fragment, "837I", filing="MA"), "MOD001") is None
    assert severity_of(findings(tmp_path, MISSING_JZ_837I, "837I", filing="MA"),
                       "MOD001") == "error"


def test_done_a_medicare_claim_dated_before_2023_10_01_is_not_an_error(tmp_path):
    fragment = MISSING_JZ.replace("20231002", "20230815")
    assert severity_of(findings(tmp_path, fragment, "837P", filing="MB"), "MOD001") == "warning"


def test_done_j2350_without_ndc_is_held_for_medicaid_not_for_medicare(tmp_path):
    fragment = claim("837P:11", line("J2350:JZ", ndc=None))
    medicare = findings(tmp_path, fragment, "837P", filing="MB")
    assert not any(f.severity == "error" for f in medicare)
    assert severity_of(medicare, "NDC001") is None
    medicaid = findings(tmp_path, fragment, "837P", filing="MC")
    assert severity_of(medicaid, "NDC001") == "error"


def test_a_medicaid_inpatient_bill_without_ndc_is_a_warning_an_outpatient_one_an_error(
        tmp_path):
    outpatient = claim("837I:13", line("J2350:JZ", ndc=None, kind="837I"))
    found = findings(tmp_path, outpatient, "837I", filing="MC")
    assert severity_of(found, "NDC001") == "error"
    inpatient = outpatient.replace("CLM*I1*9000***13:", "CLM*I1*9000***11:")
    found = findings(tmp_path, inpatient, "837I", filing="MC")
    assert severity_of(found, "NDC001") == "warning"
    assert not any(f.severity == "error" for f in found)
    requirement = shipped_policies().policies["medicaid"].ndc[0]
    assert requirement.settings == ("837I:11",) and requirement.confidence == "unconfirmed"


def test_done_every_finding_names_its_policy(tmp_path):
    runner = CliRunner()
    path = tmp_path / "mixed.edi"
    path.write_text(wrap_claims(claim("837P:11", line(ndc=None)), filing="MC"))
    done = runner.invoke(main, ["check", str(path), "--format", "json"])
    assert done.exit_code == 1, done.output
    report = json.loads(done.output)
    schema = json.loads((REPO / "schemas" / "report.schema.json").read_text())
    Draft202012Validator(schema).validate(report)
    found = report["files"][0]["findings"]
    assert found and all(f["policy"] == "medicaid" for f in found if f["claim_id"])
    csv_out = runner.invoke(main, ["check", str(path), "--format", "csv"]).output
    header, first = csv_out.splitlines()[:2]
    assert header.split(",")[-1] == "policy" and first.endswith(",medicaid")
    xml_out = runner.invoke(main, ["check", str(path), "--format", "xml"]).output
    assert 'policy="medicaid"' in xml_out
    from lxml import etree

    etree.XMLSchema(etree.parse(str(REPO / "schemas" / "report.xsd"))).assertValid(
        etree.fromstring(xml_out.encode()))
    html = tmp_path / "report.html"
    runner.invoke(main, ["check", str(path), "-o", str(html)])
    assert "payer policy medicaid" in html.read_text()


def test_done_policy_command_explains_every_requirement_with_its_source():
    done = CliRunner().invoke(main, ["policy", "--payer", "99901", "--filing", "MB",
                                     "--bill-type", "131", "--date", "2026-03-01"])
    assert done.exit_code == 0, done.output
    out = done.output
    assert "policy medicare-ffs" in out and "setting 837I:13" in out
    mod001 = next(t for t in out.splitlines() if t.strip().startswith("JW/JZ missing"))
    assert "error" in mod001 and "2023-10-01" in mod001 and "87 FR" in mod001 and "[A]" in mod001
    ndc001 = next(t for t in out.splitlines() if t.strip().startswith("NDC missing on J2350"))
    assert "not required" in ndc001
    for requirement in out.split("first match wins:")[1].splitlines()[1:-1]:
        assert re.search(r"\[.+ \[(A|B|C|unconfirmed)\]; ", requirement), requirement


def test_policy_command_lists_the_shipped_policies():
    done = CliRunner().invoke(main, ["policy"])
    assert done.exit_code == 0
    for name in ("medicare-ffs", "medicare-advantage", "medicaid", "commercial", "other"):
        assert f"\n{name}: " in done.output
    assert "payer-id list: 0 entries" in done.output


@pytest.mark.parametrize("options, message", [
    (["--bill-type", "1x1"], "--bill-type"), (["--pos", "office"], "--pos"),
    (["--filing", "MEDICARE"], "--filing"), (["--bill-type", "131", "--pos", "11"], "exclude"),
    (["--date", "2026-13-01"], "--date"), (["--filing", "MB", "--hcpcs", "ocrevus"], "--hcpcs")])
def test_policy_command_bad_values_exit_2_with_a_clear_message(options, message):
    done = CliRunner().invoke(main, ["policy", *options])
    assert done.exit_code == 2
    assert message in done.output and "Traceback" not in done.output


# -- user profiles over the shipped policy ---------------------------------------------------

def test_profile_enforcing_jz_makes_a_commercial_payer_hold_the_claim(tmp_path):
    config = parse_config({"profiles": [{"name": "strict", "payer_ids": ["STRICT01"],
                                         "jw_jz": True, "jw_jz_from": "2025-05-01"}]})
    early = MISSING_JZ.replace("20231002", "20250430")
    late = MISSING_JZ.replace("20231002", "20250501")
    assert severity_of(findings(tmp_path, early, "837P", config, filing="CI",
                                payer_id="STRICT01"), "MOD001") == "warning"
    strict = findings(tmp_path, late, "837P", config, filing="CI", payer_id="STRICT01")
    assert severity_of(strict, "MOD001") == "error"
    assert {f.policy for f in strict} == {"commercial+profile:strict"}
    assert severity_of(findings(tmp_path, late, "837P", config, filing="CI",
                                payer_id="OTHER01"), "MOD001") == "warning"


def test_profile_by_setting_and_payer_class(tmp_path):
    config = parse_config({"profiles": [{"name": "md-mco", "payer_ids": ["MCO01"],
                                         "payer_class": "medicaid", "settings": ["837P"],
                                         "jw_jz": True}]})
    # filed as CI, but the profile says it is a Medicaid plan: the NDC is required
    no_ndc = claim("837P:11", line("J2350:JZ", ndc=None))
    found = findings(tmp_path, no_ndc, "837P", config, filing="CI", payer_id="MCO01")
    assert severity_of(found, "NDC001") == "error"
    assert {f.policy for f in found} == {"medicaid+profile:md-mco"}
    assert severity_of(findings(tmp_path, MISSING_JZ, "837P", config, filing="CI",
                                payer_id="MCO01"), "MOD001") == "error"
    # the profile is for professional claims only: an 837I of that payer is commercial
    inst = findings(tmp_path, MISSING_JZ_837I, "837I", config, filing="CI", payer_id="MCO01")
    assert severity_of(inst, "MOD001") == "warning"
    assert {f.policy for f in inst} == {"commercial"}


def test_profile_for_a_payer_that_denies_jw_raises_mod008(tmp_path):
    config = parse_config({"profiles": [{"name": "nj-mco", "payer_ids": ["NJMCO1"],
                                         "jw_denied": True, "jw_denied_from": "2021-05-01"}]})
    waste = claim("837P:11", line("J2350", 450), line("J2350:JW", 150, number=2))
    denied = findings(tmp_path, waste, "837P", config, filing="MC", payer_id="NJMCO1")
    mod008 = [f for f in denied if f.rule == "MOD008"]
    assert [(f.severity, f.line_number) for f in mod008] == [("error", 2)]
    assert "denies JW" in mod008[0].message
    before = waste.replace("20260115", "20210430")
    assert severity_of(findings(tmp_path, before, "837P", config, filing="MC",
                                payer_id="NJMCO1"), "MOD008") is None
    assert severity_of(findings(tmp_path, waste, "837P", config, filing="MC",
                                payer_id="OTHER"), "MOD008") is None
    assert "MOD008" in CliRunner().invoke(main, ["rules"]).output


def test_precedence_user_profile_over_payer_id_list_over_payer_class():
    from edi837.policy.book import ClassEntry

    book = shipped_policies()
    listed = type(book)(book.version, book.updated, book.filing_indicators,
                        {"MAPLAN1": ClassEntry("medicare-advantage", "test list", "B")},
                        book.out_of_scope, book.policies)
    none = PolicyResolver(parse_config({}), TABLE, listed)
    assert none.resolve("CI", "MAPLAN1", "837P").payer_class == "medicare-advantage"
    assert none.resolve("CI", "OTHER", "837P").payer_class == "commercial"
    user = PolicyResolver(parse_config({"profiles": [{"name": "mine", "payer_ids": ["MAPLAN1"],
                                                      "payer_class": "medicaid"}]}),
                          TABLE, listed)
    assert user.resolve("CI", "MAPLAN1", "837P").payer_class == "medicaid"


def test_existing_configs_keep_working(tmp_path):
    # jw_jz = false for one payer silences MOD001 for it only
    off = parse_config({"profiles": [{"name": "commercial", "payer_ids": ["COMM01"],
                                      "jw_jz": False}]})
    assert severity_of(findings(tmp_path, MISSING_JZ, "837P", off, payer_id="COMM01"),
                       "MOD001") is None
    assert severity_of(findings(tmp_path, MISSING_JZ, "837P", off), "MOD001") == "error"
    # the documented old defaults (jw_jz = true, ndc_required = "table") leave it to policy
    old = parse_config({"defaults": {"jw_jz": True, "ndc_required": "table"}})
    assert severity_of(findings(tmp_path, MISSING_JZ, "837P", old, filing="CI"),
                       "MOD001") == "warning"
    # [defaults] jw_jz = false: off everywhere, unless a profile enforces it
    quiet = parse_config({"defaults": {"jw_jz": False}, "profiles": [
        {"name": "medicare", "filing_indicators": ["MB"], "jw_jz": True}]})
    assert severity_of(findings(tmp_path, MISSING_JZ, "837P", quiet, filing="CI"),
                       "MOD001") is None
    assert severity_of(findings(tmp_path, MISSING_JZ, "837P", quiet, filing="MB"),
                       "MOD001") == "error"
    # a severity the user configured still wins over the policy's
    softer = parse_config({"severity": {"MOD001": "info"}})
    assert severity_of(findings(tmp_path, MISSING_JZ, "837P", softer), "MOD001") == "info"
    # ndc_required = false for a Medicaid payer
    lax = parse_config({"profiles": [{"name": "lax", "filing_indicators": ["MC"],
                                      "ndc_required": False}]})
    no_ndc = claim("837P:11", line("J2350:JZ", ndc=None))
    assert severity_of(findings(tmp_path, no_ndc, "837P", lax, filing="MC"), "NDC001") is None


@pytest.mark.parametrize("data, message", [
    ({"profiles": [{"settings": ["837X"]}]}, "settings"),
    ({"profiles": [{"payer_class": "medicare"}]}, "payer_class"),
    ({"profiles": [{"jw_jz": True, "jw_jz_from": "soon"}]}, "jw_jz_from"),
    ({"profiles": [{"jw_jz_from": "2025-05-01"}]}, "only with jw_jz = true"),
    ({"profiles": [{"jw_denied_from": "2021-05-01"}]}, "only with jw_denied = true"),
    ({"profiles": [{"jw_denied": "yes"}]}, "jw_denied"),
    ({"defaults": {"settings": ["837P"]}}, "unknown setting")])
def test_bad_policy_settings_name_the_setting(data, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(data)


# -- the rule catalog says what the policies say ------------------------------------------

def _catalog() -> str | None:
    for root in Path(__file__).resolve().parents[3:5]:
        path = root / "shared" / "reference" / "rule-catalog.md"
        if path.exists():
            return path.read_text()
    return None


def test_rule_docs_and_catalog_severities_are_what_the_policies_say():
    rules = all_rules()
    assert rules["MOD001"].severities == rules["NDC001"].severities == "by policy"
    assert "by policy" in CliRunner().invoke(main, ["rules", "MOD001"]).output
    resolver = PolicyResolver(parse_config({}), TABLE)

    def mod001(filing, setting, day):
        return resolver.resolve(filing, "", setting).jw_jz(dt.date.fromisoformat(day)).severity

    def ndc001(filing, hcpcs):
        return resolver.resolve(filing, "", "837P:11").ndc(
            hcpcs, TABLE.drug(hcpcs) is not None, dt.date(2026, 1, 15)).severity

    # each statement of the MOD001/NDC001 docs and catalog rows, against the policies
    statements = {
        "Medicare FFS: from 2023-10-01": mod001("MB", "837P:11", "2023-10-01") == "error",
        "bill types 13x/85x": mod001("MA", "837I:13", "2026-01-15") ==
        mod001("MA", "837I:85", "2026-01-15") == "error",
        "not 11x/71x/77x": {mod001("MA", f"837I:{c}", "2026-01-15") for c in ("11", "71", "77")}
        == {"none"},
        "Medicare 2023-07-01..09-30": mod001("MB", "837P:11", "2023-09-30") == "warning",
        "Medicare Advantage, Medicaid, commercial": {
            mod001(f, "837P:11", "2026-01-15") for f in ("16", "MC", "CI")} == {"warning"},
        "Medicaid: every physician-administered drug": ndc001("MC", "J2350") ==
        ndc001("MC", "J9999") == "error",
        "Medicare: not-otherwise-classified codes only": ndc001("MB", "J3490") == "error"
        and ndc001("MB", "J2350") == "none",
        "a warning where payers vary": ndc001("CI", "J2350") == "warning",
    }
    assert [s for s, holds in statements.items() if not holds] == []
    for code in ("MOD001", "NDC001"):
        doc = " ".join(rules[code].doc.split())
        assert "Severity by the claim's payer policy" in doc
    assert "2023-10-01" in rules["MOD001"].doc and "11x, 71x, 77x" in rules["MOD001"].doc
    assert "J3490, J3590, J9999" in rules["NDC001"].doc
    catalog = _catalog()
    if catalog is None:
        pytest.skip("rule catalog not found beside the repository")
    rows = {m.group(1): " ".join(m.group(0).split())
            for m in re.finditer(r"^\| (MOD001|NDC001) \|.*$", catalog, re.M)}
    for code, row in rows.items():
        assert row.startswith(f"| {code} | by policy |")
        for statement in statements:
            if code == "MOD001" and statement.startswith(("Medicaid:", "Medicare:", "a warn")):
                continue
            if code == "NDC001" and not statement.startswith(("Medicaid:", "Medicare:",
                                                              "a warn")):
                continue
            assert statement in row, (code, statement)


# -- the generator draws payers and settings, and labels defects by policy ------------------

@pytest.mark.parametrize("kind", ["837P", "837I"])
def test_generated_defects_are_labelled_by_the_payers_policy(tmp_path, kind):
    from collections import Counter

    from edi837.generator import generate

    path = tmp_path / f"{kind}.edi"
    with open(path, "w", newline="") as out:
        stats = generate(out, kind, claims=500, seed=21, defect_rate=1.0)
    text = path.read_text()
    assert {"MB" if kind == "837P" else "MA", "16", "MC", "CI", "BL", "HM"} <= \
        set(re.findall(r"SBR\*[^~]*\*([0-9A-Z]{2})~", text))
    if kind == "837I":
        bill_types = Counter(re.findall(r"CLM\*[^*]+\*[^*]+\*\*\*([0-9]{2}):A:", text))
        assert set(bill_types) == {"13", "85", "11", "71", "77"}
        assert bill_types["13"] > sum(bill_types.values()) / 2
    found = list(Engine(TABLE).check_file(path).findings)
    for rule, defect in (("MOD001", "missing_jz"), ("NDC001", "missing_ndc")):
        claims = {f.claim_id for f in found if f.rule == rule}
        errors = {f.claim_id for f in found if f.rule == rule and f.severity == "error"}
        # planted only where the payer's policy flags it; held only where it is an error
        assert len(claims) == stats["defects"][defect] > 0
        assert len(errors) == stats["defects_held"].get(defect, 0)
        assert len(errors) < len(claims)  # commercial, MA, Medicaid payers: warnings


def test_claims_of_one_shape_are_judged_by_their_own_policy_date_and_setting(tmp_path):
    """Claim shapes (edi837.reader.shapes) replay which rules fired: claims alike but for the
    window of their date, their bill type or their payer must not share an answer."""
    def one(claim_id, bill_type, date, filing):
        fragment = claim(f"837I:{bill_type}", line(date=date, kind="837I"), date=date)
        dx = "G35A" if date >= "20251001" else "G35"
        return wrap_claims(fragment.replace("CLM*I1*", f"CLM*{claim_id}*").replace(
            "HI*ABK:G35A", f"HI*ABK:{dx}"), "837I", filing=filing)

    cases = [("W1", "13", "20230815", "MA", "warning"), ("E1", "13", "20240115", "MA", "error"),
             ("N1", "11", "20240116", "MA", None), ("C1", "13", "20240117", "CI", "warning"),
             ("E2", "85", "20240118", "MA", "error"), ("N2", "13", "20230630", "MA", None)]
    engine = Engine(TABLE)  # shapes on: one engine for every file, in this order
    for claim_id, bill_type, date, filing, expected in cases * 2:
        path = tmp_path / f"{claim_id}.edi"
        path.write_text(one(claim_id, bill_type, date, filing))
        found = list(engine.check_file(path).findings)
        assert severity_of(found, "MOD001") == expected, claim_id


def test_a_profile_by_setting_alone_applies_to_every_payer_in_that_setting(tmp_path):
    config = parse_config({"profiles": [{"name": "cah", "settings": ["837I:85x"],
                                         "jw_jz": True}]})
    cah = MISSING_JZ_837I.replace("CLM*I1*9000***13:", "CLM*I1*9000***85:")
    found = findings(tmp_path, cah, "837I", config, filing="CI")
    assert severity_of(found, "MOD001") == "error"
    assert {f.policy for f in found} == {"commercial+profile:cah"}
    assert severity_of(findings(tmp_path, MISSING_JZ_837I, "837I", config, filing="CI"),
                       "MOD001") == "warning"


# -- drug lines beyond J-codes: the codes the NDC requirements name (trial, item 1) ---------

@pytest.mark.parametrize("hcpcs, filing", [
    ("C9399", "MB"),  # OPPS unclassified drug: Medicare wants its NDC (§9.2)
    ("Q5133", "MC"),  # a biosimilar's Q-code: Medicaid wants the NDC on every drug (§9.2)
    ("Q5134", "MC"),
])
def test_noc_and_biosimilar_codes_are_drug_lines_whose_ndc_is_required(tmp_path, hcpcs, filing):
    fail = claim("837P:11", line(hcpcs, 1, ndc=None))
    assert severity_of(findings(tmp_path, fail, "837P", filing=filing), "NDC001") == "error"
    passing = claim("837P:11", line(hcpcs, 1, ndc="55513071001"))
    assert severity_of(findings(tmp_path, passing, "837P", filing=filing), "NDC001") is None


@pytest.mark.parametrize("hcpcs", ["C9600", "Q5001", "Q4101", "99213"])
def test_codes_outside_the_drug_line_patterns_are_no_drug_lines(tmp_path, hcpcs):
    """C9600 (a procedure), Q5001 (a hospice site), Q4101 (a skin substitute): no drug.
    (A lower-case "j2350" is read as J2350 and held: tests/reader/test_lowercase_codes.py.)"""
    found = findings(tmp_path, claim("837P:11", line(hcpcs, 1, ndc=None)), "837P",
                     filing="MC")
    assert severity_of(found, "NDC001") is None


def test_every_code_an_ndc_requirement_names_is_a_drug_line():
    from edi837.drug_codes import drug_code_patterns, is_drug_code

    named = {code for policy in shipped_policies().policies.values() for r in policy.ndc
             if not isinstance(r.drugs, str) for code in r.drugs}
    assert named >= {"J3490", "J3590", "J9999", "C9399"}
    assert all(is_drug_code(code) for code in named)
    assert {entry["confidence"] for entry in shipped_data()["drug_lines"]} <= {"A", "B", "C"}
    assert drug_code_patterns().patterns == ("J*", "C9399", "Q5[1-9]??")


def test_extract_lists_noc_and_biosimilar_lines(tmp_path):
    fragment = "\n".join([claim("837P:11", line("C9399", 1, ndc=None)),
                          claim("837P:11", line("Q5133", 1, ndc=None)).replace("CLM*C1", "CLM*C2"),
                          claim("837P:11", line("99213", 1, ndc=None)).replace("CLM*C1", "CLM*C3")])
    path = tmp_path / "noc.edi"
    path.write_text(wrap_claims(fragment, "837P", filing="MB"))
    for fast in ([], ["--no-fast"]):
        result = CliRunner().invoke(main, ["extract", str(path), "--format", "jsonl", *fast])
        assert result.exit_code == 0, result.output
        rows = [json.loads(text) for text in result.output.splitlines()]
        assert [(r["claim_id"], r["hcpcs"]) for r in rows] == [("C1", "C9399"), ("C2", "Q5133")]


# -- NDC on a JW line: unconfirmed, a warning (trial item 7) ---------------------------------

def jw_pair(jw_ndc, administered_ndc=OCREVUS_NDC):
    """450 units given (15 mL) and 150 discarded (JW) on the same date."""
    given = line("J2350", 450, ndc=administered_ndc)
    waste = line("J2350:JW", 150, ndc=jw_ndc, number=2)
    return claim("837P:11", given, waste)


def ndc001_by_line(found):
    return sorted((f.line_number, f.severity) for f in found if f.rule == "NDC001")


def test_a_medicaid_jw_line_without_ndc_is_a_warning_as_its_requirement_is_unconfirmed(
        tmp_path):
    book = shipped_policies()
    assert book.jw_line_ndc.severity == "warning"
    assert book.jw_line_ndc.confidence == "unconfirmed" and "§1.4" in book.jw_line_ndc.source
    found = findings(tmp_path, jw_pair(jw_ndc=None), "837P", filing="MC")
    assert ndc001_by_line(found) == [(2, "warning")]
    assert "JW line as well as on the administered line is unconfirmed" in \
        next(f.message for f in found if f.rule == "NDC001")
    assert ndc001_by_line(findings(tmp_path, jw_pair(jw_ndc=OCREVUS_NDC), "837P",
                                   filing="MC")) == []
    # the administered line without its NDC is still the error Medicaid's rule makes it
    both = findings(tmp_path, jw_pair(jw_ndc=None, administered_ndc=None), "837P", filing="MC")
    assert ndc001_by_line(both) == [(1, "error"), (2, "warning")]


def test_a_profile_that_requires_the_ndc_holds_a_jw_line_without_one(tmp_path):
    """The user's profile is the user's word for the payer: not capped."""
    config = parse_config({"profiles": [{"name": "state", "payer_ids": ["STATE01"],
                                         "ndc_required": "j-codes"}]})
    found = findings(tmp_path, jw_pair(jw_ndc=None), "837P", config, filing="MC",
                     payer_id="STATE01")
    assert ndc001_by_line(found) == [(2, "error")]
