"""The one exception tree of crimestats.

    CrimestatsError                 anything crimestats reports to a user
    ├── SourceError                 a file could not be read or understood (names file, sheet, row, column)
    │   └── UnrecognisedFileError   a file is not one of the official file families crimestats reads
    ├── UnknownAreaError            a force, region or area name or code is not in the reference data
    ├── UnknownOffenceError         an offence name, slug or code is not in the offence classification
    ├── PeriodError                 a period is not a quarter end written like ``2019-09``
    ├── NoDataError                 the store holds no figures for what was asked
    ├── StoreError                  the store could not be opened or written (a full disk, a read-only file system)
    ├── EngineError                 an unknown engine, or one that cannot run here (Spark without pyspark or Java)
    └── DownloadError               an official file could not be downloaded, or what arrived is not that file
        └── DiscoveryFormatError    a publisher's release listing does not have its documented shape

The CLI turns each into one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

__all__ = [
    "CrimestatsError",
    "DiscoveryFormatError",
    "DownloadError",
    "EngineError",
    "NoDataError",
    "PeriodError",
    "SourceError",
    "StoreError",
    "UnknownAreaError",
    "UnknownOffenceError",
    "UnrecognisedFileError",
]


class CrimestatsError(Exception):
    """Anything crimestats reports to a user as a one-line message."""


class SourceError(CrimestatsError):
    """A file could not be read or understood; the message names file, sheet, row and column."""

    def __init__(
        self,
        message: str,
        *,
        file: str,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file, self.sheet, self.row, self.column = file, sheet, row, column
        where = [file]
        if sheet is not None:
            where.append(f"sheet '{sheet}'")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column}")
        super().__init__(f"{', '.join(where)}: {message}")


class UnrecognisedFileError(SourceError):
    """A file is not one of the official file families that crimestats reads."""


class UnknownAreaError(CrimestatsError):
    """A force, region or area name or code is not in the reference data."""


class UnknownOffenceError(CrimestatsError):
    """An offence name, slug or code is not in the offence classification."""


class PeriodError(CrimestatsError):
    """A period is not a quarter end written like 2019-09."""


class NoDataError(CrimestatsError):
    """The store holds no figures for what was asked."""


class StoreError(CrimestatsError):
    """The store could not be opened or written (a full disk, a read-only file system); it is left as it was."""


class EngineError(CrimestatsError):
    """An unknown engine, or one that cannot run here (Spark without pyspark or Java, or its cluster unreachable)."""


class DownloadError(CrimestatsError):
    """A file or discovery response could not be downloaded, or what arrived is not what was expected."""


class DiscoveryFormatError(DownloadError):
    """A discovery response does not have the shape the publisher's API is documented to return."""
