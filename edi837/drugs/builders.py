"""The drug table's TOML, once validated, made into the model's objects (the policy,
each drug with its codes, NDCs, schedule and diagnoses): edi837.drugs.loader reads,
validates and merges the files, this builds what they hold."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .drug import Drug
from .model import (
    Administration,
    DateWindow,
    DiagnosisCode,
    DiscardedDrugModifiers,
    DocumentationNote,
    Dosing,
    Icd9,
    InductionStep,
    IntervalWording,
    LabelInterval,
    Ndc,
    NdcPlaceholders,
    NdcPolicy,
    NdcUnits,
    PlaceOfService,
    Policy,
    Provenance,
    RelatedCode,
    RevenueCode,
    Schedule,
    ServiceUnits,
    UnclassifiedCodes,
)


def _build_policy(policy: Mapping[str, Any]) -> Policy:
    modifiers = policy["discarded_drug_modifiers"]
    ndc, units = policy["ndc"], policy["service_units"]
    return Policy(
        discarded_drug_modifiers=DiscardedDrugModifiers(
            required_from=_date(modifiers["required_from"]),
            claim_edits_from=_date(modifiers["claim_edits_from"]),
            provenance=_provenance(modifiers),
            jw_required_from=_date(modifiers.get("jw_required_from")),
            available_from={code: _date(day) for code, day in
                            modifiers.get("available_from", {}).items()},
        ),
        ndc=NdcPolicy(
            product_qualifier=ndc["product_qualifier"],
            quantity_units=tuple(ndc["quantity_units"]),
            provenance=_provenance(ndc),
        ),
        service_units=ServiceUnits(unit_basis=units["unit_basis"], provenance=_provenance(units)),
        place_of_service=(PlaceOfService(tuple(policy["place_of_service"]["facility_drug"]),
                                         _provenance(policy["place_of_service"]),
                                         dict(policy["place_of_service"].get("names", {})))
                          if "place_of_service" in policy else None),
        icd9=(Icd9(tuple(policy["icd9"]["qualifiers"]), _date(policy["icd9"]["valid_to"]),
                   _provenance(policy["icd9"])) if "icd9" in policy else None),
        ndc_placeholders=(NdcPlaceholders(tuple(policy["ndc_placeholders"]["labelers"]),
                                          tuple(policy["ndc_placeholders"]["ndcs"]),
                                          _provenance(policy["ndc_placeholders"]))
                          if "ndc_placeholders" in policy else None),
        unclassified_codes=(UnclassifiedCodes(tuple(policy["unclassified_codes"]["codes"]),
                                              _provenance(policy["unclassified_codes"]))
                            if "unclassified_codes" in policy else None),
    )


def _build_drug(hcpcs: str, entry: Mapping[str, Any]) -> Drug:
    dosing, administration, revenue = entry["dosing"], entry["administration"], entry.get("revenue")
    return Drug(
        hcpcs=hcpcs,
        descriptor=entry["descriptor"],
        drug_name=entry.get("drug_name"),
        brands=tuple(entry.get("brands", ())),
        amount_per_unit=_decimal(entry["amount_per_unit"]),
        unit_of_measure=entry["unit_of_measure"],
        route=entry["route"],
        single_dose=entry["single_dose"],
        effective_from=_optional_date(entry.get("code_dates", entry).get("effective_from")),
        note=entry.get("note"),
        provenance=_provenance(entry),
        dosing=Dosing(
            labeled_doses=tuple(int(d) for d in dosing["labeled_doses"]),
            max_units_per_day=_optional_int(dosing.get("max_units_per_day")),
            provenance=_provenance(dosing),
        ),
        administration=Administration(codes=tuple(administration["codes"]),
                                      provenance=_provenance(administration)),
        revenue=RevenueCode(revenue["code"], _provenance(revenue)) if revenue else None,
        ndcs=tuple(_build_ndc(hcpcs, package) for package in entry["ndcs"]),
        diagnoses=tuple(
            _build_diagnosis(group, code) for group in entry["diagnoses"] for code in group["codes"]
        ),
        related=tuple(
            RelatedCode(
                name=related["name"],
                hcpcs=related.get("hcpcs"),
                ndcs=tuple(related.get("ndcs", ())),
                note=related.get("note"),
                provenance=_provenance(related),
                valid_from=_optional_date(related.get("valid_from")),
                valid_to=_optional_date(related.get("valid_to")),
            )
            for related in entry.get("related", ())
        ),
        documentation=tuple(
            DocumentationNote(
                note=doc["note"], units=_optional_int(doc.get("units")),
                provenance=_provenance(doc),
                first_dose=bool(doc.get("first_dose", False)),
            )
            for doc in entry.get("documentation", ())
        ),
        schedule=_build_schedule(entry.get("schedule")),
        code_dates=_build_code_dates(entry),
        ndc_units=(NdcUnits(tuple(entry["ndc_units"]["units"]), _provenance(entry["ndc_units"]))
                   if "ndc_units" in entry else None),
        overrides_reference=frozenset(entry.get("overrides_reference", ())),
    )


def _build_code_dates(entry: Mapping[str, Any]) -> DateWindow | None:
    """The HCPCS code's dates: ``code_dates``, else the older top-level ``effective_from``
    with the drug's own source."""
    dates = entry.get("code_dates")
    if dates is None:
        start = _optional_date(entry.get("effective_from"))
        return None if start is None else DateWindow(start, None, str(_provenance(entry)))
    return DateWindow(_optional_date(dates.get("effective_from")),
                      _optional_date(dates.get("effective_to")), str(_provenance(dates)),
                      note=dates.get("note"))


