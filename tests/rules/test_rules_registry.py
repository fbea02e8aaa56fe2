"""The rule registry is the one place a rule is declared: the catalog order, the
engine's claim and line rules and the history stage's rules all come from it."""
from __future__ import annotations

import pytest

from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.reader.shapes import FIELDS, shape_function
from edi837.rules import (
    CLAIM,
    HISTORY,
    LINE,
    READER,
    REGISTRY,
    all_rules,
    rule,
    shape_fields,
    stage_rules,
)

# The lists that were kept by hand before the registry derived them (issue 25):
# the family order of all_rules(), and the catalog order it gave.
OLD_FAMILY_ORDER = ("EDI", "NDC", "MOD", "UNT", "DX", "ADM", "REV", "DOS", "POS", "DOC", "HIS",
                    "IG", "IGH", "IGS", "IGE")
OLD_STAGE_RULES = ("HIS004", "HIS001", "UNT002", "UNT001", "UNT004", "HIS002", "HIS003",
                   "DOC001")
# The claim shape's hand-kept fields (edi837.reader.shapes before), by the names rules declare.
OLD_SHAPE_FIELDS = (
    "claim.kind", "claim.diagnoses", "claim.facility_code", "claim.frequency",
    "claim.payer_responsibility", "claim.billing_provider", "claim.rendering",
    "claim.attending", "claim.facility", "claim.referring",
    "line.procedure", "line.modifiers", "line.units", "line.unit_basis",
    "line.place_of_service", "line.revenue_code", "line.pointers", "line.segment_id",
    "line.date", "line.drug", "line.rendering", "line.ordering", "line.referring",
    "line.code_dates")
# read since the hand-kept list went: DX002 judges an inpatient stay by its discharge,
# and warns on a line dated by a period across a validity change
ADDED_SHAPE_FIELDS = {"claim.statement_through", "line.span"}


def test_catalog_order_is_the_old_family_order():
    codes = list(all_rules())
    old = sorted(codes, key=lambda c: (OLD_FAMILY_ORDER.index(c.rstrip("0123456789")), c))
    assert codes == old
    assert len(codes) == 56  # every rule module was found (none forgotten by a list)
    assert {r.family for r in all_rules().values()} == set(OLD_FAMILY_ORDER)


def test_history_stage_is_the_old_hand_kept_list():
    assert tuple(r.code for r in stage_rules()) == OLD_STAGE_RULES
    # the stage's hand-kept ("HIS003", "DOC001"): rules only a lasting history runs
    assert {r.code for r in stage_rules() if r.lasting} == {"HIS003", "DOC001"}


def test_no_rule_is_missing_from_its_stage():
    """Each rule runs in the stage it declares: claim and line rules in the engine,
    history parts in the history stage, reader rules nowhere but the reader."""
    engine = Engine(load_drug_table())
    try:
        rules = all_rules()
        assert {r.code for r in engine.claim_rules} == \
            {c for c, r in rules.items() if r.scope == CLAIM}
        assert {r.code for r in engine.line_rules} == \
            {c for c, r in rules.items() if r.scope == LINE}
        assert set(engine.reader_rules) == \
            {c for c, r in rules.items() if r.scope in (READER, HISTORY)}
        staged = [code for code, _, _ in engine.history._checks]
        assert staged == [r.code for r in stage_rules()]
        # every history rule has its part; claim rules with one (UNT004, DOC001) too
        assert {c for c, r in rules.items() if r.scope == HISTORY} <= set(staged)
        assert all(rules[c].stage_check is not None for c in staged)
    finally:
        engine.close()


def test_shape_fields_are_the_old_hand_kept_ones_but_one_no_rule_reads():
    """The claim shape is made of what the rules declare they read: the old list,
    less claim.attending (837I 2310A), which no claim or line rule reads."""
    assert set(FIELDS) == set(OLD_SHAPE_FIELDS) | ADDED_SHAPE_FIELDS
    assert set(shape_fields()) == (set(OLD_SHAPE_FIELDS) | ADDED_SHAPE_FIELDS) - \
        {"claim.attending"}
    assert "claim.statement_through" in all_rules()["DX002"].reads
    rules = all_rules()
    assert all(rules[c].reads for c in rules if rules[c].scope in (CLAIM, LINE)
               and c != "DOC000")  # the checklist reads the other DOC rules' notes
    assert set(rules["DOS002"].reads) >= {"line.code_dates", "line.date"}
    assert rules["HIS001"].reads == () and rules["EDI001"].reads == ()


def test_a_shape_is_made_of_the_fields_given_and_knows_no_other():
    from types import SimpleNamespace

    line = SimpleNamespace(procedure="J2350", units="600", modifier_slots=("JZ",),
                           place_of_service="22")
    claim = SimpleNamespace(kind="837P", lines=[line])
    policy = SimpleNamespace(shape_id=7)
    shape = shape_function(["line.units"])
    assert shape(claim, policy, None, None, None) == (7, (("J2350", "600", "22"),))
    line.modifier_slots = ("JW",)  # not a field of this shape: the same shape
    assert shape(claim, policy, None, None, None) == (7, (("J2350", "600", "22"),))
    # the engine's own fields, always: line.procedure (which lines are drug lines) and
    # line.place_of_service (SV105 picks the payer profile of its line's rules)
    assert shape_function(["claim.kind"])(claim, policy, None, None, None) == \
        (7, "837P", (("J2350", "22"),))
    with pytest.raises(ValueError, match="no claim shape field line.colour"):
        shape_function(["line.colour"])


def test_a_rule_must_name_a_family_and_a_history_rule_its_place():
    with pytest.raises(ValueError, match="no family 'ZZZ'"):
        rule("ZZZ001", "error", reads=())
    with pytest.raises(ValueError, match="stage_order"):
        rule("HIS099", "info", scope=HISTORY)
    with pytest.raises(ValueError, match="stage_order"):
        rule("NDC099", "info", stage_order=5, reads=())
    with pytest.raises(ValueError, match="scope"):
        rule("NDC099", "info", scope="file")
    with pytest.raises(ValueError, match="names the fields it reads"):
        rule("NDC099", "info")  # a line rule must say what it reads
    with pytest.raises(ValueError, match="no claim shape field line.colour"):
        rule("NDC099", "info", reads=("line.colour",))
    assert "ZZZ001" not in REGISTRY and "HIS099" not in REGISTRY


@pytest.mark.parametrize("docstring", [
    "One line.",
    "Summary.\n\n    What it does: x.\n    \n\t\n    PASS:\n        CLM*1\n    ",
    "Summary.\n  \n    Indented.\n",
    "\n    Starts on the second line.\n\n        Deeper.\n    ",
    "    Indented first line.\n    Second.\n",
    "\tTabbed.\n\tSecond.\n",
    "Trailing spaces.   \n    next \t\n\n",
    "",
    " ",
])
def test_a_rules_doc_is_its_docstring_dedented_and_stripped(docstring):
    import textwrap

    from edi837.rules import documentation

    assert documentation(docstring) == textwrap.dedent(docstring).strip()


def test_every_registered_rules_doc_is_what_textwrap_makes_of_its_docstring():
    import textwrap

    all_rules()
    for code, found in REGISTRY.items():
        function = found.check or found.stage_check
        if function is not None and function.__doc__ and found.doc:
            assert found.doc == textwrap.dedent(function.__doc__).strip(), code
