"""edi837: read X12 837P/837I claim files and check physician-administered drug lines."""

from types import ModuleType

__version__ = "0.1.0"


class DataFileError(Exception):
    """A data file shipped inside the package is missing or unreadable: a broken install
    (the command line says so and exits 2)."""


# The Python API (edi837.api), imported on first use so `import edi837` stays cheap:
# edi837.check(...), edi837.extract(...), edi837.fix(...), edi837.iter_findings(...).
_API = ("CheckResult", "DrugLine", "Edi837Error", "Extraction", "FixRun", "InputError",
        "OptionsError", "StoreLostError", "check", "extract", "fix", "iter_findings", "iter_fix")
__all__ = ["DataFileError", "__version__", *_API]


class _CallableModule(ModuleType):
    """edi837.extract and edi837.fix are modules of the library and the API's functions
    of those names at once: calling the module calls edi837.api's function."""

    def __call__(self, *args, **kwargs):
        from . import api

        return getattr(api, self.__name__.rpartition(".")[2])(*args, **kwargs)

    @property
    def __signature__(self):
        """The API function's (inspect.signature, an IDE's help), not ``*args, **kwargs``."""
        import inspect

        from . import api

        return inspect.signature(getattr(api, self.__name__.rpartition(".")[2]))


def __getattr__(name: str):
    if name in ("extract", "fix"):  # the module, callable (set as an attribute on import)
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
