"""The merged drug table: :class:`DrugTable` and the files it was loaded from.

``DrugTable.with_reference(reference)`` lays imported CMS reference data
(:mod:`edi837.refdata`) over the table: the rules keep reading ``ctx.table``
and ask it, by kind of claim and date of service, who bills an NDC, what a
line's ASP payment limit is, and which files a report should name.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from ..model import parse_date, parse_decimal
from ..ndc import ndc11_of
from .drug import Drug
from .model import AdministrationCode, DateWindow, Ndc, Policy, Provenance

# the days a line's code is valid and its NDC marketed (DrugTable.date_windows)
DateWindows = tuple[DateWindow | None, DateWindow | None]


@dataclass(frozen=True, slots=True)
class TableFile:
    """One file the table was loaded from (the shipped table first)."""

    name: str
    version: str
    updated: dt.date


@dataclass(frozen=True, slots=True)
class NdcOwner:
    """The code an NDC is billed under, and who says so: the table (``file`` None) or an
    imported crosswalk (``file``: its ``edi837.refdata.ImportedFile``)."""

    hcpcs: str | None
    product: str
    file: Any = None


@dataclass(frozen=True, slots=True, eq=False)
class DrugTable:
    """The drug table after merging the shipped file and any extra files.

    ``version`` is the shipped table's version, followed by ``+<name>@<version>``
    for each extra file, so a report shows exactly which data it used.
    """

    version: str
    updated: dt.date
    policy: Policy
    drugs: Mapping[str, Drug]
    administration_codes: Mapping[str, AdministrationCode]
    files: tuple[TableFile, ...] = ()
    reference: Any = field(default=None, repr=False)  # edi837.refdata.Reference, or None
    _ndc_owner: Mapping[str, tuple[str | None, str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "drugs", MappingProxyType(dict(self.drugs)))
        object.__setattr__(self, "administration_codes",
                           MappingProxyType(dict(self.administration_codes)))
        owner: dict[str, tuple[str | None, str]] = {}
        for drug in self.drugs.values():
            for package in drug.ndcs:
                owner[package.ndc] = (drug.hcpcs, package.product or drug.descriptor)
        # Related products' NDCs come second: a drug's own listing always wins.
        for drug in self.drugs.values():
            for related in drug.related:
                for ndc in related.ndcs:
                    owner.setdefault(ndc, (related.hcpcs, related.name))
        object.__setattr__(self, "_ndc_owner", MappingProxyType(owner))

    def drug(self, hcpcs: str) -> Drug | None:
        return self.drugs.get(hcpcs)

    def ndc(self, ndc: str) -> Ndc | None:
        """The package for an NDC listed under any drug (its ``hcpcs`` says which)."""
        hcpcs, _ = self._ndc_owner.get(ndc, (None, ""))
        drug = self.drugs.get(hcpcs) if hcpcs else None
        return drug.ndc(ndc) if drug else None

    def hcpcs_for_ndc(self, ndc: str) -> str | None:
        """The HCPCS an NDC is billed under, across all drugs and their related codes.

        For the NDC004 crosswalk message: 50242055401 (Ocrevus Zunovo) -> J2351.
        """
        return self._ndc_owner.get(ndc, (None, ""))[0]

    def product_for_ndc(self, ndc: str) -> str | None:
        """The product name the table knows an NDC by ("Ocrevus Zunovo"), or None."""
        found = self._ndc_owner.get(ndc)
        return found[1] if found else None

    def code_unconfirmed(self, hcpcs: str) -> Provenance | None:
        """Who names ``hcpcs`` when nothing confirms the code number (NDC004's advice):
        a related entry of confidence "unconfirmed" (Omlyclo's Q5154, seen next to J2357
        on carecostestimate [C]) for a code with no entry of its own and no dates from an
        imported CMS HCPCS file; None when the code is confirmed or unknown."""
        if hcpcs in self.drugs:
            return None
        dates = self.code_dates(hcpcs)
        if dates is not None and dates.file is not None:  # CMS's HCPCS file lists it
            return None
        for drug in self.drugs.values():
            for related in drug.related:
                if related.hcpcs == hcpcs and not related.provenance.confirmed:
                    return related.provenance
        return None

    def administration(self, cpt: str) -> AdministrationCode | None:
        return self.administration_codes.get(cpt)

    def admin_route(self, cpt: str) -> str | None:
        """Route an administration code implies ("IV", "SC/IM"), or None when it is not one."""
        code = self.administration_codes.get(cpt)
        return code.route if code else None

    def admin_route_fits(self, cpt: str, route: str) -> bool | None:
        """Whether ``cpt`` suits a drug given by ``route`` (ADM002); None when ``cpt`` is
        unknown."""
        code = self.administration_codes.get(cpt)
        return code.fits(route) if code else None

    # -- imported CMS reference data ---------------------------------------------------
    def with_reference(self, reference) -> "DrugTable":
        """This table with imported reference data laid over it (None: the table alone)."""
        if reference is None and self.reference is None:
            return self
        return replace(self, reference=reference,
                       drugs={hcpcs: replace(drug, reference=reference)
                              for hcpcs, drug in self.drugs.items()})

    def owner_of(self, ndc: str, claim_kind: str | None = None, day: dt.date | None = None,
                 *, besides: str | None = None) -> NdcOwner | None:
        """Who bills ``ndc`` (NDC004): a drug of the table that lists it; else the CMS
        crosswalk for the claim's kind on ``day``, under a code other than ``besides``;
        else a product the table relates to a drug (a biosimilar's own Q-code)."""
        hcpcs, product = self._ndc_owner.get(ndc, (None, ""))
        drug = self.drugs.get(hcpcs) if hcpcs else None
        if drug is not None and drug.ndc(ndc) is not None:
            return NdcOwner(hcpcs, product)
        if self.reference is not None and claim_kind is not None:
            for entry in self.reference.crosswalk_codes(ndc, claim_kind, day):
                if entry.hcpcs != besides:
                    return NdcOwner(entry.hcpcs, entry.drug_name or product or "another product",
                                    entry.file)
        return NdcOwner(hcpcs, product) if ndc in self._ndc_owner else None

    def unlisted_package(self, ndc: str):
        """The imported FDA NDC Directory package file that lists the product of ``ndc``
        but not the package (an invalid package code, NDC004); None when nothing says."""
        return self.reference.unlisted_package(ndc) if self.reference is not None else None

    def code_dates(self, hcpcs: str) -> DateWindow | None:
        """The days ``hcpcs`` is a valid code (DOS002): from the newest imported CMS HCPCS
        file that lists it, else the drug table's ``code_dates``; None when nothing says."""
        drug = self.drugs.get(hcpcs)
        if self.reference is not None and (drug is None
                                           or "dates" not in drug.overrides_reference):
            found = self.reference.hcpcs_dates(hcpcs)
            if found is not None:
                return found
        return drug.code_dates if drug is not None else None

    def ndc_dates(self, ndc: str) -> DateWindow | None:
        """The days the package ``ndc`` (11 digits) is marketed (NDC009): from the newest
        imported FDA NDC Directory that lists the package (else its product), else the
        drug table's package; None when nothing says."""
        package = self.ndc(ndc)
        owner = self.drugs.get(package.hcpcs) if package is not None else None
        if self.reference is not None and (owner is None
                                           or "dates" not in owner.overrides_reference):
            found = self.reference.ndc_dates(ndc)
            if found is not None:
                return found
        if package is None or (package.marketing_start is None and package.marketing_end is None):
            return None
        return DateWindow(package.marketing_start, package.marketing_end,
                          str(package.provenance))

    def dates_token(self, hcpcs: str, ndc: str | None, day: dt.date | None) -> tuple:
        """What DOS002 and NDC009 can tell of a line's date: whether it is inside its code's
        and its NDC's dates (for claim shapes, edi837.reader.shapes)."""
        if day is None:
            return ()
        return self.token_of(self.date_windows(hcpcs, ndc), day)

    def date_windows(self, hcpcs: str, ndc: str | None) -> DateWindows:
        """The days ``hcpcs`` is valid and the days ``ndc`` (as billed) is marketed, None
        where nothing says: what :meth:`dates_token` judges a day by (a claim shape keeps
        them per code and NDC, edi837.reader.shapes)."""
        ndc = ndc11_of(ndc) if ndc else None
        return self.code_dates(hcpcs), self.ndc_dates(ndc) if ndc else None

    @staticmethod
    def token_of(windows: DateWindows, day: dt.date) -> tuple:
        """:meth:`dates_token` of ``day`` from the code's and NDC's ``windows``."""
        code, package = windows
        return (code is None or code.holds(day), package is None or package.holds(day))

    def payment_limit(self, hcpcs: str, service_date: str, units: str) -> str | None:
        """The ASP payment limit of ``units`` (SV104/SV205) of ``hcpcs`` on ``service_date``
        (CCYYMMDD), from the imported pricing file in force: "35760.00" for 600 units at
        $59.60.  None without a pricing file, a price for the code, a date or a count."""
        if self.reference is None:
            return None
        day, count = parse_date(service_date), parse_decimal(units)
        if day is None or count is None or count <= 0:
            return None
        limit = self.reference.payment_limit(hcpcs, day)
        return None if limit is None else str(limit.for_units(count))

    def reference_data(self) -> dict:
        """What a report names as the data it judged by: the drug table's version and each
        imported CMS file in force (kind, name, SHA-256, effective period)."""
        data: dict[str, Any] = {"drug_table": self.version}
        if self.reference is not None:
            data["imported_files"] = self.reference.as_report()
        return data
