"""Parameter validation: types restored after papermill/YAML mangling, every problem named."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from riskkit.errors import ValidationError
from riskkit.reports.params import (
    load_params_file,
    parse_cli_assignments,
    to_papermill,
    validate_params,
)


def test_types_restored_from_papermill_text():
    # papermill -p branch 0042 delivers 42; -p as_of 20261031 delivers an int
    p = validate_params(
        "post_loan_review",
        {"as_of": 20261031, "branch": 42, "officer": "O7", "appendix_rows": "25", "language": "zh"},
    )
    assert p["as_of"] == pd.Timestamp("2026-10-31")
    assert p["branch"] == "42" and isinstance(p["branch"], str)
    assert p["appendix_rows"] == 25 and isinstance(p["appendix_rows"], int)
    assert p["language"] == "zh"
    assert p["policy_file"] is None and p["watch_rows"] == 50  # defaults


def test_text_identifier_keeps_leading_zeros():
    p = validate_params("post_loan_review", {"as_of": "2026-10-31", "branch": "0042"})
    assert p["branch"] == "0042"


@pytest.mark.parametrize(
    "value",
    [
        "2026-10-31",
        dt.date(2026, 10, 31),
        dt.datetime(2026, 10, 31, 15, 30),
        pd.Timestamp("2026-10-31"),
        "20261031",
    ],
)
def test_date_forms(value):
    p = validate_params("post_loan_review", {"as_of": value})
    assert p["as_of"] == pd.Timestamp("2026-10-31")
    assert to_papermill("post_loan_review", p)["as_of"] == "2026-10-31"


def test_all_problems_collected_and_named():
    with pytest.raises(ValidationError) as ei:
        validate_params(
            "post_loan_review",
            {
                "as_of": "2026-02-30",
                "language": "fr",
                "appendix_rows": -1,
                "brnach": "X",
                "watch_rows": "ten",
            },
        )
    msg = str(ei.value)
    assert "report 'post_loan_review'" in msg
    assert "parameters.as_of: not a valid date" in msg and "'2026-02-30'" in msg
    assert "parameters.language: must be one of ['en', 'zh'], got 'fr'" in msg
    assert "parameters.appendix_rows: must be >= 0, got -1" in msg
    assert "parameters.watch_rows: must be an integer, got 'ten'" in msg
    assert "parameters.brnach: unknown parameter" in msg
    assert len(ei.value.problems) == 5


def test_required_and_bool_and_float_rules():
    with pytest.raises(ValidationError, match=r"parameters.as_of: is required"):
        validate_params("post_loan_review", {})
    with pytest.raises(ValidationError, match=r"must be an integer, got True"):
        validate_params("post_loan_review", {"as_of": "2026-10-31", "appendix_rows": True})
    with pytest.raises(ValidationError, match=r"must be text, got float"):
        validate_params("post_loan_review", {"as_of": "2026-10-31", "branch": 1.5})


def test_none_text_means_no_filter():
    p = validate_params("post_loan_review", {"as_of": "2026-10-31", "branch": "None"})
    assert p["branch"] is None


def test_cli_assignments():
    assert parse_cli_assignments(["branch=0042", "x=a=b"]) == {"branch": "0042", "x": "a=b"}
    with pytest.raises(ValueError, match="key=value"):
        parse_cli_assignments(["branch"])


def test_yaml_file_keeps_text_identifiers(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("branch: 0042\nappendix_rows: 30\nas_of: 2026-10-31\nofficer: 007\n")
    assert yaml.safe_load(f.read_text())["branch"] == 34  # the YAML trap we avoid
    raw = load_params_file(f, "post_loan_review")
    assert raw == {"branch": "0042", "appendix_rows": 30, "as_of": "2026-10-31", "officer": "007"}
    p = validate_params("post_loan_review", raw)
    assert p["branch"] == "0042" and p["officer"] == "007" and p["appendix_rows"] == 30


@settings(max_examples=60, deadline=None)
@given(
    d=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31)),
    branch=st.text(alphabet="0123456789ABC支行", min_size=1, max_size=8),
)
def test_round_trip_through_papermill_values(d, branch):
    """Typed -> papermill JSON values -> typed is the identity (dates, text ids kept)."""
    p = validate_params("post_loan_review", {"as_of": d.isoformat(), "branch": branch})
    again = validate_params("post_loan_review", to_papermill("post_loan_review", p))
    assert again == p
    assert again["branch"] == branch and again["as_of"] == pd.Timestamp(d)
