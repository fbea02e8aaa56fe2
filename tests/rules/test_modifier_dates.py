"""DOS003: a modifier on a line dated before the modifier existed (JZ before 2023-01-01),
by the drug table's date, not the code's."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.x12.fragment import wrap_claims

TABLE = load_drug_table()


JZ_LINE = """\
CLM*C1*9000***11:B:1*Y*A*Y*Y
HI*ABK:G35
LX*1
SV1*HC:J2350:{modifier}*9000*UN*600***1
DTP*472*D8*{date}
LIN**N4*50242015001
CTP****20*ML"""


def test_jz_before_2023_is_a_warning_by_the_drug_tables_date(tmp_path):
    def dos003(modifier, date, table=TABLE):
        path = tmp_path / f"m-{len(list(tmp_path.iterdir()))}.edi"
        path.write_text(wrap_claims(JZ_LINE.format(modifier=modifier, date=date), "837P"))
        return [f for f in Engine(table).check_file(path).findings if f.rule == "DOS003"]

    early = dos003("JZ", "20221231")
    assert [(f.severity, f.line_number) for f in early] == [("warning", 1)]
    assert "JZ exists from 2023-01-01" in early[0].message
    assert dos003("JZ", "20230101") == []
    assert dos003("JW", "20221231") == []  # no date for JW in the table: nothing
    # the date is the table's, not the code's: a table giving JW one flags it
    modifiers = replace(TABLE.policy.discarded_drug_modifiers,
                        available_from={"JW": dt.date(2023, 6, 1)})
    table = replace(TABLE, policy=replace(TABLE.policy, discarded_drug_modifiers=modifiers))
    assert len(dos003("JW", "20230531", table)) == 1
    assert dos003("JZ", "20221231", table) == []
