"""edi837: read X12 837P/837I claim files and check physician-administered drug lines."""

__version__ = "0.1.0"


class DataFileError(Exception):
    """A data file shipped inside the package is missing or unreadable: a broken install
    (the command line says so and exits 2)."""
