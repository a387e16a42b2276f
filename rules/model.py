"""The schema of an offer data file: every value with the sentence it comes from, or not stated."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from decimal import Decimal
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator, model_validator

from .errors import OfferFileError, UnknownProgramError
from .messages import Localized

OFFERS_DIR = Path(str(files("rules") / "offers"))  # package data: rules/offers/*.yaml of the install


SHORT_TITLE = 80  # characters of an offer's short title (buttons, headings, reminders)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NotStated(_Frozen):
    """The offer does not say; the bot says so and never invents a value."""

    not_stated: Literal[True]


class Text(_Frozen):
    """A text value: French as written in the offer, English translation, and the source sentence."""

    fr: str
    en: str
    source: str

    def localized(self) -> Localized:
        return Localized(self.fr, self.en)


class ShortText(Text):
    """A label for buttons and headings: one line that fits a button and a message's heading."""

    fr: str = Field(min_length=1, max_length=SHORT_TITLE, pattern=r"^[^\n]+$")
    en: str = Field(min_length=1, max_length=SHORT_TITLE, pattern=r"^[^\n]+$")


class Organization(_Frozen):
    name: Text
    acronym: Text
    about: list[Text] = Field(default_factory=list)


class Location(_Frozen):
    place: Text
    work_mode: Literal["on_site", "remote", "remote_or_on_site"] | None = None
    source: str


class Dates(_Frozen):
    start: date
    end: date
    source: str
    note: Text | None = None

    @model_validator(mode="after")
    def _start_before_end(self) -> Dates:
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self


class Stipend(_Frozen):
    minimum: Decimal = Field(ge=0)
    maximum: Decimal = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    source: str

    @model_validator(mode="after")
    def _minimum_within_maximum(self) -> Stipend:
        if self.minimum > self.maximum:
            raise ValueError(f"minimum {self.minimum} is above maximum {self.maximum}")
        return self


def _known_time_zone(name: str) -> bool:
    """An IANA zone of the tz database ("America/Toronto", "UTC"): an area and a place, not the
    machine's own (`localtime`), a POSIX rule (`EST5EDT`) or a file of the database (`Factory`)."""
    if name != "UTC" and ("/" not in name or name.startswith(("posix/", "right/", "Etc/"))):
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return name in _zones()


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


class Deadline(_Frozen):
    """The last day applications are taken; `time` (local, in `time_zone`) when the offer states
    one, else the whole day counts."""

    date: date
    time: time_of_day | None = None
    time_zone: str | None = None
    source: str

    @field_validator("time", mode="before")
    @classmethod
    def _written_time(cls, value: object) -> object:
        # YAML reads an unquoted 23:59 as the number 1439 (base 60): refused, not taken as seconds
        if isinstance(value, int | float):
            raise ValueError('expected a local time in quotes, e.g. "23:59"')
        return value

    @field_validator("time")
    @classmethod
    def _local_time(cls, value: time_of_day | None) -> time_of_day | None:
        if value is not None and value.tzinfo is not None:
            raise ValueError("expected a local time without offset; the zone goes in time_zone")
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str | None) -> str | None:
        if name is not None and not _known_time_zone(name):
            raise ValueError(f"unknown time zone {name!r}; expected an IANA name such as America/Toronto")
        return name


class ReminderSchedule(_Frozen):
    """When reminders of the deadline go out: so many days before it, at a local hour of the
    deadline's time zone. Not from the offer's text: the organizers' choice for this edition."""

    days_before: list[Annotated[StrictInt, Field(ge=1, le=365)]] = Field(min_length=1, max_length=10)
    hour: StrictInt = Field(ge=0, le=23)

    @field_validator("days_before")
    @classmethod
    def _distinct(cls, days: list[int]) -> list[int]:
        repeated = sorted({day for day in days if days.count(day) > 1})
        if repeated:
            raise ValueError(f"each day once; {', '.join(map(str, repeated))} given twice")
        return days


class Contact(_Frozen):
    name: Text
    unit: Text | None = None
    phone: str | None = None
    extension: str | None = None
    email: str | None = None
    source: str


class LanguageRequirement(_Frozen):
    language: Literal["fr", "en", "es"]
    level: Text
    blocking: bool
    source: str


class OutsideSource(_Frozen):
    """The organisation's own published rule that an offer's sentence condenses, quoted as written.

    An offer may shorten a standard rule (IOM's Rabat offer leaves out graduate students); the
    value read from the fuller text then carries that text too, so staff can check the reading.
    """

    publisher: str
    title: str
    url: str = Field(pattern=r"^https://")
    quote: str


