"""Working-day calendar for inspection deadlines: holidays and make-up days (调休)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskkit.inspection import inspection_plan
from riskkit.inspection.calendar import add_working_days
from riskkit.policy import load_policy
from tests.classification.helpers import loan_rows, make_book

# National Day 2026 as an institution would list it (the test's own assumption, not riskkit's)
HOLIDAYS = ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"]
MAKE_UP = ["2026-09-27", "2026-10-10"]  # Sunday, Saturday


def _d(*s):
    return np.array(s, dtype="datetime64[D]")


def test_hand_counted_national_day():
    # Mon 28 Sep: Tue 29 (1), Wed 30 (2), holiday week, Thu 8 (3), Fri 9 (4), Sat 10 make-up (5)
    got = add_working_days(_d("2026-09-28"), 5, HOLIDAYS, MAKE_UP)
    assert str(got[0]) == "2026-10-10"
    # a disbursement on a holiday counts from the working day before it (Wed 30 Sep)
    assert str(add_working_days(_d("2026-10-02"), 1, HOLIDAYS, MAKE_UP)[0]) == "2026-10-08"
    # a disbursement on the make-up Sunday is on a working day: day 1 is Mon 28 Sep
    assert str(add_working_days(_d("2026-09-27"), 1, HOLIDAYS, MAKE_UP)[0]) == "2026-09-28"
    # plain week: Friday 2 Oct
    assert str(add_working_days(_d("2026-09-28"), 4)[0]) == "2026-10-02"


days = st.integers(0, 900).map(lambda k: np.datetime64("2025-06-01") + np.timedelta64(k, "D"))


@settings(max_examples=150, deadline=None)
@given(st.lists(days, min_size=1, max_size=30), st.integers(0, 12), st.lists(days, max_size=40))
def test_equals_numpy_busday_offset(dates, n, holidays):
    d = np.array(dates, dtype="datetime64[D]")
    hol = sorted({str(h) for h in holidays})
    expected = np.busday_offset(d, n, roll="backward", holidays=hol)
    np.testing.assert_array_equal(add_working_days(d, n, hol), expected)
    np.testing.assert_array_equal(add_working_days(d, n), np.busday_offset(d, n, roll="backward"))


def test_long_holiday_blocks_and_missing_dates():
    # 60 weekdays off in a row (12 weeks): deadlines before, inside and after the block
    block = np.busday_offset("2026-01-05", np.arange(60)).astype(str).tolist()
    d = _d("2025-12-31", "2026-01-05", "2026-02-20", "2026-03-27", "2026-03-30")
    for n in (0, 1, 5):
        expected = np.busday_offset(d, n, roll="backward", holidays=block)
        np.testing.assert_array_equal(add_working_days(d, n, block), expected)
    # a missing date stays missing (as numpy does without a calendar)
    got = add_working_days(_d("2026-09-28", "NaT"), 5, HOLIDAYS, MAKE_UP)
    assert str(got[0]) == "2026-10-10" and np.isnat(got[1])
    assert np.isnat(add_working_days(_d("NaT"), 5)[0])


def test_first_contact_deadline_follows_the_policy_calendar():
    loans = loan_rows(["a"])
    loans["disbursement_date"] = pd.to_datetime(["2026-09-28"])
    book = make_book(loans, [])
    pol = {"inspection": {"calendar": {"holidays": HOLIDAYS, "working_weekends": MAKE_UP}}}

    def due(policy):
        t = inspection_plan(book, "2026-09-01", "2026-10-31", policy=policy).table
        return t.loc[t["reason"] == "first_contact", "due_by"].iloc[0]

    assert due(None) == pd.Timestamp("2026-10-05")  # Mon-Fri: Mon 5 Oct
    assert due(pol) == pd.Timestamp("2026-10-10")


@pytest.mark.parametrize(
    ("calendar", "message"),
    [
        ({"holidays": ["2026-10-01", "1 Oct"]}, "entry 1 \\('1 Oct'\\) is not a date"),
        ({"holidays": "2026-10-01"}, "must be a list of dates"),
        ({"working_weekends": ["2026-10-09"]}, "2026-10-09 is a weekday"),
        (
            {"holidays": ["2026-10-10"], "working_weekends": ["2026-10-10"]},
            "cannot be a holiday and a working day: 2026-10-10",
        ),
    ],
)
def test_bad_calendar_is_an_error_naming_the_entry(calendar, message):
    with pytest.raises((ValueError, TypeError), match=message):
        load_policy({"inspection": {"calendar": calendar}})


def test_policy_file_with_an_impossible_date_names_the_file(tmp_path):
    f = tmp_path / "ours.yaml"
    f.write_text("inspection:\n  calendar:\n    holidays: [2026-13-01]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"policy file .*ours.yaml cannot be read: month"):
        load_policy(f)
    f.write_text("inspection:\n  calendar:\n    holidays: [2026-10-01, 2026-10-02]\n")
    assert load_policy(f)["inspection"]["calendar"]["holidays"][1].isoformat() == "2026-10-02"
