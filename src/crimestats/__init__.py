"""crimestats: police recorded crime statistics for England and Wales, from the official files."""

from crimestats.errors import CrimestatsError
from crimestats.store import Store

__all__ = ["CrimestatsError", "Store"]
__version__ = "0.1.0"
