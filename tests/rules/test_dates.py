"""Exact dates, checked against an independent computation (dateutil's relativedelta)."""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from rules import age_on, evaluate, load_programs, parse_facts, shift_months

DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
PROGRAMS = load_programs()


def _leap_day_before_anniversary(birth: date, on: date) -> bool:
    """28 February of a common year for someone born on 29 February: the one day conventions differ."""
    return (birth.month, birth.day) == (2, 29) and (on.month, on.day) == (2, 28)


@given(DATES, DATES)
def test_age_on_matches_relativedelta(birth: date, on: date) -> None:
    if on < birth:
        return
    expected = relativedelta(on, birth).years
    if _leap_day_before_anniversary(birth, on):
        # relativedelta counts the birthday on 28 February; we count it on 1 March.
        assert age_on(birth, on) == expected - 1
    else:
        assert age_on(birth, on) == expected


def test_leap_day_birthday() -> None:
    born = date(2004, 2, 29)
    assert age_on(born, date(2024, 2, 28)) == 19
    assert age_on(born, date(2024, 2, 29)) == 20
    assert age_on(born, date(2025, 2, 28)) == 20
    assert age_on(born, date(2025, 3, 1)) == 21


@given(DATES, st.integers(min_value=-240, max_value=240))
def test_shift_months_matches_relativedelta(day: date, months: int) -> None:
    assert shift_months(day, months) == day + relativedelta(months=months)


@given(
    st.dates(min_value=date(1950, 1, 1), max_value=date(2010, 12, 31)),
    st.dates(min_value=date(2015, 1, 1), max_value=date(2040, 12, 31)),
)
def test_iom_age_criterion_is_20_to_36_on_the_day_of_the_check(birth: date, today: date) -> None:
    result = evaluate(parse_facts({"birth_date": birth.isoformat()}), PROGRAMS["iom-internship-rabat"], today)
    age = relativedelta(today, birth).years - (1 if _leap_day_before_anniversary(birth, today) else 0)
    outcome = {c.id: c.result.value for c in result.criteria}["age"]
    assert outcome == ("met" if 20 <= age <= 36 else "not_met")


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2010, 12, 31)))
def test_quebec_age_criterion_is_18_to_35_on_the_start_date(birth: date) -> None:
    start = date(2022, 3, 7)
    result = evaluate(
        parse_facts({"birth_date": birth.isoformat()}), PROGRAMS["quebec-psoig-2021-023"], date(2021, 9, 1)
    )
    outcome = {c.id: c.result.value for c in result.criteria}["age"]
    assert outcome == ("met" if 18 <= relativedelta(start, birth).years <= 35 else "not_met")


@given(
    st.dates(min_value=date(2018, 1, 1), max_value=date(2023, 12, 31)),
    st.dates(min_value=date(2019, 1, 1), max_value=date(2023, 12, 31)),
)
def test_iom_graduation_window_is_the_last_12_months(graduated: date, today: date) -> None:
    facts = parse_facts(
        {"education": "graduated", "highest_degree": "bachelor", "graduation_date": graduated.isoformat()}
    )
    result = evaluate(facts, PROGRAMS["iom-internship-rabat"], today)
    outcome = {c.id: c.result.value for c in result.criteria}["education"]
    assert outcome == ("met" if today - relativedelta(months=12) <= graduated <= today else "not_met")


@given(st.dates(min_value=date(2018, 1, 1), max_value=date(2022, 12, 31)))
def test_quebec_graduation_window_is_the_two_years_before_the_start(graduated: date) -> None:
    start = date(2022, 3, 7)
    facts = parse_facts(
        {"education": "graduated", "highest_degree": "master", "graduation_date": graduated.isoformat()}
    )
    result = evaluate(facts, PROGRAMS["quebec-psoig-2021-023"], date(2021, 9, 1))
    outcome = {c.id: c.result.value for c in result.criteria}["education"]
    in_window = start - relativedelta(years=2) <= graduated <= start - timedelta(days=1)
    assert outcome == ("met" if in_window else "not_met")


@given(
    st.dates(min_value=date(2015, 1, 1), max_value=date(2023, 12, 31)),
    st.dates(min_value=date(2019, 1, 1), max_value=date(2023, 12, 31)),
)
def test_quebec_residency_is_a_year_on_the_day_of_the_check_or_the_deadline(since: date, today: date) -> None:
    facts = parse_facts({"quebec_resident_since": since.isoformat()})
    result = evaluate(facts, PROGRAMS["quebec-psoig-2021-023"], today)
    outcome = {c.id: c.result.value for c in result.criteria}["quebec_residency"]
    counted_on = min(today, date(2021, 10, 10))  # after the deadline, the deadline day counts
    years = relativedelta(counted_on, since).years if counted_on >= since else -1
    if _leap_day_before_anniversary(since, counted_on):
        years -= 1
    assert outcome == ("met" if years >= 1 else "not_met")
