"""assay: every production failure of an AI feature becomes tomorrow's regression test."""

__version__ = "0.1.0"

__all__ = ["__version__"]
