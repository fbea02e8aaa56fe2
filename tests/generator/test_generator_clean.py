"""The generator (trial item 8): a file generated with no defects is clean for the
checker (no warning, no error), and `python -m edi837.generator` offers what
`edi837 generate` offers, in the same words."""
import io
import subprocess
import sys

import pytest
from click.testing import CliRunner
from pyx12check import pyx12_verdict

from edi837.cli import main
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.generator import generate
from edi837.generator.facts import MS_SUBTYPES, ms_subtypes_for


@pytest.mark.parametrize("kind", ["837P", "837I"])
def test_a_file_generated_without_defects_has_no_warning_or_error(tmp_path, kind):
    out = io.StringIO(newline="")
    stats = generate(out, kind, claims=1500, seed=3, defect_rate=0.0)
    assert stats["defects"] == {}
    path = tmp_path / f"clean-{kind}.edi"
    path.write_text(out.getvalue(), encoding="ascii")
    found = Engine(load_drug_table()).check_file(path).findings
    assert [(f.rule, f.severity, f.message) for f in found
            if f.severity in ("error", "warning")] == []
    assert any("J2323" in line for line in out.getvalue().split("~"))  # natalizumab is there


def test_the_generators_sizes_are_the_drug_tables_and_waste_is_the_fewest_containers():
    from decimal import Decimal

    from edi837.generator.facts import OCRELIZUMAB, OTHER_DRUGS
    from edi837.rules.groups import container_amounts
    table = load_drug_table()
    for drug in (OCRELIZUMAB, *OTHER_DRUGS):
        sizes = drug.pack_mg or (drug.vial_mg,)
        assert {Decimal(size) for size in sizes} <= set(container_amounts(table.drug(drug.hcpcs)))
    tocilizumab = next(drug for drug in OTHER_DRUGS if drug.hcpcs == "J3262")
    assert (tocilizumab.opened_mg(420), tocilizumab.opened_mg(560),
            tocilizumab.opened_mg(580)) == (440, 560, 600)
    assert OCRELIZUMAB.opened_mg(450) == 600


def test_natalizumab_gets_only_the_ms_subtypes_the_table_supports_without_review():
    table = load_drug_table()
    review = {entry.code for entry in table.drug("J2323").diagnoses if entry.review}
    assert {"G35B0", "G35B1"} <= review
    assert set(ms_subtypes_for("J2323")) == set(MS_SUBTYPES) - review
    assert ms_subtypes_for("J2350") == MS_SUBTYPES  # ocrelizumab: PPMS fully supported


def test_a_small_clean_file_is_valid_for_pyx12(tmp_path):
    path = tmp_path / "clean.edi"
    with open(path, "w", encoding="ascii", newline="") as out:
        generate(out, "837P", claims=120, seed=3, defect_rate=0.0)
    assert pyx12_verdict(path) == (True, "")


def test_the_module_command_offers_what_edi837_generate_offers_in_its_words(tmp_path):
    module = subprocess.run([sys.executable, "-m", "edi837.generator", "--help"],
                            capture_output=True, text=True, check=True).stdout
    command = CliRunner().invoke(main, ["generate", "--help"]).output
    for option in ("--drug-share", "--nights", "--out-dir", "--defect-rate", "--seed"):
        assert option in module and option in command, option
    for text in (module, command):
        assert "share of drug claims with one billing defect" in " ".join(text.lower().split())
    nights = tmp_path / "nights"
    done = subprocess.run([sys.executable, "-m", "edi837.generator", "--nights", "30",
                           "--out-dir", str(nights)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (nights / "manifest.json").exists() and list(nights.glob("night-*.edi"))
    refused = subprocess.run([sys.executable, "-m", "edi837.generator", "--nights", "30",
                              "--out-dir", str(nights), "--drug-share", "0.1"],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "--drug-share" in refused.stderr
    mix = subprocess.run([sys.executable, "-m", "edi837.generator", "--claims", "200",
                          "--drug-share", "0.05", "-o", str(tmp_path / "mix.edi")],
                         capture_output=True, text=True)
    assert mix.returncode == 0, mix.stderr
    assert "drug_lines" in mix.stderr
