"""The merged drug table: :class:`DrugTable` and the files it was loaded from."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .drug import Drug
from .model import AdministrationCode, Ndc, Policy


@dataclass(frozen=True, slots=True)
class TableFile:
    """One file the table was loaded from (the shipped table first)."""

    name: str
    version: str
    updated: dt.date


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
    _ndc_owner: Mapping[str, tuple[str | None, str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "drugs", MappingProxyType(dict(self.drugs)))
        object.__setattr__(self, "administration_codes", MappingProxyType(dict(self.administration_codes)))
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

    def administration(self, cpt: str) -> AdministrationCode | None:
        return self.administration_codes.get(cpt)

    def admin_route(self, cpt: str) -> str | None:
        """Route an administration code implies ("IV", "SC/IM"), or None when it is not one."""
        code = self.administration_codes.get(cpt)
        return code.route if code else None

    def admin_route_fits(self, cpt: str, route: str) -> bool | None:
        """Whether ``cpt`` suits a drug given by ``route`` (ADM002); None when ``cpt`` is unknown."""
        code = self.administration_codes.get(cpt)
        return code.fits(route) if code else None
