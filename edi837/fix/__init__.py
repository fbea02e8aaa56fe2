"""Corrected EDI: apply the safe fixes the findings carry, re-check, split accepted/held.

`edi837 fix` is `edi837 check` plus a writer, as `sqlfluff fix` is `sqlfluff
lint` plus its fixes: the engine finds the problems, a finding whose rule the
catalog marks `safe` carries a :class:`~edi837.findings.Fix` (element edits),
and this package applies those edits with the byte-preserving writer, so no
rule has a second implementation here.  Then it runs the same engine on its
own output: every fixed finding must be gone and nothing new may appear.

The parts, in the order the data flows:

* :mod:`.plan` - findings -> edits: the safe fixes to apply, conflicts left
  out, and afterwards what became of each (:class:`Change`);
* :mod:`.apply` - edits -> segments: the file copied byte for byte with the
  edits applied, or a diff of them for a dry run;
* :mod:`.route` - the decision "is this claim accepted or held, and why",
  claim by claim (:func:`route_claims`), for the split and for anything else
  that reports per claim;
* :mod:`.split` - the accepted and held files, each a complete interchange;
* :mod:`.reports` - the change log and the held-claims report;
* :mod:`.run` - one file end to end (:func:`fix_file`): check, write,
  re-check, read every output back, split;
* :mod:`.spill` - the ordered list that keeps changes and held claims
  bounded in memory (:class:`SpillList`), so `fix --split` streams like `check`.
"""
from .apply import SegmentDiff
from .plan import APPLIED, SKIPPED, Change, FixPlan
from .route import ClaimWalk, RoutedClaim, SplitError, route_claims
from .run import (
                  DRY_RUN,
                  EXISTS,
                  FAILED,
                  UNREADABLE,
                  WRITTEN,
                  FixResult,
                  Targets,
                  fix_file,
                  recheck_problems,
)
from .spill import SpillList
from .split import SplitResult, split_claims

__all__ = ["APPLIED", "DRY_RUN", "EXISTS", "FAILED", "SKIPPED", "UNREADABLE", "WRITTEN",
           "Change", "ClaimWalk", "FixPlan", "FixResult", "RoutedClaim", "SegmentDiff",
           "SpillList", "SplitError", "SplitResult", "Targets", "fix_file",
           "recheck_problems", "route_claims", "split_claims"]


# `edi837.fix(...)` calls edi837.api.fix: this module is callable (edi837/__init__.py)
import sys as _sys

from .. import _CallableModule

_sys.modules[__name__].__class__ = _CallableModule
