"""Every rule's documentation is executable: its PASS fragment does not raise
the rule and its FAIL fragment does, through the real reader and engine.

This gives each rule in the catalog a PASS and a FAIL case from a small 837
fragment, and keeps `edi837 rules CODE` honest.
"""
import re
import secrets
from pathlib import Path

import pytest

from edi837.checklist import ITEMS
from edi837.config import Config
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.history import HistoryStore
from edi837.rules import READER, all_rules
from edi837.x12.fragment import nights, wrap_claims

CATALOG = Path(__file__).resolve().parents[3] / "shared" / "reference" / "rule-catalog.md"
RULES = all_rules()
CHECKED = [r for r in RULES.values() if r.scope != READER]


# Rules that judge by imported CMS reference data (edi837 ships none): their examples
# run with a small store the tests build (refdata_files.mue_reference).
NEEDS_REFERENCE = {"UNT004"}
# Rules that fire only under a payer profile (edi837.policy): their examples run with it.
NEEDS_CONFIG = {"MOD008": {"profiles": [{"name": "nj-mco", "payer_ids": ["PAYER01"],
                                         "jw_denied": True}]}}


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    from refdata_files import mue_reference

    reference = mue_reference(tmp_path_factory.mktemp("refdata"))
    return {False: Engine(load_drug_table()), True: Engine(load_drug_table(refdata=reference))}


@pytest.fixture
def engine(engines, rule):
    return engines[rule.code in NEEDS_REFERENCE]


def run(engine, tmp_path, kind, fragment, rule=None):
    """Check a fragment's files in order, as one run of its own (one history); the
    last file's result.  The HIS rules run with a store that outlives the run,
    as `--history` gives."""
    store = None
    if rule is not None and rule.code.startswith("HIS"):
        store = HistoryStore.open(tmp_path / f"history-{secrets.token_hex(4)}.sqlite3",
                                  secrets.token_bytes(32))
    config = None
    if rule is not None and rule.code in NEEDS_CONFIG:
        from edi837.config import parse_config

        config = parse_config(NEEDS_CONFIG[rule.code])
    elif rule is not None and rule.code in ITEMS:
        # a DOC note is reported on its own only when selected alone; by default the
        # claim's notes are one DOC000 checklist (edi837.checklist)
        config = Config(select=(rule.code,))
    engine = Engine(engine.table, config, history=store)
    for night, part in enumerate(nights(fragment)):
        path = tmp_path / f"fragment-{night}.edi"
        path.write_text(wrap_claims(part, kind, control=f"{night + 1:09d}"))
        result = engine.check_file(path)
    return result


@pytest.mark.parametrize("rule", CHECKED, ids=lambda r: r.code)
def test_fail_fragment_raises_the_rule(engine, tmp_path, rule):
    examples = rule.examples()["FAIL"]
    assert examples, f"{rule.code} documents no FAIL fragment"
    for kind, fragment in examples:
        result = run(engine, tmp_path, kind, fragment, rule)
        found = [f for f in result.findings if f.rule == rule.code]
        assert found, f"{rule.code} FAIL ({kind}) fragment raised only " \
                      f"{[f.rule for f in result.findings]}"
        assert all(f.severity == rule.severity for f in found)
        assert all(f.segment_index for f in found)


@pytest.mark.parametrize("rule", CHECKED, ids=lambda r: r.code)
def test_pass_fragment_does_not_raise_the_rule(engine, tmp_path, rule):
    examples = rule.examples()["PASS"]
    assert examples, f"{rule.code} documents no PASS fragment"
    for kind, fragment in examples:
        result = run(engine, tmp_path, kind, fragment, rule)
        assert [f for f in result.findings if f.rule == rule.code] == []
        assert result.drug_lines >= 1


@pytest.mark.parametrize("rule", list(RULES.values()), ids=lambda r: r.code)
def test_rule_documents_what_why_and_fix_safety(rule):
    doc = rule.doc
    assert "What it does:" in doc and "Why:" in doc
    assert f"Fix safety: {rule.fix}" in doc


def test_registry_matches_the_published_catalog():
    """The rule codes, severities and fix safety are public interface."""
    if not CATALOG.exists():
        pytest.skip(f"rule catalog not found at {CATALOG}")
    rows = re.findall(r"^\| ((?:EDI|NDC|MOD|UNT|DX|ADM|REV|DOS|DOC|HIS)\d{3}) \| ([a-z /]+) \| "
                      r".* \| (safe|none)", CATALOG.read_text(), re.M)
    catalog = {code: (severity.split(" / ")[0], fix) for code, severity, fix in rows}
    assert set(catalog) <= set(RULES), set(catalog) - set(RULES)
    assert {"IGH", "IGS", "IGE"} <= set(RULES)  # the catalog's IGH<n>/IGS<n>/IGE<n> families
    for code, (severity, fix) in catalog.items():
        registered = "by policy" if RULES[code].by_policy else RULES[code].severity
        assert (registered, RULES[code].fix) == (severity, fix), code
    assert {code for code, (severity, _) in catalog.items() if severity == "by policy"} >= \
        {"MOD001", "NDC001"}


def test_readme_names_every_rule_family():
    """README's "## Rules" lists the families `edi837 rules` prints (IG* aside: pyx12's)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("\n## Rules\n", 1)[1].split("\n## ", 1)[0]
    listed = re.search(r"The rule codes \(([A-Z, and]+) families\)", " ".join(section.split()))
    named = set(re.findall(r"[A-Z]{2,}", listed.group(1)))
    families = {re.match(r"[A-Z]+", code).group(0) for code in RULES if not code.startswith("IG")}
    assert named == families