def _build_schedule(schedule: Mapping[str, Any] | None) -> Schedule | None:
    if schedule is None:
        return None
    window = schedule.get("induction_window_days")
    return Schedule(
        maintenance_interval_days=int(schedule["maintenance_interval_days"]),
        maintenance_min_days=int(schedule["maintenance_min_days"]),
        provenance=_provenance(schedule),
        tolerance_source=schedule["tolerance_source"],
        induction_dose=_optional_int(schedule.get("induction_dose")),
        induction_second_dose=_optional_int(schedule.get("induction_second_dose")),
        induction_interval_days=_optional_int(schedule.get("induction_interval_days")),
        induction_window_days=(int(window[0]), int(window[1])) if window else None,
        maintenance_dose=_optional_int(schedule.get("maintenance_dose")),
        ingredient=schedule.get("ingredient"),
        label_intervals=tuple(
            LabelInterval(
                revision=found["revision"], note=found.get("note"),
                valid_from=_optional_date(found.get("valid_from")),
                valid_to=_optional_date(found.get("valid_to")),
                wordings=tuple(IntervalWording(w["text"], int(w["min_days"]), _provenance(w))
                               for w in found["wordings"]))
            for found in schedule.get("label_intervals", ())),
        induction_steps=tuple(
            InductionStep(int(step["day"]), (int(step["window_days"][0]),
                                             int(step["window_days"][1])))
            for step in schedule.get("induction_steps", ())),
        label_revision=schedule.get("label_revision"),
    )


def _build_ndc(hcpcs: str, package: Mapping[str, Any]) -> Ndc:
    return Ndc(
        ndc=package["ndc"],
        hcpcs=hcpcs,
        package=package["package"],
        billable=package["billable"],
        product=package.get("product"),
        fda_ndc=package.get("fda_ndc"),
        container=package.get("container"),
        amount=_optional_decimal(package.get("amount")),
        volume_ml=_optional_decimal(package.get("volume_ml")),
        not_billable_reason=package.get("not_billable_reason"),
        preferred_ctp_unit=package.get("preferred_ctp_unit"),
        marketing_start=_optional_date(package.get("marketing_start")),
        marketing_end=_optional_date(package.get("marketing_end")),
        note=package.get("note"),
        provenance=_provenance(package),
    )


def _build_diagnosis(group: Mapping[str, Any], code: Mapping[str, Any]) -> DiagnosisCode:
    # A code inherits its group's review flag and note unless it sets its own.
    return DiagnosisCode(
        code=code["code"],
        group=group["label"],
        prefix=code.get("prefix", False),
        label=code.get("label"),
        valid_from=_optional_date(code.get("valid_from")),
        valid_to=_optional_date(code.get("valid_to")),
        review=code.get("review", group.get("review", False)),
        header=code.get("header", False),
        note=code.get("note", group.get("note")),
        provenance=_provenance(group),
    )


def _provenance(entry: Mapping[str, Any]) -> Provenance:
    return Provenance(source=entry["source"], confidence=entry["confidence"])


def _date(value: dt.date | str) -> dt.date:
    # The schema admits quoted ISO dates as well as TOML dates.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _optional_date(value: dt.date | str | None) -> dt.date | None:
    return None if value is None else _date(value)


def _decimal(value: int | float) -> Decimal:
    # str() first, so 0.9 stays 0.9 rather than its binary approximation.
    return Decimal(str(value))


def _optional_decimal(value: int | float | None) -> Decimal | None:
    return None if value is None else _decimal(value)


def _optional_int(value: int | float | None) -> int | None:
    return None if value is None else int(value)
