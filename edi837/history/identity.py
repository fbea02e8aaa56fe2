"""Who a drug line was given to, without keeping who they are.

In 5010 a dependent patient (2010CA) has no member id of its own, so a patient
is the payer (2010BB NM109), the subscriber's member id (2010BA NM109), the
patient's birth date (2010BA DMG02 when SBR02 is 18, else 2010CA DMG02) and
first name (so twins under one subscriber stay apart).  The history keeps only
an HMAC-SHA-256 of those fields under a secret key: without the key, the
stored value cannot be matched against a list of members.  A member whose
id or payer changes starts a new history.

Medicare fee-for-service (SBR09 MA or MB) is the exception: the patient is
the Medicare Beneficiary Identifier (the subscriber's member id) alone.  A
hospital's 837I goes to the Part A MAC and a physician's 837P to the Part B
MAC, under different payer ids, and the MBI is what ties them to one
beneficiary (billing-rules.md §9.7); the birth date and first name add
nothing to it.  Only when the patient is the subscriber: a claim with a
2010CA patient loop keeps the full key (an MBI is nobody's dependant).  That
key is hashed in its own domain (a prefix no other key can have), so it never
meets a commercial member's.

IDENTITY_VERSION says which identity a store's keys follow.  Version 2 (the
MBI key) changed the keys of Medicare FFS members only: the lines a version-1
store holds for them stay under their old keys, so each such member's
history starts again once (HIS003 on the next dose, no HIS002 against older
doses) unless the store is seeded again from past files (README, "Patient
history").  Every other member's key is unchanged.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_BYTES = 32
KEY_NAME = "history.key"
_FINGERPRINT_LABEL = b"edi837 history key fingerprint"
_SEPARATOR = "\x1f"  # X12 never carries a unit separator inside an element
IDENTITY_VERSION = 2  # 2: Medicare FFS members keyed by MBI alone
_MEDICARE_DOMAIN = "MEDICARE-FFS" + _SEPARATOR * 2  # no payer id holds a unit separator
# SBR09 claim filing indicators of Medicare fee-for-service: MA Part A, MB Part B
# (billing-rules.md §9.1; 16 is Medicare Advantage, a plan with its own members)
MEDICARE_FFS = "medicare-ffs"  # edi837.policy's payer class
_CACHED = 4096  # answers kept: a file has few payers, many claims
_ffs: dict[tuple[str, str], bool] = {}


def is_medicare_ffs(filing_indicator: str, payer_id: str = "") -> bool:
    """Whether a claim is Medicare fee-for-service (Part A or B): the payer class of the
    shipped policies (edi837.policy: SBR09 MA/MB, refined by the shipped payer-id list).
    A user's profile does not change it: the patient key must not change with a
    configuration (and the answer, asked once a claim, is kept per pair)."""
    found = _ffs.get((filing_indicator, payer_id))
    if found is None:
        from ..policy import payer_class

        if len(_ffs) >= _CACHED:
            _ffs.clear()
        found = _ffs[filing_indicator, payer_id] = \
            payer_class(filing_indicator, payer_id) == MEDICARE_FFS
    return found


class HistoryKeyError(Exception):
    """The history key cannot be read, created, or is not the store's key."""


