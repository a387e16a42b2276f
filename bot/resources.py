"""The files shipped with the bot: gettext catalogs, Alembic migrations, default settings, offers.

An installed wheel carries them as package data, found through `importlib.resources`:
`bot/locales/`, `bot/migrations/` and `bot/config.yaml` (pyproject.toml maps the repository's
top-level `locales/`, `migrations/` and `config.yaml` there), and `rules/offers/`. In a source
tree (the editable install that `make` does, or `python -m bot` run from the repository) the
first three sit at the top of the repository, beside the `bot` package, and are read there.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from rules.model import OFFERS_DIR

__all__ = ["default_config", "locales_dir", "migrations_dir", "offers_dir"]


def _on_disk(resource: Traversable) -> Path:
    """A resource as a path: Alembic, SQLite and glob need real files, so a zipped install is refused."""
    if not isinstance(resource, Path):
        raise RuntimeError(f"{resource}: stagebot must be installed as files, not imported from a zip archive")
    return resource


def _shipped(name: str) -> Path:
    """`bot/<name>` in an installed wheel; else `<name>` beside the `bot` package of a source tree."""
    package = _on_disk(files("bot"))
    packaged = package / name
    if packaged.exists():
        return packaged
    source_tree = package.parent / name
    return source_tree if source_tree.exists() else packaged  # missing: reported under the wheel's name


def locales_dir() -> Path:
    """The gettext catalogs, `<lang>/LC_MESSAGES/messages.po`."""
    return _shipped("locales")


def migrations_dir() -> Path:
    """The Alembic script directory: `env.py`, `script.py.mako` and `versions/`."""
    return _shipped("migrations")


def default_config() -> Path:
    """The settings read when neither a path nor `STAGEBOT_CONFIG` names a file."""
    return _shipped("config.yaml")


def offers_dir() -> Path:
    """The offers shipped with the rules package, `rules/offers/*.yaml`."""
    return OFFERS_DIR
