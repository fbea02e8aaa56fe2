"""What every HTML page edi837 writes needs: escaped text, the Content-Security-Policy
hash of its inline style and script, and money for people.

The report (reports/html.py), the batch summary (batch/summary_html.py) and the work
queue page (queue/page.py) each carry their own style and script, allowed by hash.
"""
from __future__ import annotations

import base64
import hashlib
import html
from decimal import Decimal

from .figures import dollars


def escaped(value: object, *, keep_breaks: bool = False) -> str:
    """Escape for HTML text and attribute values; control characters made visible
    (``\\x1b``), line breaks and tabs kept when ``keep_breaks``; None as ""."""
    text = "" if value is None else str(value)
    if not text.isprintable():
        keep = "\n\t" if keep_breaks else ""
        text = "".join(c if c.isprintable() or c in keep else repr(c)[1:-1] for c in text)
    return html.escape(text, quote=True)


def csp_hash(source: str) -> str:
    """The CSP source expression allowing this inline style or script: 'sha256-...'."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def money_text(value) -> str:
    """$1,234.50 from a number the ledger stored (float or text); empty when unknown."""
    return dollars(Decimal(str(value))) if value is not None else ""