def data_home() -> Path:
    """The per-user data folder: $XDG_DATA_HOME/edi837 (~/.local/share/edi837)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "edi837"


def default_key_path() -> Path:
    return data_home() / KEY_NAME


def load_key(path: str | Path | None = None, *, create: bool = True) -> bytes:
    """The secret key in ``path`` (default: the per-user key).  Only the default key
    is created on first use (mode 0600): a key file named that does not exist is
    refused (a mistyped --history-key would start a history no other run can read).
    A key file readable by others is refused."""
    path = Path(path) if path is not None else default_key_path()
    try:
        with open(path, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            text = handle.read(4 * KEY_BYTES).strip()
    except FileNotFoundError:
        if not create:
            raise HistoryKeyError(f"{path}: no history key there") from None
        if os.path.abspath(path) != os.path.abspath(default_key_path()):
            raise HistoryKeyError(
                f"no such key file {path} (--history-key; to make a new key: (umask 077; "
                f"python3 -c 'import secrets; print(secrets.token_hex({KEY_BYTES}))' > {path}), "
                "or leave --history-key out to use the default key "
                f"{default_key_path()})") from None
        return _create_key(path)
    except OSError as exc:
        raise HistoryKeyError(f"{path}: cannot read the history key: "
                              f"{exc.strerror or exc}") from None
    if mode & 0o077:
        raise HistoryKeyError(f"{path}: the history key is readable by other users "
                              f"(mode {mode & 0o777:o}); chmod 600 it")
    try:
        key = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) < 16:
        raise HistoryKeyError(f"{path}: not an edi837 history key (expected {2 * KEY_BYTES} "
                              "hexadecimal digits)")
    return key


def _create_key(path: Path) -> bytes:
    key = secrets.token_bytes(KEY_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two first runs at once must not each write a key of their own
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_key(path, create=False)
    except OSError as exc:  # a read-only home, or systemd's ProtectSystem=strict
        raise HistoryKeyError(
            f"cannot create the default history key {path}: {exc.strerror or exc} "
            f"({exc.filename or path}); give a key file with --history-key FILE (a "
            "service: one its user can read, in a folder it can write if it is to be "
            "made there), or create this one first") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return key


def fingerprint(key: bytes) -> str:
    """What the store records of its key: enough to refuse another key, nothing to
    recover it."""
    return hmac.new(key, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:16]


class PatientKeys:
    """Keyed hashes of patients (16 bytes each): HMAC-SHA-256 (RFC 2104), its key's
    inner and outer pads hashed once (a claim then costs two SHA-256 blocks, not the
    four of a one-shot HMAC that hashes the pads again)."""

    __slots__ = ("_key", "_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        self._key = key
        block = hashlib.sha256(key).digest() if len(key) > 64 else key
        block = block.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    @property
    def key(self) -> bytes:
        """The key, for worker processes that hash patients for this store."""
        return self._key

    def _digest(self, text: str) -> bytes:
        """HMAC-SHA-256 of ``text`` under the key, its first 16 bytes (the same bytes
        as ``hmac.digest(key, text, "sha256")[:16]``)."""
        inner = self._inner.copy()
        inner.update(text.encode("latin-1", "replace"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()[:16]

    def __call__(self, payer_id: str, member_id: str, birth_date: str, first_name: str) -> bytes:
        return self._digest(_SEPARATOR.join((payer_id.strip().upper(),
                                             member_id.strip().upper(), birth_date.strip(),
                                             first_name.strip().upper())))

    def medicare(self, mbi: str) -> bytes:
        """A Medicare FFS beneficiary: the MBI alone, whichever MAC was billed."""
        return self._digest(_MEDICARE_DOMAIN + mbi.strip().upper())

    def of_claim(self, claim) -> bytes:
        """The patient of a claim (edi837.model.Claim)."""
        subscriber = claim.subscriber
        member_id = subscriber.member_id if subscriber else claim.subscriber_id
        person = claim.patient_person
        # (a key is not kept for the patient's next claim: a night bills a member once
        # or twice, and keeping them cost more than it saved on the dense file)
        if person is subscriber and member_id.strip() and \
                is_medicare_ffs(claim.filing_indicator, claim.payer_id):
            return self.medicare(member_id)  # the beneficiary (not a 2010CA dependant)
        if person is None:
            return self._digest(_SEPARATOR.join((claim.payer_id.strip().upper(),
                                                 member_id.strip().upper(), "", "")))
        return self._digest(_SEPARATOR.join((claim.payer_id.strip().upper(),
                                             member_id.strip().upper(),
                                             person.birth_date.strip(),
                                             person.first_name.strip().upper())))
