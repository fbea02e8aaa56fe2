"""A finding is encoded for the JSON report directly from its fields (issue 25 item 2):
the same text as the JSON encoder makes of Finding.as_dict, whatever the values."""
import io
import json

from edi837.findings import Edit, Finding, Fix
from edi837.reports.csv_report import _Rows
from edi837.reports.json_report import _dumps, finding_json
from edi837.safetext import CsvRows


def findings():
    yield Finding("NDC002", "error", "plain", "f.edi")
    utf8_as_latin1 = "Müller ✓".encode().decode("latin-1")  # as the reader reads UTF-8
    yield Finding("DX001", "warning", f'say "{utf8_as_latin1}"\\ \x01\t', "f.edi",
                  segment_index=12, segment="SV1", loop="2400", claim_id=utf8_as_latin1,
                  line_number=3, hcpcs="J2350", value="\xff\xfe not UTF-8",
                  interchange="000000001", group="1", transaction="0001", payer_id="P\u202e1",
                  charge="4500", payer_name=utf8_as_latin1, service_date="20260115",
                  billing_npi="1234567893", claim_charge="9000.5", payment_limit="123.45",
                  fix=Fix(f"set {utf8_as_latin1}", (Edit(12, "SV1", 4, None, "30", "3"),)),
                  extra={"ndc": "x"}, claim_first=10, claim_last=40, policy="medicare")
    yield Finding("DOC000", "info", "documentation checklist: ...", "f.edi", service_date="2026",
                  line_number="7", segment_index=0)


def test_the_direct_encoding_is_the_encoders_text_of_as_dict():
    for finding in [*findings(), *findings()]:  # the second time, the texts kept
        text = finding_json(finding)
        assert text == _dumps(finding.as_dict())
        assert json.loads(text) == finding.as_dict()
    # FAIL: a value the encoder must escape
    assert '\\"' in finding_json(list(findings())[1])


class Text(str):
    pass


def test_csv_rows_quoted_once_are_the_csv_modules_rows():
    tricky = ["plain", "", " ", "a,b", 'say "x"', "two\nlines", "cr\rhere", "=1+2", "-3",
              " @sum", "\tx", "Müller ✓".encode().decode("latin-1"), "P\u202e1", None, 0, 7,
              -1, 2.5, 1.0, True, Text("=sub"), Text("ok")]
    rows = [tuple(tricky), tuple(reversed(tricky)), ("", ""), (None, None), ("x",) * 3,
            ["a list", ["not", "a key"]]]
    for out_of in (CsvRows, _Rows):
        out = io.StringIO()
        writer = out_of(out, ("a", "b"))
        for row in rows + rows:  # the second time, the cells kept
            writer.write(row)
        if out_of is CsvRows:
            expected = out.getvalue()
    assert out.getvalue() == expected
    assert '"a,b"' in expected and "'=1+2" in expected  # FAIL: quoted, not run
