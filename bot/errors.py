"""Every error the bot's edges raise on purpose, each with a one-line docstring."""

from __future__ import annotations


class BotError(Exception):
    """Base of the errors raised by the bot package."""


class ConfigError(BotError):
    """`config.yaml` or the environment holds a wrong key or value; the message is one line."""


class InputError(BotError):
    """Command-line input is wrong; the message names the field and what is expected."""
