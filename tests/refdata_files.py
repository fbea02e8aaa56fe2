"""Small CMS-like reference files, built by the tests, in each documented layout.

The rows are made up (real HCPCS codes and NDCs as facts, invented prices,
MUE values and titles); the layouts follow billing-rules.md §8.4 and the
ICD-10-CM order file's fixed columns.  Each builder returns text; ``write``
puts it in a file, ``zipped`` into a ZIP.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

CROSSWALK_HEADER = ["_2026_CODE", "Short Description", "LABELER NAME", "NDC2", "Drug Name",
                    "HCPCS dosage", "PKG SIZE", "PKG QTY", "BILLUNITS", "BILLUNITSPKG"]
CROSSWALK_ROWS = [
    ["J2350", "Inj ocrelizumab 1mg", "Genentech", "50242-0150-01", "Ocrevus", "1 MG", "10", "1",
     "300", "300"],
    ["J2350", "Inj ocrelizumab 1mg", "Synthetic Labs", "99999-0001-01", "Ocrelizumab (test)",
     "1 MG", "20", "1", "600", "600"],
    ["J2351", "Inj ocrelizumab 1mg hya-ocsq", "Genentech", "50242-0554-01", "Ocrevus Zunovo",
     "1 MG", "23", "1", "920", "920"],
    ["Q5154", "Inj omalizumab-igec 5mg", "Celltrion", "72606-0054-01", "Omlyclo", "5 MG", "1",
     "1", "30", "30"],
    ["J9999", "Not otherwise classified", "Synthetic Labs", "ALT-ID-0001", "Alternate id row",
     "", "", "", "", ""],
]
PRICING_HEADER = ["HCPCS Code", "Short Description", "HCPCS Code Dosage", "Payment Limit",
                  "Vaccine AWP%", "Vaccine Limit", "Notes"]
PRICING_ROWS = [["J2350", "Inj ocrelizumab 1mg", "1 MG", "59.600", "", "", ""],
                ["J2351", "Inj ocrelizumab 1mg hya-ocsq", "1 MG", "48.060", "", "", ""],
                ["J3590", "Unclassified biologics", "", "", "", "", "priced by the contractor"]]
MUE_HEADER = ["HCPCS/CPT Code", "{setting} MUE Values", "MUE Adjudication Indicator",
              "MUE Rationale"]
MUE_ROWS = [["J2350", "600", "3 Date of Service Edit: Clinical", "Prescribing Information"],
            ["J2351", "920", "1 Line Edit", "Prescribing Information"],
            ["96365", "1", "2 Date of Service Edit: Policy", "CMS Policy"]]
ICD_CODES = [("G35", False, "Multiple sclerosis", "Multiple sclerosis"),
             ("G35A", True, "Relapsing-remitting multiple sclerosis",
              "Relapsing-remitting multiple sclerosis"),
             ("G35B", False, "Primary progressive multiple sclerosis",
              "Primary progressive multiple sclerosis"),
             ("G35B0", True, "Primary progressive MS, unsp", "Primary progressive multiple "
              "sclerosis, unspecified"),
             ("G35D", True, "Multiple sclerosis, unspecified", "Multiple sclerosis, unspecified"),
             ("M05", False, "Rheumatoid arthritis w rheumatoid factor",
              "Rheumatoid arthritis with rheumatoid factor"),
             ("M0579", True, "Rheu arthritis w rheu factor of mult site w/o org/sys involv",
              "Rheumatoid arthritis with rheumatoid factor of multiple sites without organ or "
              "systems involvement")]
ICD_FY2025 = [("G35", True, "Multiple sclerosis", "Multiple sclerosis")] + ICD_CODES[5:]


def delimited(header, rows, *, preamble=(), delimiter=",", order=None) -> str:
    """A table as CMS writes it: title rows, a header, rows; ``order`` reorders the columns."""
    def cells(row):
        row = [row[i] for i in order] if order else row
        return delimiter.join(f'"{c}"' if delimiter in c or '"' in c else c for c in row)
    lines = [delimiter.join([line] + [""] * (len(header) - 1)) for line in preamble]
    lines += [cells(header)] + [cells(row) for row in rows]
    return "\r\n".join(lines) + "\r\n"


def crosswalk(*, title="April 2026 ASP NDC-HCPCS Crosswalk", rows=CROSSWALK_ROWS, **options) -> str:
    preamble = (title, "Final file", "", "Comments may be sent to the ASP mailbox",
                "The crosswalk is not a complete list of NDCs", "", "", "") if title else ()
    return delimited(CROSSWALK_HEADER, rows, preamble=options.pop("preamble", preamble),
                     **options)


def pricing(*, title="April 2026 ASP Pricing File", rows=PRICING_ROWS, **options) -> str:
    preamble = (title, "Payment allowance limits for Medicare Part B drugs", "") if title else ()
    footnote = [["CPT codes and descriptions only are copyright American Medical Association",
                 "", "", "", "", "", ""]]
    return delimited(PRICING_HEADER, rows + footnote, preamble=preamble, **options)


def mue(setting="Practitioner Services", *, rows=MUE_ROWS, **options) -> str:
    header = [cell.format(setting=setting) for cell in MUE_HEADER]
    preamble = ("CPT codes and descriptions only are copyright American Medical Association",)
    return delimited(header, rows, preamble=preamble, **options)


def icd10_order(codes=ICD_CODES) -> str:
    """The fixed-width order file: order number, code, billable flag, short and long title."""
    return "".join(f"{number:05d} {code:<7} {int(billable)} {short:<60} {long}\r\n"
                   for number, (code, billable, short, long) in enumerate(codes, start=1))


def write(directory: Path, name: str, text: str | bytes) -> Path:
    path = Path(directory) / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def zipped(directory: Path, name: str, members: dict[str, str | bytes]) -> Path:
    path = Path(directory) / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, text in members.items():
            archive.writestr(member, text)
    return path


def mue_reference(directory: Path) -> Path:
    """A store holding only MUE files (practitioner and outpatient, effective 2026-01-01),
    for the rule documentation's UNT004 examples: edi837 ships no MUE values."""
    from edi837.refdata import import_files

    files = Path(directory) / "files"
    files.mkdir(parents=True, exist_ok=True)
    store = Path(directory) / "store"
    import_files([write(files, "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv",
                        mue("Practitioner Services")),
                  write(files, "MCR_MUE_OutpatientHospitalServices_Eff_01-01-2026.csv",
                        mue("Outpatient Hospital Services"))], store)
    return store


