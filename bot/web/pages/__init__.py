"""The website's pages: every module here has `setup(site)`, which adds its routes with the role
they need (`Site.get`, `Site.post`). They are found by name, in alphabetical order."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..app import Site


def _pages() -> dict[str, Callable[[Site], None]]:
    found: dict[str, Callable[[Site], None]] = {}
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
        found[module] = importlib.import_module(f"{__name__}.{module}").setup
    return found


PAGES = _pages()
