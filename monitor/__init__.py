"""regmonitor: watch US export-control changes and score them against your portfolio."""

__version__ = "0.1.0"
