"""The datatrove pipeline that regenerates MIXTURE and distills real instruction pools."""

__version__ = "0.1.0"
