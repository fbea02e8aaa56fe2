"""edi837: read X12 837P/837I claim files and check physician-administered drug lines."""

__version__ = "0.1.0"
