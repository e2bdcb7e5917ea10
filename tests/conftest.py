"""Shared fixtures: small hand-built loan books."""

from __future__ import annotations

import pandas as pd
import pytest

from riskkit.book import LoanBook, make_schedule
from tests.databases import db_url, postgres_server  # noqa: F401  (fixtures)


def hand_book(payments=None, *, amount=3000.0, rate=0.0, term=3, method="equal_principal"):
    """One loan L1 of ``amount`` disbursed 2026-01-15, due on the 15th of each month."""
    loans = pd.DataFrame(
        {
            "loan_id": ["L1"],
            "borrower_id": ["B1"],
            "product": ["business"],
            "amount": [amount],
            "disbursement_date": pd.to_datetime(["2026-01-15"]),
            "term_months": [term],
            "annual_rate": [rate],
            "repayment_method": [method],
            "guarantee_type": ["credit"],
            "purpose": ["working capital"],
            "officer_id": ["O1"],
            "branch": ["城关"],
        }
    )
    borrowers = pd.DataFrame({"borrower_id": ["B1"], "segment": ["trader"]})
    pay = payments or []
    payments = pd.DataFrame(
        {
            "loan_id": ["L1"] * len(pay),
            "payment_date": pd.to_datetime([d for d, _ in pay]).astype("datetime64[ns]"),
            "amount": [float(a) for _, a in pay],
        }
    )
    return LoanBook(loans, make_schedule(loans), payments, borrowers=borrowers)


def pytest_collection_modifyitems(items):
    """Mark the tests that run on PostgreSQL (``make test-fast`` leaves them out)."""
    for item in items:
        spec = getattr(item, "callspec", None)
        on_postgres = spec is not None and spec.params.get("db_url") == "postgresql"
        if on_postgres or "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture
def make_hand_book():
    return hand_book
