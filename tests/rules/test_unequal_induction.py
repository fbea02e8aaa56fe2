"""A schedule whose two starting doses differ (Briumvi: 150 mg, then 450 mg two weeks
later, then 450 mg every 24 weeks): `induction_second_dose` in a user's drug table, so
the right second dose is no HIS002 (trial 5 item 10, s7.edi BRI-2)."""
from test_drug_table import extra_drug, write

from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.x12.fragment import wrap_claims

SCHEDULE = ('[drugs.J2329.schedule]\ningredient = "ublituximab"\ninduction_dose = 150\n'
            '{second}induction_interval_days = 14\ninduction_window_days = [10, 21]\n'
            'maintenance_dose = 450\nmaintenance_interval_days = 168\n'
            'maintenance_min_days = 140\nsource = "t"\nconfidence = "B"\n'
            'tolerance_source = "t"')


def his002(tmp_path, second: str, *doses):
    table = write(tmp_path, "local.toml", extra_drug(
        "J2329", descriptor='descriptor = "Injection, ublituximab-xiiy, 1 mg"',
        amount_per_unit="amount_per_unit = 1",
        dosing='[drugs.J2329.dosing]\nlabeled_doses = [150, 450]\nmax_units_per_day = 450\n'
               'source = "t"\nconfidence = "B"',
        schedule=SCHEDULE.format(second=second)))
    claims = "\n".join(f"CLM*B{i}*900***11:B:1*Y*A*Y*Y\nHI*ABK:G35A\nLX*1\n"
                       f"SV1*HC:J2329:JZ*900*UN*{units}***1\nDTP*472*D8*{date}"
                       for i, (units, date) in enumerate(doses, start=1))
    path = tmp_path / "claims.edi"
    path.write_text(wrap_claims(claims))
    engine = Engine(load_drug_table([table]))
    return [f for f in engine.check_file(path).findings if f.rule == "HIS002"]


def test_150_then_450_two_weeks_later_is_on_schedule(tmp_path):
    doses = ((150, "20260105"), (450, "20260119"), (450, "20260706"))
    assert his002(tmp_path, "induction_second_dose = 450\n", *doses) == []
    # without the second dose's size the 450 is judged as a maintenance dose, 14 days on
    found, = his002(tmp_path, "", *doses)
    assert found.claim_id == "B2" and "14 days after" in found.message


def test_the_second_dose_outside_its_window_is_flagged(tmp_path):
    found, = his002(tmp_path, "induction_second_dose = 450\n", (150, "20260105"),
                    (450, "20260110"))
    assert "5 days after" in found.message and "allowed 10-21" in found.message
