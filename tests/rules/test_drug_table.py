"""The drug table: the shipped facts, the loader's merge rule and its error messages."""
from __future__ import annotations

import json
import re
import tomllib
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from edi837.drugs import DrugTableError, load_drug_table, load_schema
from edi837.drugs.loader import _as_json

REPO = Path(__file__).resolve().parents[2]
SHIPPED_HCPCS = {"J2350", "J2351", "J3262", "J3380", "J2357", "J2323", "J1815", "Q5133", "Q5134"}


@pytest.fixture(scope="module")
def table():
    return load_drug_table()


def extra_drug(hcpcs: str = "J9999", ndc: str = "12345678901", **overrides: str) -> str:
    """A minimal valid extra drug table file; ``overrides`` replace whole TOML lines by key."""
    lines = {
        "version": 'version = "local.1"',
        "updated": "updated = 2026-12-01",
        "header": f"[drugs.{hcpcs}]",
        "descriptor": 'descriptor = "Injection, testumab, 10 mg"',
        "amount_per_unit": "amount_per_unit = 10",
        "unit_of_measure": 'unit_of_measure = "mg"',
        "route": 'route = "IV"',
        "single_dose": "single_dose = true",
        "diagnoses": "diagnoses = []",
        "source": 'source = "test"',
        "confidence": 'confidence = "B"',
        "dosing": f'[drugs.{hcpcs}.dosing]\nlabeled_doses = [10, 20]\nmax_units_per_day = 20\n'
                  'source = "test"\nconfidence = "B"',
        "administration": f'[drugs.{hcpcs}.administration]\ncodes = ["96365"]\n'
                          'source = "test"\nconfidence = "B"',
        "ndcs": (
            f'[[drugs.{hcpcs}.ndcs]]\nndc = "{ndc}"\npackage = "100 mg/10 mL single-dose vial"\n'
            'amount = 100\nvolume_ml = 10\nbillable = true\nsource = "test"\nconfidence = "B"'
        ),
    }
    lines.update(overrides)
    return "\n".join(lines.values()) + "\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# The shipped table
# ---------------------------------------------------------------------------


def test_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(load_schema())