# -- dates of codes and products (issue 23): FDA NDC Directory, CMS HCPCS file ----------------

FDA_PACKAGE_HEADER = ["PRODUCTID", "PRODUCTNDC", "NDCPACKAGECODE", "PACKAGEDESCRIPTION",
                      "STARTMARKETINGDATE", "ENDMARKETINGDATE", "NDC_EXCLUDE_FLAG",
                      "SAMPLE_PACKAGE"]
FDA_PACKAGE_ROWS = [
    ["50242-554_synthetic", "50242-554", "50242-554-01", "1 VIAL in 1 CARTON (50242-554-01)",
     "20240913", "", "N", "N"],
    ["50242-150_synthetic", "50242-150", "50242-150-01", "1 VIAL in 1 CARTON (50242-150-01)",
     "20170328", "", "N", "N"],
    ["99999-001_synthetic", "99999-001", "99999-001-01", "1 VIAL in 1 CARTON (99999-001-01)",
     "20200101", "20251231", "N", "N"],
]
FDA_PRODUCT_HEADER = ["PRODUCTID", "PRODUCTNDC", "PRODUCTTYPENAME", "PROPRIETARYNAME",
                      "PROPRIETARYNAMESUFFIX", "NONPROPRIETARYNAME", "STARTMARKETINGDATE",
                      "ENDMARKETINGDATE", "LABELERNAME"]
FDA_PRODUCT_ROWS = [
    ["50242-554_synthetic", "50242-554", "HUMAN PRESCRIPTION DRUG", "Ocrevus Zunovo", "",
     "ocrelizumab and hyaluronidase-ocsq", "20240913", "", "Genentech, Inc."],
    ["8888-77_synthetic", "8888-0077", "HUMAN PRESCRIPTION DRUG", "Synthetic Product", "",
     "synthetic", "20210601", "20230630", "Synthetic Labs"],
]
HCPCS_HEADER = ["HCPC", "SEQNUM", "RECID", "LONG DESCRIPTION", "SHORT DESCRIPTION", "ADD DT",
                "ACT EFF DT", "TERM DT", "ACTION CD"]
HCPCS_ROWS = [
    ["J2350", "0010", "3", "Injection, ocrelizumab, 1 mg", "Injection, ocrelizumab, 1 mg",
     "20180101", "20180101", "", "N"],
    ["J2351", "0010", "3", "Injection, ocrelizumab, 1 mg and hyaluronidase-ocsq",
     "Inj ocrelizumab 1mg hya-ocsq", "20250401", "20250401", "", "A"],
    ["J2351", "0020", "4", "(continued)", "", "", "", "", ""],
    ["C9494", "0010", "3", "Injection, ocrelizumab, 1 mg", "Inj ocrelizumab 1 mg", "20170701",
     "20171231", "20171231", "D"],
]


def fda_package(rows=FDA_PACKAGE_ROWS) -> str:
    """FDA's package.txt: tab-separated, no title rows."""
    return delimited(FDA_PACKAGE_HEADER, rows, delimiter="\t")


def fda_product(rows=FDA_PRODUCT_ROWS) -> str:
    return delimited(FDA_PRODUCT_HEADER, rows, delimiter="\t")


def hcpcs_file(rows=HCPCS_ROWS, **options) -> str:
    """CMS's HCPCS file as saved from its spreadsheet (CSV)."""
    return delimited(HCPCS_HEADER, rows, **options)
