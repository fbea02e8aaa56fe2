"""A user's drug table that breaks the schema or contradicts itself names the line of
the offending key (tomllib gives one for syntax errors only) and says what is wrong in
plain words, not as the schema's regular expression (trial 8b, item 8)."""
from __future__ import annotations

import pytest

from edi837.drugs import DrugTableError, load_drug_table
from edi837.drugs.toml_lines import line_of, lines_of

TABLE = """\
version = "local.1"
updated = 2026-12-01

[drugs.J9999]
descriptor = "Injection, testumab, 10 mg"
amount_per_unit = 10
unit_of_measure = "mg"
route = "IV"
single_dose = true
diagnoses = []
source = "the testumab label (synthetic)"
confidence = "B"

[drugs.J9999.dosing]
labeled_doses = [10]
max_units_per_day = 10
source = "the testumab label (synthetic)"
confidence = "B"

[drugs.J9999.administration]
codes = ["96365"]
source = "the testumab label (synthetic)"
confidence = "B"

[[drugs.J9999.ndcs]]
ndc = "99999000101"
package = "100 mg/10 mL single-dose vial"
amount = 100
volume_ml = 10
billable = true
source = "the testumab label (synthetic)"
confidence = "B"

[[drugs.J9999.ndcs]]
ndc = "99999000202"
package = "300 mg/30 mL single-dose vial"
amount = 300
volume_ml = 30
billable = true
source = "the testumab label (synthetic)"
confidence = "B"
"""


def problems(tmp_path, text: str) -> list[str]:
    table = tmp_path / "local-drugs.toml"
    table.write_text(text)
    with pytest.raises(DrugTableError) as refused:
        load_drug_table([table])
    assert all(line.startswith(f"{table}: ") for line in refused.value.lines)
    return [line[len(f"{table}: "):] for line in refused.value.lines]


def test_the_table_as_written_loads(tmp_path):
    table = tmp_path / "local-drugs.toml"
    table.write_text(TABLE)
    assert "J9999" in load_drug_table([table]).drugs


def test_a_bad_ndc_in_the_second_package_names_its_line_in_plain_words(tmp_path):
    text = TABLE.replace('ndc = "99999000202"', 'ndc = "9999900202"')
    assert problems(tmp_path, text) == [
        "line 35: drugs.J9999.ndcs[1].ndc: '9999900202' is not of the form this field "
        "takes: 11 digits (an NDC in 5-4-2 form, no hyphens: 50242015001)"]


def test_a_misspelt_field_and_a_wrong_type_name_their_lines(tmp_path):
    text = TABLE.replace("single_dose = true", "single_dos = true").replace(
        "max_units_per_day = 10", 'max_units_per_day = "10"')
    said = problems(tmp_path, text)
    assert "line 16: drugs.J9999.dosing.max_units_per_day: '10' should be a whole number" \
        in said
    assert ("line 4: drugs.J9999: single_dos: not a field of this table (a typo? the fields "
            "are in schemas/drug-table.schema.json)") in said
    assert "line 4: drugs.J9999: single_dose is missing: this table needs it" in said
    assert not [line for line in said if "does not match" in line or "^" in line]


def test_a_bad_hcpcs_key_names_the_line_of_its_table(tmp_path):
    said = problems(tmp_path, TABLE.replace("J9999", "J99O9"))
    assert said[0] == ("line 4: drugs: 'J99O9' is not of the form this field takes: a capital "
                       "letter and four digits (J2350)")


def test_a_contradiction_names_the_line_of_its_key(tmp_path):
    text = TABLE.replace("labeled_doses = [10]", "labeled_doses = [10, 40]")
    assert problems(tmp_path, text) == [
        "line 15: drugs.J9999.dosing.labeled_doses[1]: 40 is above max_units_per_day 10"]
    twice = TABLE.replace('ndc = "99999000202"', 'ndc = "99999000101"')
    assert problems(tmp_path, twice) == [
        "line 35: drugs.J9999.ndcs[1].ndc: '99999000101' is listed twice"]


def test_a_schedule_without_its_tolerance_source_says_it_is_missing(tmp_path):
    schedule = ('\n[drugs.J9999.schedule]\nmaintenance_dose = 10\n'
                'maintenance_interval_days = 168\nmaintenance_min_days = 140\n'
                'source = "t"\nconfidence = "B"\n')
    said = problems(tmp_path, TABLE + schedule)
    assert said == ["line 43: drugs.J9999.schedule: tolerance_source is missing: this "
                    "table needs it"]


def test_lines_of_reads_dotted_and_quoted_keys_and_arrays_of_tables():
    text = ('a = 1\n[t]\n"q.k" = 2\nx.y = 3\n[[t.arr]]\nv = 1\n[[t.arr]]\nv = [\n  2,\n]\n'
            '[t.arr.sub]  # a table in the second element\nw = 4\n')
    found = lines_of(text)
    assert found[("a",)] == 1 and found[("t", "q.k")] == 3 and found[("t", "x", "y")] == 4
    assert found[("t", "arr", 0, "v")] == 6 and found[("t", "arr", 1, "v")] == 8
    assert found[("t", "arr", 1, "sub", "w")] == 12
    assert line_of(text, ["t", "arr", 1, "v", 1]) == 8  # an array element: its key's line
    assert line_of(text, ["nowhere"]) is None
