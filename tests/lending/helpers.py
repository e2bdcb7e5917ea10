"""A small hand-made credit process: a register of customers, the sample staff and crafted
applications whose admission and route are known by hand."""

from __future__ import annotations

import pandas as pd

from riskkit.book.customers import CustomerRegister
from riskkit.datasets.applications import make_staff
from riskkit.lending.process import CreditProcess
from riskkit.store import Store

DAY = pd.Timestamp("2026-11-05")


def customer(bid: str, **over) -> dict:
    row = {
        "borrower_id": bid,
        "segment": "trader",
        "name": "张三丰",
        "monthly_income": 20_000.0,
        "birth_date": pd.Timestamp("1980-03-07"),
        "civil_capacity": "full",
        "id_type": "passport",  # no GB 11643 check on made-up numbers
        "id_number": f"E{bid}",
        "id_expiry_date": pd.Timestamp("2031-05-01"),
        "id_long_term": False,
        "income_source": "business",
        "income_verified_date": pd.Timestamp("2026-10-20"),
        "credit_report_date": pd.Timestamp("2026-10-30"),
        "prior_loans": 1,
        "prior_delinquency": 0,
        "worst_delinquency_days": 0,
        "overdue_elsewhere": 0.0,
        "residence_status": "local_hukou",
        "residence_since": pd.Timestamp("1980-03-07"),
        "business_start_date": pd.Timestamp("2015-06-01"),
    }
    row.update(over)
    return row


def application(aid: str, bid: str, amount: float, guarantee: str = "credit", **over) -> dict:
    row = {
        "application_id": aid,
        "borrower_id": bid,
        "application_date": DAY,
        "product": "business_loan",
        "amount": float(amount),
        "term_months": 12,
        "annual_rate": 0.15,
        "repayment_method": "annuity",
        "guarantee_type": guarantee,
        "purpose": "working capital",
        "officer_id": "O02",
        "branch": "城关支行",
        "group_id": None,
        "collateral_value": float(amount) * 2 if guarantee in ("mortgage", "pledge") else None,
        "other_debt_service": 0.0,
        "n_guarantors": 1 if guarantee == "guaranteed" else 0,
        "admission_override": False,
    }
    row.update(over)
    return row


def frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for c in df.columns:
        if c.endswith("_date"):
            df[c] = pd.to_datetime(df[c]).astype("datetime64[ns]")
    if "collateral_value" in df:
        df["collateral_value"] = df["collateral_value"].astype(float)
    if "group_id" in df:
        df["group_id"] = df["group_id"].astype(object)
    return df


def world(customers: list[dict], applications: list[dict], grades=None, policy=None, url=None):
    """A store (``url``, default in memory) with the register, the sample staff and the
    applications received and assessed."""
    store = Store(url or "sqlite://")
    CustomerRegister(store).record(frame(customers), changed_by="O02", reason="new customers")
    proc = CreditProcess(store, policy)
    proc.set_staff(make_staff())
    proc.receive(frame(applications), at=DAY)
    assessment = proc.assess(grades=grades)
    return proc, assessment
