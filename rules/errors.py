"""Every error the rules raise, each with a one-line docstring."""

from __future__ import annotations


class RulesError(Exception):
    """Base of every error raised by the rules package."""


class FactError(RulesError, ValueError):
    """A fact is unknown, of the wrong type or impossible; names the fact and what is expected."""

    def __init__(self, field: str, expected: str) -> None:
        super().__init__(f"{field}: {expected}")
        self.field = field
        self.expected = expected


class OfferFileError(RulesError):
    """An offer data file is missing, unreadable or does not match the offer schema."""


class UnknownProgramError(RulesError, KeyError):
    """No offer has the requested program id."""

    def __init__(self, program_id: str, known: list[str]) -> None:
        super().__init__(program_id)
        self.program_id = program_id
        self.known = known

    def __str__(self) -> str:
        return f"program: unknown id {self.program_id!r}; expected one of {', '.join(self.known)}"
