"""Affordability: monthly debt service from the contractual schedule and the largest amount
the borrower's income carries (``limits.max_installment_to_income``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..book import make_schedule
from .terms import (
    AMORTISING_METHODS,
    as_array,
    as_text_array,
    broadcast_length,
    check_terms,
    lending_limits,
    row_ids,
)


def monthly_debt_service(amount, term_months, annual_rate, repayment_method, ids=None):
    """Monthly debt service and balloon of loans, from their contractual schedule.

    Uses :func:`riskkit.book.make_schedule` (cent rounding included).

    Returns
    -------
    DataFrame
        ``installment`` (largest payment for annuity/equal principal; total payable / term for
        interest-only and bullet), ``first_payment``, ``total_interest``, ``balloon`` (principal
        due at maturity beyond the regular payments: the whole amount for interest-only and
        bullet, 0 otherwise), one row per loan in input order.

    Examples
    --------
    >>> monthly_debt_service(12_000, 12, 0.12, "equal_principal").iloc[0].tolist()
    [1120.0, 1120.0, 780.0, 0.0]
    """
    amount = as_array(amount)
    n = broadcast_length(amount, term_months, annual_rate, repayment_method)
    amount = np.broadcast_to(amount, (n,))
    term = np.broadcast_to(as_array(term_months), (n,))
    rate = np.broadcast_to(as_array(annual_rate), (n,))
    method = np.broadcast_to(as_text_array(repayment_method), (n,))
    ids = row_ids(ids, n)
    check_terms("debt service input", ids, amount=amount, term=term, rate=rate, method=method)
    key = np.arange(n)
    sched = make_schedule(
        pd.DataFrame(
            {
                "loan_id": key,
                "amount": amount,
                "annual_rate": rate,
                "term_months": term.astype(np.int64),
                "repayment_method": pd.array(method, dtype="str"),
                "disbursement_date": pd.Timestamp("2000-01-01"),
            }
        )
    )
    pay = sched["principal_due"].to_numpy() + sched["interest_due"].to_numpy()
    g = sched.assign(payment=pay).groupby("loan_id", sort=True)
    largest = g["payment"].max().reindex(key).to_numpy()
    first = g["payment"].first().reindex(key).to_numpy()
    total = g["payment"].sum().reindex(key).to_numpy()
    interest = g["interest_due"].sum().reindex(key).to_numpy()
    amortising = np.isin(method, AMORTISING_METHODS)
    installment = np.where(amortising, largest, total / term)
    return pd.DataFrame(
        {
            "installment": np.round(installment, 2),
            "first_payment": first,
            "total_interest": np.round(interest, 2),
            "balloon": np.where(amortising, 0.0, amount),
        }
    )


def capacity_limit(
    monthly_income,
    term_months,
    annual_rate,
    repayment_method,
    other_debt_service=0.0,
    policy=None,
    ids=None,
) -> np.ndarray:
    """Largest amount the borrower's income carries (before rounding to the limit unit).

    With ``P = max_installment_to_income x income - other_debt_service`` (the payment room) and
    monthly rate ``r``: annuity ``P (1 - (1 + r)^-n) / r`` (``P n`` at zero rate); equal
    principal ``P / (1/n + r)`` (first installment binds); interest-only and bullet
    ``P n / (1 + r n)`` (total payable spread over the term). Never negative.

    Examples
    --------
    >>> round(float(capacity_limit(10_000, 12, 0.12, "equal_principal")[0]), 2)  # 5000/(1/12+.01)
    53571.43
    """
    lim = lending_limits(policy)
    income = as_array(monthly_income)
    n = broadcast_length(income, term_months, annual_rate, repayment_method, other_debt_service)
    income = np.broadcast_to(income, (n,))
    term = np.broadcast_to(as_array(term_months), (n,))
    rate = np.broadcast_to(as_array(annual_rate), (n,))
    method = np.broadcast_to(as_text_array(repayment_method), (n,))
    other = np.broadcast_to(as_array(other_debt_service), (n,))
    check_terms(
        "repayment capacity input",
        row_ids(ids, n),
        term=term,
        rate=rate,
        method=method,
        income=income,
        other_debt=other,
    )
    room = np.maximum(lim["max_installment_to_income"] * income - other, 0.0)
    r = rate / 12.0
    with np.errstate(divide="ignore", invalid="ignore"):
        annuity = np.where(r > 0, room * -np.expm1(-term * np.log1p(r)) / r, room * term)
    eqp = room / (1.0 / term + r)
    flat = room * term / (1 + r * term)
    return np.select(
        [method == "annuity", method == "equal_principal"], [annuity, eqp], default=flat
    )
