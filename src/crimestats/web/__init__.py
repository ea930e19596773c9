"""``crimestats serve``: a web dashboard and JSON/CSV API on the store (see :mod:`crimestats.web.app`)."""

from crimestats.web.app import create_app

__all__ = ["create_app"]