def test_shipped_file_validates_against_schema_independently_of_loader():
    content = resources.files("edi837.drugs").joinpath("table.toml").read_bytes()
    data = tomllib.loads(content.decode("utf-8"))
    validator = Draft202012Validator(load_schema(),
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert list(validator.iter_errors(_as_json(data))) == []


def test_schemas_copy_equals_package_copy():
    package_copy = resources.files("edi837.drugs").joinpath("drug-table.schema.json").read_bytes()
    assert (REPO / "schemas" / "drug-table.schema.json").read_bytes() == package_copy


def test_shipped_table_has_version_and_its_drugs(table):
    assert table.version == tomllib.loads(
        resources.files("edi837.drugs").joinpath("table.toml").read_text(encoding="utf-8")
    )["version"]
    assert set(table.drugs) == SHIPPED_HCPCS
    assert [f.name for f in table.files] == ["edi837/drugs/table.toml"]


def test_policy_facts(table):
    modifiers = table.policy.discarded_drug_modifiers
    assert modifiers.required_from == date(2023, 7, 1)
    assert modifiers.required_on(date(2023, 7, 1)) and not modifiers.required_on(date(2023, 6, 30))
    assert modifiers.claim_edits_from == date(2023, 10, 1)
    assert set(table.policy.ndc.quantity_units) == {"F2", "GR", "ME", "ML", "UN"}
    assert table.policy.ndc.product_qualifier == "N4"
    assert table.policy.service_units.unit_basis == "UN"


def test_j2350_unit_doses_maximum_and_revenue_code(table):
    drug = table.drug("J2350")
    assert (drug.amount_per_unit, drug.unit_of_measure) == (Decimal(1), "mg")
    assert drug.route == "IV" and drug.single_dose
    assert drug.labeled_doses == (300, 600)
    assert drug.max_units_per_day == 600
    assert drug.revenue_code == "0636"
    assert set(drug.administration_codes) == {"96365", "96366", "96413", "96415"}


def test_j2350_ndc_and_expected_quantities(table):
    drug = table.drug("J2350")
    vial = drug.ndc("50242015001")
    assert vial is not None and vial.billable and vial.hcpcs == "J2350"
    assert (vial.amount, vial.volume_ml) == (Decimal(300), Decimal(10))
    assert drug.units_per_container("50242015001") == 300
    assert drug.expected_ndc_quantity("50242015001", 600, "ML") == 20
    assert drug.expected_ndc_quantity("50242015001", 600, "UN") == 2
    assert drug.expected_ndc_quantity("50242015001", 300, "ME") == 300
    assert drug.expected_ndc_quantity("50242015001", 600, "F2") is None


def test_zunovo_ndc_belongs_to_j2351_not_j2350(table):
    assert table.drug("J2350").ndc("50242055401") is None
    assert table.hcpcs_for_ndc("50242055401") == "J2351"
    assert table.product_for_ndc("50242055401") == "Ocrevus Zunovo"
    assert table.drug("J2350").related_code("J2351") is not None
    assert table.hcpcs_for_ndc("50242015001") == "J2350"
    assert table.hcpcs_for_ndc("00000000000") is None


def test_zunovo_sample_and_bulk_listing_are_not_billable(table):
    sample = table.ndc("50242055486")
    assert sample is not None and sample.hcpcs == "J2351" and not sample.billable
    assert table.ndc("50242055401").billable
    bulk = table.drug("J2323").ndc("64406032001")
    assert bulk is not None and not bulk.billable


@pytest.mark.parametrize("ndc,biosimilar,reference", [
    ("78206020101", "Q5133", "J3262"), ("64406002201", "Q5133", "J3262"),
    ("72606004202", None, "J3262"),
    ("72606005401", "Q5154", "J2357"), ("72606005402", "Q5154", "J2357"),
    ("72606003501", "Q5154", "J2357")])
def test_biosimilar_ndc_points_at_its_own_code(table, ndc, biosimilar, reference):
    """Biosimilars bill under their own Q-codes, never under J2357 or J3262 (§8.4): listed
    under the Q-code's own entry (Tofidence's 200 mg vial under Q5133) or as a related
    product of the reference code, never under the reference code."""
    assert all(drug.ndc(ndc) is None for code, drug in table.drugs.items() if code != biosimilar)
    assert table.hcpcs_for_ndc(ndc) == biosimilar
    own = table.drug(biosimilar) if biosimilar else None
    assert (own is not None and own.ndc(ndc) is not None) or \
        ndc in {n for r in table.drug(reference).related for n in r.ndcs}


def test_xolair_prefilled_syringes_bill_under_j2357(table):
    drug = table.drug("J2357")
    for ndc, mg in [("50242021503", 150), ("50242021555", 150), ("50242021583", 150),
                    ("50242022701", 300), ("50242022755", 300), ("50242022786", 300)]:
        package = drug.ndc(ndc)
        assert package.billable and package.amount == mg and package.provenance.confidence == "A"
    assert drug.expected_ndc_quantity("50242022701", 60, "UN") == 1  # 300 mg = 60 units
    assert drug.expected_ndc_quantity("50242021503", 30, "ML") == 1


def test_xolair_75_mg_syringes_bill_under_j2357(table):
    """The 75 mg/0.5 mL strength (product 50242-214, DailyMed's Xolair label): 15 units."""
    drug = table.drug("J2357")
    for ndc in ("50242021403", "50242021455", "50242021483"):
        package = drug.ndc(ndc)
        assert package.billable and package.amount == 75 and package.volume_ml == 0.5
        assert drug.units_per_container(ndc) == 15
    assert drug.expected_ndc_quantity("50242021403", 15, "ML") == 0.5


def test_j2351_descriptor_and_unit_from_section_8(table):
    j2351 = table.drug("J2351")
    assert j2351.descriptor == "Injection, ocrelizumab, 1 mg and hyaluronidase-ocsq"
    assert j2351.amount_per_unit == 1 and j2351.labeled_doses == (920,)


def test_the_dropped_source_is_not_cited():
    from importlib import resources

    text = resources.files("edi837.drugs").joinpath("table.toml").read_text()
    assert "codingmcw" not in text  # mis-titles G35.A (billing-rules.md §8.6)


def test_references_name_no_path_outside_the_repository():
    from importlib import resources

    table = resources.files("edi837.drugs").joinpath("table.toml").read_text()
    samples = (REPO / "samples" / "README.md").read_text()
    for text in (table, samples):
        assert "shared/reference" not in text
        words = " ".join(text.replace("#", "").split())
        assert "billing-rules.md, the maintainers' reference" in words


def test_tocilizumab_vials_in_billing_units_per_palmetto(table):
    drug = table.drug("J3262")
    assert drug.units_per_container("50242013501") == 80
    assert drug.units_per_container("50242013601") == 200
    assert drug.ndc("50242013501").provenance.confidence == "A"


def test_j2357_is_5_mg_per_unit_and_subcutaneous(table):
    drug = table.drug("J2357")
    assert drug.amount_per_unit == 5
    assert drug.amount_for_units(30) == 150
    assert drug.expected_ndc_quantity("50242004062", 30, "UN") == 1
    assert drug.route == "SC"
    assert drug.max_units_per_day == 120


def test_unconfirmed_values_are_marked(table):
    j2351 = table.drug("J2351")
    assert j2351.provenance.confidence == "C"  # code and descriptor from secondary sources only
    assert j2351.administration.provenance.confidence == "unconfirmed"
    assert table.drug("J2350").dosing.provenance.confidence == "A"


def test_j2350_300_unit_dose_carries_documentation_note(table):
    drug = table.drug("J2350")
    notes = drug.documentation_for(300)
    assert len(notes) == 1 and "hepatitis B" in notes[0].note
    assert drug.documentation_for(600) == ()


# ---------------------------------------------------------------------------
# Diagnoses
# ---------------------------------------------------------------------------


def entry(drug, code):
    # the code's supporting entry, not a category's header entry of the same letters (K50)
    (found,) = [e for e in drug.diagnoses if e.code == code and not e.header]
    return found


def test_g35_valid_through_2025_09_30_and_g35a_from_2025_10_01(table):
    drug = table.drug("J2350")
    g35, g35a = entry(drug, "G35"), entry(drug, "G35A")
    assert g35.valid_on(date(2025, 9, 30)) and not g35.valid_on(date(2025, 10, 1))
    assert not g35a.valid_on(date(2025, 9, 30)) and g35a.valid_on(date(2025, 10, 1))
    assert g35a.valid_on(datetime(2026, 1, 1, 12, 0))
    assert g35.group == "multiple sclerosis"


def test_diagnosis_code_matching_exact_and_prefix(table):
    g35 = entry(table.drug("J2350"), "G35")
    assert g35.matches("G35") and g35.matches("g35")
    assert not g35.matches("G35A")  # bare G35 is not a prefix
    m05 = entry(table.drug("J3262"), "M05")
    assert m05.prefix and m05.matches("M05.79") and m05.matches("M0579")
    assert not m05.matches("M5")


def test_supporting_diagnoses_sorts_by_date_of_service(table):
    drug = table.drug("J2350")
    after = drug.supporting_diagnoses(["I10", "G35"], date(2025, 10, 1))
    assert not after.supported
    assert [(m.position, m.code) for m in after.not_valid_on_date] == [(2, "G35")]

    before = drug.supporting_diagnoses(["I10", "G35"], date(2025, 9, 30))
    assert before.supported and before.positions == {2} and before.not_valid_on_date == ()

    early_new_code = drug.supporting_diagnoses(["G35.A"], date(2025, 9, 30))
    assert not early_new_code.supported and early_new_code.not_valid_on_date[0].code == "G35A"


def test_non_active_progressive_ms_supports_only_for_review(table):
    drug = table.drug("J2350")
    alone = drug.supporting_diagnoses(["G35C2"], date(2026, 1, 5))
    assert alone.supported and alone.review_only
    with_rrms = drug.supporting_diagnoses(["G35C2", "G35A"], date(2026, 1, 5))
    assert with_rrms.supported and not with_rrms.review_only
    assert with_rrms.positions == {1, 2}


# ---------------------------------------------------------------------------
# Administration routes
# ---------------------------------------------------------------------------


def test_admin_routes_come_from_the_table(table):
    assert table.admin_route("96365") == "IV"
    assert table.admin_route("96372") == "SC/IM"
    assert table.admin_route("99213") is None
    assert table.admin_route_fits("96372", table.drug("J2350").route) is False
    assert table.admin_route_fits("96365", table.drug("J2357").route) is False
    assert table.admin_route_fits("96372", table.drug("J2357").route) is True
    assert table.admin_route_fits("99213", "IV") is None


# ---------------------------------------------------------------------------
# Extra files: merge rule
# ---------------------------------------------------------------------------


def test_extra_file_adds_a_new_hcpcs(tmp_path, table):
    path = write(tmp_path, "my-drugs.toml", extra_drug())
    merged = load_drug_table([path])
    assert set(merged.drugs) == SHIPPED_HCPCS | {"J9999"}
    assert merged.drug("J9999").amount_per_unit == 10
    assert merged.hcpcs_for_ndc("12345678901") == "J9999"
    assert merged.version == f"{table.version}+my-drugs@local.1"
    assert merged.drug("J2350") == table.drug("J2350")


def test_extra_file_replaces_a_whole_entry(tmp_path, table):
    path = write(tmp_path, "override.toml", extra_drug("J2350", ndc="50242015099"))
    merged = load_drug_table([path])
    j2350 = merged.drug("J2350")
    assert j2350.descriptor == "Injection, testumab, 10 mg"
    assert j2350.labeled_doses == (10, 20)
    # Whole-entry replacement: the shipped NDC, diagnoses and revenue code are gone.
    assert j2350.ndc("50242015001") is None and merged.hcpcs_for_ndc("50242015001") is None
    assert j2350.diagnoses == () and j2350.revenue_code is None
    assert merged.drug("J2351") == table.drug("J2351")
    assert table.drug("J2350").labeled_doses == (300, 600)  # the shipped table is untouched


def test_later_extra_file_wins(tmp_path):
    first = write(tmp_path, "first.toml", extra_drug())
    second = write(tmp_path, "second.toml",
                   extra_drug(descriptor='descriptor = "Injection, testumab, 10 mg (v2)"'))
    merged = load_drug_table([first, second])
    assert merged.drug("J9999").descriptor.endswith("(v2)")
    assert [f.name for f in merged.files][1:] == [str(first), str(second)]


def test_extra_file_can_replace_an_administration_code_route(tmp_path):
    text = ('version = "x"\nupdated = 2026-12-01\ndrugs = {}\n[administration_codes]\n'
            '"96372" = { route = "SC", source = "t", confidence = "C" }\n')
    merged = load_drug_table([write(tmp_path, "admin.toml", text)])
    assert merged.admin_route("96372") == "SC"
    assert merged.admin_route("96365") == "IV"


# ---------------------------------------------------------------------------
# Bad files
# ---------------------------------------------------------------------------


def load_error(tmp_path: Path, name: str, text: str) -> str:
    with pytest.raises(DrugTableError) as caught:
        load_drug_table([write(tmp_path, name, text)])
    return str(caught.value)


def test_bad_ndc_names_file_and_field(tmp_path):
    text = extra_drug(ndc="1234")
    message = load_error(tmp_path, "my-drugs.toml", text)
    path = str(tmp_path / "my-drugs.toml")
    line = text.splitlines().index('ndc = "1234"') + 1  # the line of the value, in plain words
    assert message == (f"{path}: line {line}: drugs.J9999.ndcs[0].ndc: '1234' is not of the "
                       "form this field takes: 11 digits (an NDC in 5-4-2 form, no hyphens: "
                       "50242015001)")


def test_each_problem_is_its_own_line_on_stderr_with_values_still_escaped(tmp_path):
    from click.testing import CliRunner
    from conftest import CLEAN_J2350_CLAIM

    from edi837.batch import BatchError
    from edi837.cli import main
    from edi837.x12.fragment import wrap_claims

    (tmp_path / "inbox").mkdir()
    clean_edi = write(tmp_path / "inbox", "clean.edi", wrap_claims(CLEAN_J2350_CLAIM))
    bad = write(tmp_path, "bad.toml", 'version = "x"\n[drugs."J9\\n99"]\ndescriptor = 5\n')
    for command in (["check", str(clean_edi)], ["extract", str(clean_edi)],
                    ["batch", str(clean_edi.parent), "--out", str(tmp_path / "out")]):
        result = CliRunner().invoke(main, [*command, "--drug-table", str(bad)])
        assert result.exit_code == 2 and "Traceback" not in result.output
        lines = result.stderr.splitlines()
        assert len(lines) > 3 and all(text.startswith(f"edi837: {bad}: ") for text in lines), lines
        assert "\\x0a" not in result.stderr.replace("J9\\x0a99", "")  # no joined problems
        assert f"edi837: {bad}: line 2: drugs.J9\\x0a99: dosing is missing: this table " \
            "needs it" in lines
    assert BatchError("one", "two").lines == ("one", "two") and str(BatchError("one")) == "one"


def test_invalid_toml_names_file_and_line(tmp_path):
    text = 'version = "x"\nupdated = 2026-12-01\n[drugs.J9999\ndescriptor = "x"\n'
    message = load_error(tmp_path, "broken.toml", text)
    assert message.startswith(f"{tmp_path / 'broken.toml'}: invalid TOML")
    assert "line 3" in message


def test_wrong_field_type_names_file_and_field(tmp_path):
    dosing = ('[drugs.J9999.dosing]\nlabeled_doses = [10]\nmax_units_per_day = "600"\n'
              'source = "t"\nconfidence = "B"')
    message = load_error(tmp_path, "typed.toml", extra_drug(dosing=dosing))
    assert re.search(r"typed.toml: line \d+: drugs.J9999.dosing.max_units_per_day: '600' "
                     "should be a whole number", message)


def test_misspelt_field_is_rejected(tmp_path):
    message = load_error(tmp_path, "typo.toml", extra_drug(single_dose="single_dos = true"))
    assert re.search(r"typo.toml: line \d+: drugs.J9999: single_dos: not a field", message)
    assert "drugs.J9999: single_dose is missing" in message


def test_dotted_icd_code_and_datetime_are_rejected(tmp_path):
    diagnoses = (
        'diagnoses = [{ label = "ms", source = "t", confidence = "C", '
        'codes = [{ code = "G35.A", valid_from = 2025-10-01T00:00:00 }] }]'
    )
    message = load_error(tmp_path, "dx.toml", extra_drug(diagnoses=diagnoses))
    assert "drugs.J9999.diagnoses[0].codes[0].code: 'G35.A' is not of the form" in message
    assert ("drugs.J9999.diagnoses[0].codes[0].valid_from: '2025-10-01T00:00:00' is not a 'date'"
            in message)


def test_billable_ndc_needs_an_amount(tmp_path):
    ndcs = ('[[drugs.J9999.ndcs]]\nndc = "12345678901"\npackage = "vial"\nbillable = true\n'
            'source = "t"\nconfidence = "B"')
    message = load_error(tmp_path, "amount.toml", extra_drug(ndcs=ndcs))
    assert re.search(r"amount.toml: line \d+: drugs.J9999.ndcs\[0\]: amount is missing",
                     message)


def test_unknown_administration_code_is_rejected(tmp_path):
    administration = ('[drugs.J9999.administration]\ncodes = ["96999"]\nsource = "t"\n'
                      'confidence = "B"')
    message = load_error(tmp_path, "adm.toml", extra_drug(administration=administration))
    assert ("drugs.J9999.administration.codes[0]: '96999' is not in "
            "administration_codes") in message


def test_ndc_listed_under_two_drugs_is_rejected(tmp_path):
    message = load_error(tmp_path, "dup.toml", extra_drug(ndc="50242015001"))
    assert ("drugs.J9999.ndcs[0].ndc: '50242015001' is listed already under J2350"
            in message)


def test_dose_above_maximum_is_rejected(tmp_path):
    dosing = ('[drugs.J9999.dosing]\nlabeled_doses = [10, 40]\nmax_units_per_day = 20\n'
              'source = "t"\nconfidence = "B"')
    message = load_error(tmp_path, "dose.toml", extra_drug(dosing=dosing))
    assert ("drugs.J9999.dosing.labeled_doses[1]: 40 is above max_units_per_day 20"
            in message)


SCHEDULE = ('[drugs.J9999.schedule]\nmaintenance_dose = 20\nmaintenance_interval_days = 168\n'
            'maintenance_min_days = {minimum}\ninduction_dose = 10\ninduction_interval_days = 14\n'
            'induction_window_days = {window}\nsource = "t"\nconfidence = "B"\n'
            'tolerance_source = "t"')


def test_reversed_induction_window_is_rejected(tmp_path):
    # trial 5 t20.toml: [21, 10] gave "allowed 21-10" warnings instead of a refusal
    schedule = SCHEDULE.format(minimum=140, window="[21, 10]")
    message = load_error(tmp_path, "t20.toml", extra_drug(schedule=schedule))
    assert "drugs.J9999.schedule.induction_window_days: [21, 10] is reversed" \
        in message


def test_maintenance_minimum_above_the_interval_is_rejected(tmp_path):
    # trial 5 t21.toml: 1400 days, larger than the 168-day interval
    schedule = SCHEDULE.format(minimum=1400, window="[10, 21]")
    message = load_error(tmp_path, "t21.toml", extra_drug(schedule=schedule))
    assert ("drugs.J9999.schedule.maintenance_min_days: 1400 is larger than "
            "maintenance_interval_days 168") in message


def test_a_sound_schedule_loads(tmp_path):
    schedule = SCHEDULE.format(minimum=140, window="[10, 21]")
    table = load_drug_table([write(tmp_path, "ok.toml", extra_drug(schedule=schedule))])
    assert table.drug("J9999").schedule.induction_window_days == (10, 21)


def test_a_bad_schedule_exits_2_naming_the_path(tmp_path):
    from click.testing import CliRunner

    from edi837.cli import main
    path = write(tmp_path, "t21.toml", extra_drug(schedule=SCHEDULE.format(minimum=1400,
                                                                         window="[10, 21]")))
    result = CliRunner().invoke(main, ["drugs", "J9999", "--drug-table", str(path)])
    assert result.exit_code == 2
    assert "drugs.J9999.schedule.maintenance_min_days" in result.output


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(DrugTableError) as caught:
        load_drug_table([tmp_path / "nowhere.toml"])
    assert str(caught.value).startswith(f"{tmp_path / 'nowhere.toml'}: cannot read")


def test_schema_json_in_schemas_dir_parses():
    schema = json.loads((REPO / "schemas" / "drug-table.schema.json").read_text())
    assert schema["title"] == "edi837 drug table"


def test_support_is_cached_per_validity_period_not_per_day(table):
    """Same codes on both sides of 2025-10-01 give different answers, and days
    inside one period share one cached answer."""
    drug = table.drug("J2350")
    before = drug.supporting_diagnoses(["G35", "G35A"], date(2025, 9, 30))
    after = drug.supporting_diagnoses(["G35", "G35A"], date(2025, 10, 1))
    assert [m.code for m in before.supporting] == ["G35"]
    assert [m.code for m in before.not_valid_on_date] == ["G35A"]
    assert [m.code for m in after.supporting] == ["G35A"]
    assert [m.code for m in after.not_valid_on_date] == ["G35"]
    assert drug.supporting_diagnoses(["G35", "G35A"], date(2026, 3, 1)) is after
