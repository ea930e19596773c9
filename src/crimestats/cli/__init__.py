"""The ``crimestats`` command line: :mod:`~crimestats.cli.commands` (one function per command, each a thin
shell over the library), :mod:`~crimestats.cli.options` (shared option types, parsed at the edge) and
:mod:`~crimestats.cli.output` (tables, CSV, JSON and one-line errors)."""

from crimestats.cli.commands import app

__all__ = ["app"]
