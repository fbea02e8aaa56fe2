"""Payer policy: judge each claim by the rules of who pays, where, and when.

A claim's *payer class* comes from its SBR09 claim filing indicator (MA/MB
Medicare fee-for-service, 16 Medicare Advantage, MC Medicaid, CI/BL/HM/12-15/17
commercial or managed care, anything else "other"), refined by a payer-id list;
its *setting* from CLM05-1 (837I type of bill, 837P place of service); and each
line's date of service picks the requirement in force.  The policies are data
(``policies.toml``, described by ``policy.schema.json``), every requirement
with its source and confidence.  Users layer their own on top with
edi837.toml ``[[profiles]]``.  Precedence: user profile > shipped payer-id list
> shipped payer class > the "other" policy.

Rules ask the claim's :class:`ClaimPolicy` (``ctx.policy``); none tests a payer
id or a filing indicator itself.
"""
from .book import (
                   PolicyBook,
                   PolicyError,
                   PolicyResolver,
                   load_schema,
                   payer_class,
                   shipped_data,
                   shipped_policies,
)
from .model import ERROR, NONE, PAYER_CLASSES, WARNING, ClaimPolicy, Policy, Requirement, setting_of

__all__ = ["ClaimPolicy", "ERROR", "NONE", "PAYER_CLASSES", "Policy", "PolicyBook",
           "PolicyError", "PolicyResolver", "Requirement", "WARNING", "load_schema",
           "payer_class", "setting_of", "shipped_data", "shipped_policies"]
