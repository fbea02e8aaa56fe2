"""One run's acknowledgments: each input file's 999 and 277CA written into a folder.

What `edi837 ack`, `check --ack277 DIR` and `fix --split --ack277 DIR` share, as a
library: nothing here prints or exits.  A problem with one file is handed to
``on_problem`` (one line naming the file) and makes :attr:`Acknowledger.status` 2;
a problem that stops the run (the folder or the counter unusable, pyx12 missing,
a 999 that cannot be written) raises :class:`AckRunError`.

Which transaction sets the 999 accepts comes from a 999 itself: the one written
now with pyx12 (``<stem>.999`` beside the 277CA), or, with ``read_999``, the one
`edi837 validate --ack DIR` already wrote.  The 277CA answers only those sets.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable, Collection

# The command line's exit statuses, which :attr:`Acknowledger.status` follows.
ACCEPTED, REJECTED, TROUBLE = 0, 1, 2


class AckRunError(Exception):
    """The run's acknowledgments cannot go on (nothing more is written)."""


def _ignore(message: str) -> None:
    pass


class Acknowledger:
    """Writes the 999 and 277CA of one run's files into ``out_dir``.

    ``identity``: the [acknowledgments] settings (edi837.config); ``read_999``: a
    folder of 999s to read instead of validating now; ``force``: replace existing
    acknowledgments; ``on_problem``: called with each file's problem."""

    def __init__(self, out_dir: Path, identity, *, read_999: Path | None = None,
                 force: bool = False, on_problem: Callable[[str], None] = _ignore) -> None:
        from . import ControlNumbers

        self.out_dir, self.identity, self.force = Path(out_dir), identity, force
        self.read_999 = read_999
        self.numbers = ControlNumbers(identity.control_numbers)
        self.on_problem = on_problem
        self.status = ACCEPTED
        self._ready = False
        self._taken: dict[Path, Path] = {}  # every output -> the input it is written for
        self._engine: tuple | None = None  # (table, config, Engine) of the run's files

    def trouble(self, message: str) -> None:
        """A file gets no acknowledgment: said, and the run's status is 2."""
        self.on_problem(message)
        self.status = TROUBLE

    def _prepare(self) -> None:
        """The folder and the counter, checked before anything is written."""
        from ..validate import Pyx12Missing, require_pyx12
        from . import ControlNumberError

        if self._ready:
            return
        try:
            if self.read_999 is None:
                require_pyx12()
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self.numbers.last()  # a broken counter stops the run before anything is written
        except (OSError, ControlNumberError, Pyx12Missing) as exc:
            raise AckRunError(f"acknowledgments: {getattr(exc, 'strerror', None) or exc}") \
                from None
        self._ready = True

    def _free(self, path: Path) -> bool:
        """Whether ``path``'s outputs are its own: not another input's of this run, and
        not already there (unless ``force``)."""
        from ..validate import ack_path as path_999
        from .ack277 import ack_path

        targets = [ack_path(path, self.out_dir)]
        if self.read_999 is None:
            targets.append(path_999(path, self.out_dir))
        clash = next((t for t in targets if t in self._taken), None)
        if clash is not None:
            self.trouble(f"{path}: no acknowledgments: {clash} is already written for "
                         f"{self._taken[clash]}")
            return False
        existing = [t for t in targets if t.exists()]
        if existing and not self.force:
            self.trouble(f"{path}: no acknowledgments: {existing[0]} exists "
                         "(use --force to overwrite)")
            return False
        self._taken.update((t, path) for t in targets)
        return True

    def start(self, paths: list[Path], jobs: int = 1) -> list[Path]:
        """Check the folder and the counter, refuse inputs whose outputs exist or
        collide, and write the 999s of the rest (unless ``read_999``).  Returns the
        inputs that may be acknowledged; raises :class:`AckRunError`."""
        from ..validate import validate_paths
        from . import ControlNumberError

        self._prepare()
        kept = [path for path in paths if self._free(path)]
        if self.read_999 is None and kept:
            try:
                validate_paths(kept, jobs=jobs, ack_dir=self.out_dir,
                               control_numbers=self.numbers)
            except ControlNumberError as exc:
                raise AckRunError(f"{exc}; the run was stopped") from None
            except OSError as exc:  # disk full: no 999 is put in place half written
                raise AckRunError(f"acknowledgments: cannot write a 999 in {self.out_dir}: "
                                  f"{exc.strerror or exc}; the run was stopped") from None
        return kept

    def acknowledge(self, path: Path, findings: Collection):
        """Write ``path``'s 277CA from its findings (file order) and the 999 `start`
        wrote or ``read_999`` holds.  Returns the :class:`~.ack277.Ack277Result`
        (None when the file got none: said to ``on_problem``)."""
        from ..validate import ack_path as path_999
        from .ack277 import Ack277Error, write_acknowledgments

        try:
            result = write_acknowledgments(
                path, findings, self.out_dir, identity=self.identity,
                control_numbers=self.numbers, force=self.force,
                read_999=path_999(path, self.read_999 or self.out_dir))
        except Ack277Error as exc:
            self.trouble(str(exc))
            return None
        except OSError as exc:  # disk full: the 277CA is not put in place half written
            self.trouble(f"{path}: cannot write its 277CA in {self.out_dir}: "
                         f"{exc.strerror or exc}")
            return None
        for note in result.skipped:
            self.on_problem(f"{path}: {note}")
        if result.unmatched:  # the 999 is another file's: as with no 999 (README)
            self.status = TROUBLE
        elif result.skipped or result.rejected:
            self.status = max(self.status, REJECTED)
        return result

    def _run_engine(self, table, config):
        """One engine for the run's files, so each is judged against those before it
        (a claim sent in two files of one run is a duplicate, as `check` finds it)."""
        made = self._engine
        if made is None or made[0] is not table or made[1] is not config:
            from ..engine import Engine

            made = self._engine = (table, config, Engine(table, config))
        return made[2]

    def rejected_by_999(self, path: Path) -> set[int]:
        """The CLM indices of ``path``'s claims in sets its 999 does not accept (none
        when there is no readable 999: :meth:`acknowledge` says so)."""
        from ..validate import ack_path as path_999
        from .ack277 import not_accepted_claims
        from .ack999 import Acceptance, AckReadError

        try:
            acceptance = Acceptance.from_999(path_999(path, self.read_999 or self.out_dir))
        except AckReadError:
            return set()
        return not_accepted_claims(path, acceptance)

    def split_by_999(self, path: Path) -> tuple:
        """For the split of ``path``: (an :class:`edi837.fix.rejected.RejectedSets`
        holding every claim of a set its 999 does not accept, the CLM indices of those
        claims), from the 999 read now; (None, set()) when it has none."""
        from ..fix.rejected import RejectedSets
        from ..validate import ack_path as path_999
        from .ack999 import Acceptance, AckReadError

        try:
            acceptance = Acceptance.from_999(path_999(path, self.read_999 or self.out_dir))
        except AckReadError:  # no 999 (its validation failed): :meth:`acknowledge` says so
            return None, set()
        return RejectedSets(acceptance), self.rejected_by_999(path)

    def acknowledge_as_split(self, path: Path, table, config, select: tuple[str, ...] = (),
                             ignore: tuple[str, ...] = ()):
        """`edi837 ack`: ``path``'s 277CA accepts and rejects claims exactly as `fix
        --split` forwards and holds them (after the safe fixes of ``select``/``ignore``,
        by the errors that remain): a run of its own into a folder thrown away after.
        The claims of a transaction set the 999 rejects (the submitter sends them
        again) do not enter the run's history, nor do those the 277CA rejects.
        Returns the result, or None when the file got no 277CA."""
        from ..fix import fix_file

        with tempfile.TemporaryDirectory(dir=self.out_dir, prefix=".ack277-") as work:
            try:
                held_sets, not_forwarded = self.split_by_999(path)
                fixed = fix_file(path, work, table=table, config=config, select=select,
                                 ignore=ignore, split=True,
                                 engine=self._run_engine(table, config),
                                 not_forwarded=not_forwarded, held_sets=held_sets)
            except Exception as exc:  # one file's failure never stops the others
                self.trouble(f"{path}: no 277CA: fix failed: {type(exc).__name__}: {exc} "
                             "(a bug in edi837, please report it)")
                return None
            if fixed.exit_status == TROUBLE:
                why = "; ".join(fixed.problems) or fixed.status
                self.trouble(f"{path}: no 277CA: `fix --split` would not split it: {why}")
                return None
            return self.acknowledge(path, fixed.remaining)
