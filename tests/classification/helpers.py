"""Hand-built books for the classification and inspection tests.

Every loan: 12,000 RMB, 0% interest, 12 months equal principal, disbursed 2025-01-15, so
1,000 is due on the 15th of each month from 2025-02-15 to 2026-01-15. At the default as-of
date 2025-10-31, nine installments (February..October) are due.
"""

from __future__ import annotations

import pandas as pd

from riskkit.book import LoanBook, make_schedule

AS_OF = pd.Timestamp("2025-10-31")
DUE = pd.date_range("2025-02-01", periods=12, freq="MS") + pd.Timedelta(days=14)


def loan_rows(ids, borrowers=None, **extra):
    n = len(ids)
    df = pd.DataFrame(
        {
            "loan_id": list(ids),
            "borrower_id": list(borrowers) if borrowers is not None else [f"B{i}" for i in ids],
            "product": ["business"] * n,
            "amount": [12_000.0] * n,
            "disbursement_date": pd.to_datetime(["2025-01-15"] * n),
            "term_months": [12] * n,
            "annual_rate": [0.0] * n,
            "repayment_method": ["equal_principal"] * n,
            "guarantee_type": ["credit"] * n,
            "purpose": ["working capital"] * n,
            "officer_id": ["O1"] * n,
            "branch": ["城关"] * n,
        }
    )
    for k, v in extra.items():
        df[k] = v
    return df


def on_time(loan_id, k, start=0):
    """Payments of installments ``start .. start+k-1`` (0-based) on their due dates."""
    return [(loan_id, DUE[i], 1000.0) for i in range(start, start + k)]


def make_book(
    loans,
    payments,
    signals=None,
    collateral=None,
    borrowers=None,
    validate=True,
    recovery_status=None,
):
    pay = pd.DataFrame(payments, columns=["loan_id", "payment_date", "amount"])
    pay["payment_date"] = pd.to_datetime(pay["payment_date"]).astype("datetime64[ns]")
    pay["amount"] = pay["amount"].astype(float)
    if borrowers is None:
        b = loans["borrower_id"].drop_duplicates()
        borrowers = pd.DataFrame({"borrower_id": b.to_numpy(), "segment": "trader"})
    sig = None
    if signals is not None:
        sig = pd.DataFrame(signals, columns=["loan_id", "signal_date", "signal", "note"])
        sig["signal_date"] = pd.to_datetime(sig["signal_date"]).astype("datetime64[ns]")
        sig["source"] = "manual"
    rec = None
    if recovery_status is not None:
        rec = pd.DataFrame(recovery_status, columns=["loan_id", "status_date", "status"])
        rec["status_date"] = pd.to_datetime(rec["status_date"]).astype("datetime64[ns]")
    return LoanBook(
        loans,
        make_schedule(loans),
        pay,
        borrowers=borrowers,
        signals=sig,
        collateral=collateral,
        recovery_status=rec,
        as_of_date=AS_OF,
        validate=validate,
    )


def missed_book(missed_by_loan: dict, **kw):
    """One loan per entry; loan paid on time except its last ``m`` of 9 due installments."""
    ids = list(missed_by_loan)
    pays = []
    for lid, m in missed_by_loan.items():
        pays += on_time(lid, 9 - m)
    return make_book(loan_rows(ids, **kw), pays)
