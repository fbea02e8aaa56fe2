"""The reference data's one exception, apart: `check` reads no CMS file, and imports no parser."""
from __future__ import annotations


class RefDataError(ValueError):
    """A reference file could not be imported, or the store could not be read.

    ``str(error)`` starts with the file's name:
    ``mue.csv: line 12: MUE value 'x' is not a whole number``.
    """

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem
        super().__init__(f"{name}: {problem}")