class CriterionSpec(_Frozen):
    """One criterion of an offer: a kind of the vocabulary with its parameters and its source."""

    id: str
    kind: str
    params: dict[str, Any] = Field(default_factory=dict)
    source: str
    also_stated_in: list[OutsideSource] = Field(default_factory=list)


class Program(_Frozen):
    """An offer, loaded from its data file."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    source_file: str
    programme: Text
    reference: Text | NotStated
    title: Text
    short_title: ShortText  # for buttons and headings
    organization: Organization
    field: Text | NotStated
    location: Location | NotStated
    dates: Dates | NotStated
    stipend: Stipend | NotStated
    deadline: Deadline | NotStated
    contacts: list[Contact] | NotStated
    duties: list[Text] | NotStated
    required_skills: list[Text] | NotStated
    languages: list[LanguageRequirement] | NotStated
    assets: list[Text] | NotStated
    covid: Text | NotStated
    renewal: Text | NotStated
    how_to_apply: Text | NotStated
    criteria: list[CriterionSpec]
    asset_criteria: list[CriterionSpec] = Field(default_factory=list)
    reminders: ReminderSchedule | None = None  # None: the defaults of config.yaml

    @property
    def start_date(self) -> date | None:
        return None if isinstance(self.dates, NotStated) else self.dates.start

    @property
    def deadline_date(self) -> date | None:
        return None if isinstance(self.deadline, NotStated) else self.deadline.date

    def offer_open(self, today: date) -> bool:
        """Whether applications are still taken on `today`: the deadline day itself is open.

        An offer that states no deadline is reported open: nothing in it says it closed.
        """
        deadline = self.deadline_date
        return deadline is None or today <= deadline

    def deadline_at(self, default_zone: str) -> datetime | None:
        """The moment applications close, in UTC: the stated time on the deadline day, else the end
        of that day (midnight after it), in the deadline's zone or else `default_zone`."""
        if isinstance(self.deadline, NotStated):
            return None
        zone = ZoneInfo(self.deadline.time_zone or default_zone)
        if self.deadline.time is not None:
            local = datetime.combine(self.deadline.date, self.deadline.time, tzinfo=zone)
        else:
            local = datetime.combine(self.deadline.date + timedelta(days=1), time_of_day(0), tzinfo=zone)
        return local.astimezone(UTC)


def _describe(error: ValidationError) -> str:
    """The first problem as `key.path: what is wrong`, the file's own keys only: pydantic's tags
    for the member of a union (`Deadline`, `function-after[...]`) are not keys of the file."""
    first = error.errors()[0]
    keys = [str(part) for part in first["loc"] if isinstance(part, int) or not (part[:1].isupper() or "[" in part)]
    return f"{'.'.join(keys) or '(file)'}: {first['msg'].removeprefix('Value error, ')}"


def parse_program(raw: object, name: str) -> Program:
    """An offer's data (a file's parsed YAML, a stored edition), validated with its criteria;
    wrong data stops with one line naming `name` and the key."""
    try:
        program = Program.model_validate(raw)
    except ValidationError as error:
        raise OfferFileError(f"{name}: {_describe(error)}") from None
    from .criteria import compile_criteria  # local: criteria imports this module's types

    try:
        compile_criteria(program)  # refuses unknown kinds and bad parameters now, not at a question
    except OfferFileError as error:
        raise OfferFileError(f"{name}: {error}") from None
    return program


def load_program(path: Path) -> Program:
    """One offer file, validated; a wrong file stops with one line naming the key."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise OfferFileError(f"{path.name}: cannot read: {error}") from None
    program = parse_program(raw, path.name)
    if path.stem != program.id:
        raise OfferFileError(f"{path.name}: id {program.id!r} must match the file name")
    return program


def load_programs(directory: Path = OFFERS_DIR) -> dict[str, Program]:
    """Every offer of the directory by id, in file-name order."""
    programs: dict[str, Program] = {}
    for path in sorted(directory.glob("*.yaml")):
        program = load_program(path)
        programs[program.id] = program
    if not programs:
        raise OfferFileError(f"{directory}: no offer file (*.yaml)")
    return programs


def select_programs(programs: dict[str, Program], ids: list[str] | None) -> list[Program]:
    """The programs named by `ids` (all when None); an unknown id raises `UnknownProgramError`."""
    if not ids:
        return list(programs.values())
    missing = [pid for pid in ids if pid not in programs]
    if missing:
        raise UnknownProgramError(missing[0], list(programs))
    return [programs[pid] for pid in ids]
