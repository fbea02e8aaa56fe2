"""The patient history's key in worker processes: given once per process, never
inside a task (issue 26).

Tasks carry only the key's fingerprint (``history.identity.fingerprint``, which
cannot be turned back into the key); a worker looks the key up here.  It gets
there once per process: the driver itself (``install``), forked or started
local workers (their initializer), a Dask worker through the
:class:`~.key_plugin.HistoryKey` plugin the driver registers once per client, and
the driver host's isolated re-check child (``isolated``) through its stdin.
"""
from __future__ import annotations

_keys: dict[str, bytes] = {}  # fingerprint -> key, in this process


class KeyMissing(RuntimeError):
    """A task names a key this process was never given."""


def install(key: bytes) -> str:
    """Keep ``key`` in this process; its fingerprint, for the tasks' settings."""
    from ..history.identity import fingerprint

    name = fingerprint(key)
    _keys[name] = key
    return name


def installed() -> dict[str, bytes]:
    """The keys of this process (a local worker's initializer gets them)."""
    return dict(_keys)


def install_all(keys: dict[str, bytes]) -> None:
    _keys.update(keys)


def key_for(name: str) -> bytes:
    try:
        return _keys[name]
    except KeyError:
        raise KeyMissing(f"this worker was not given the patient history's key {name} "
                         "(edi837's worker plugin did not run here)") from None
