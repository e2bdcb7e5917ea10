"""Delinquency derived from schedule and payments, vectorised over all loans.

Payments received up to the as-of date are applied to the oldest installment first (interest
before principal within an installment); money paid ahead fills the next installments in
schedule order (a full prepayment is expected to close the schedule, as core banking systems
do; the extract then ends at the payoff installment).
An installment due on or before the as-of date counts as *missed* while its shortfall exceeds
the policy tolerance (``delinquency.tolerance_abs`` / ``tolerance_ratio``). Because payments
fill the oldest installments first, the missed installments are always the most recent ones,
so their number is the loan's **consecutive missed periods** (连续违约期数). Days past due
count from the oldest missed due date.

Examples
--------
>>> from riskkit.datasets import make_microloan_book
>>> book = make_microloan_book(n_loans=200, months=12, seed=1)
>>> st = delinquency_status(book, book.as_of_date)
>>> bool((st.outstanding_principal >= 0).all() and (st.missed_periods <= st.periods_elapsed).all())
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ProblemCollector
from ..policy import Policy, load_policy
from .schedule import months_between

_DAY = np.timedelta64(1, "D")


def day_numbers(x) -> np.ndarray:
    """Dates as day numbers since 1970-01-01 (int64), the unit of every date comparison."""
    return np.asarray(x, dtype="datetime64[D]").astype(np.int64)


@dataclass
class ScheduleIndex:
    """Schedule and payments as flat arrays sorted by loan and period (built once per book)."""

    loan_ids: np.ndarray
    disb: np.ndarray  # day numbers, per loan
    code: np.ndarray  # loan position of each schedule row
    due: np.ndarray  # due day numbers
    principal: np.ndarray
    interest: np.ndarray
    amount_due: np.ndarray
    cum_before: np.ndarray  # due amounts of earlier periods of the same loan
    total_principal: np.ndarray  # per loan
    last_due: np.ndarray  # per loan
    first_row: np.ndarray  # per loan
    pay_code: np.ndarray
    pay_day: np.ndarray
    pay_amount: np.ndarray

    @classmethod
    def build(cls, loans: pd.DataFrame, schedule: pd.DataFrame, payments: pd.DataFrame):
        loan_ids = loans["loan_id"].to_numpy()
        n = len(loan_ids)
        pos = pd.Index(loan_ids)
        code = pos.get_indexer(schedule["loan_id"])
        period = schedule["period"].to_numpy()
        new_loan = code[1:] != code[:-1]
        in_order = bool(
            np.all(code[1:] >= code[:-1]) and np.all(new_loan | (period[1:] > period[:-1]))
        )
        order = slice(None) if in_order else np.lexsort((period, code))
        code = code[order]
        due = day_numbers(schedule["due_date"].to_numpy()[order])
        principal = schedule["principal_due"].to_numpy(dtype=float)[order]
        interest = schedule["interest_due"].to_numpy(dtype=float)[order]
        amount_due = principal + interest
        cum = np.cumsum(amount_due)
        starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]]) if len(code) else code
        first_row = np.full(n, -1, dtype=np.int64)
        first_row[code[starts]] = starts
        base = np.repeat(cum[starts] - amount_due[starts], np.diff(np.r_[starts, len(code)]))
        cum_before = cum - amount_due - base
        last_due = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
        ends = np.r_[starts[1:] - 1, len(code) - 1] if len(code) else starts
        last_due[code[ends]] = due[ends]
        pcode = pos.get_indexer(payments["loan_id"])
        pday = day_numbers(payments["payment_date"].to_numpy())
        return cls(
            loan_ids=loan_ids,
            disb=day_numbers(loans["disbursement_date"].to_numpy()),
            code=code,
            due=due,
            principal=principal,
            interest=interest,
            amount_due=amount_due,
            cum_before=cum_before,
            total_principal=np.bincount(code, weights=principal, minlength=n),
            last_due=last_due,
            first_row=first_row,
            pay_code=pcode,
            pay_day=pday,
            pay_amount=payments["amount"].to_numpy(dtype=float),
        )


def status_arrays(
    ix: ScheduleIndex, as_of, policy: Policy | dict | str | None = None
) -> dict[str, np.ndarray]:
    """Delinquency state of every loan at ``as_of`` as a dict of arrays (see
    :func:`delinquency_status` for the fields)."""
    policy = load_policy(policy)
    dq = policy["delinquency"]
    a = int(day_numbers(np.datetime64(pd.Timestamp(as_of).date())))
    n = len(ix.loan_ids)
    received = ix.pay_day <= a
    paid = np.bincount(ix.pay_code[received], weights=ix.pay_amount[received], minlength=n)
    is_due = ix.due <= a
    alloc = np.clip(paid[ix.code] - ix.cum_before, 0.0, ix.amount_due)
    short = ix.amount_due - alloc
    tol = np.maximum(dq["tolerance_abs"], dq["tolerance_ratio"] * ix.amount_due)
    missed_row = is_due & (short > tol)
    int_alloc = np.minimum(alloc, ix.interest)
    prin_alloc = alloc - int_alloc

    def per_loan(w):
        return np.bincount(ix.code, weights=w, minlength=n)

    due_to_date = per_loan(ix.amount_due * is_due)
    interest_paid = per_loan(int_alloc)
    arrears = per_loan(short * is_due)
    missed = np.bincount(ix.code, weights=missed_row, minlength=n).astype(np.int64)
    elapsed = np.bincount(ix.code, weights=is_due, minlength=n).astype(np.int64)
    # Money paid ahead fills the next installments in schedule order (interest before
    # principal), exactly as it will be applied when they fall due, so for a given payment
    # history the balance never goes back up as dates pass.
    outstanding = np.maximum(ix.total_principal - per_loan(prin_alloc), 0.0)
    outstanding = np.where(outstanding < 0.005, 0.0, outstanding)
    excess = np.maximum(paid - (ix.total_principal + per_loan(ix.interest)), 0.0)

    mrows = np.flatnonzero(missed_row)
    oldest = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    if len(mrows):
        mc = ix.code[mrows]
        first = mrows[np.r_[True, mc[1:] != mc[:-1]]]
        oldest[ix.code[first]] = ix.due[first]
    has_missed = missed > 0
    dpd = np.where(has_missed, a - oldest, 0)

    if dq.get("count_months_after_maturity", True):
        past = ix.last_due < a
        after = np.zeros(n, dtype=np.int64)
        lm = ix.last_due[past].astype("datetime64[D]")
        after[past] = np.maximum(months_between(lm, np.datetime64(a, "D")), 0)
        # past maturity, any missed installment includes the last one (missed installments
        # are always the most recent ones)
        missed = missed + np.where(has_missed & past, after, 0)
        elapsed = elapsed + after
    paid_off = (outstanding == 0.0) & ~has_missed & (arrears <= np.maximum(dq["tolerance_abs"], 0))
    return {
        "outstanding_principal": outstanding,
        "principal_paid": ix.total_principal - outstanding,
        "interest_paid": interest_paid,
        "paid_to_date": paid,
        "due_to_date": due_to_date,
        "arrears": arrears,
        "overpaid": excess,
        "missed_periods": missed,
        "periods_elapsed": elapsed,
        "days_past_due": dpd.astype(np.int64),
        "oldest_unpaid_due": np.where(has_missed, oldest, np.iinfo(np.int64).min),
        "paid_off": paid_off,
    }


def _check_disbursed(book, as_of) -> None:
    late = book.loans["disbursement_date"].to_numpy() > np.datetime64(pd.Timestamp(as_of))
    if late.any():
        errors = ProblemCollector("as-of date")
        errors.check(
            "loans",
            "disbursement_date",
            late,
            book.loans["loan_id"],
            f"as-of date {pd.Timestamp(as_of).date()} is before disbursement "
            "(select loans with book.disbursed_by(as_of) first)",
        )
        errors.raise_if_any()


def delinquency_status(book, as_of, policy: Policy | dict | str | None = None) -> pd.DataFrame:
    """Delinquency of every loan of ``book`` as of a date.

    Parameters
    ----------
    book : LoanBook
    as_of : date-like
        Must not be before any loan's disbursement (use ``book.disbursed_by(as_of)``).
    policy : Policy, mapping or path, optional
        ``delinquency`` section sets the partial-payment tolerance.

    Returns
    -------
    DataFrame indexed by ``loan_id`` with ``outstanding_principal``, ``principal_paid``,
    ``interest_paid``, ``paid_to_date``, ``due_to_date``, ``arrears``, ``overpaid``,
    ``missed_periods`` (consecutive), ``periods_elapsed``, ``days_past_due``,
    ``oldest_unpaid_due`` (date or NaT) and ``paid_off``.
    """
    _check_disbursed(book, as_of)
    arr = status_arrays(book.schedule_index, as_of, policy)
    oldest = arr.pop("oldest_unpaid_due")
    df = pd.DataFrame(arr, index=pd.Index(book.loans["loan_id"].to_numpy(), name="loan_id"))
    nat = oldest == np.iinfo(np.int64).min
    df["oldest_unpaid_due"] = pd.to_datetime(
        np.where(nat, np.datetime64("NaT"), oldest.astype("datetime64[D]"))
    )
    return df


def delinquency_history(book, dates, policy=None, columns=None) -> pd.DataFrame:
    """Loan-month panel: :func:`delinquency_status` at each date for the loans disbursed by then.

    Returns a long DataFrame with columns ``as_of, loan_id`` and the status fields (or only
    ``columns``). Loans are kept after they are paid off (``paid_off`` is True) so that exits
    are visible to migration analysis.
    """
    policy = load_policy(policy)
    ix = book.schedule_index
    disb = ix.disb
    frames = []
    for d in pd.to_datetime(list(dates)):
        a = int(day_numbers(np.datetime64(d.date())))
        keep = disb <= a
        arr = status_arrays(ix, d, policy)
        arr.pop("oldest_unpaid_due")
        cols = columns or list(arr)
        part = {"as_of": np.full(keep.sum(), np.datetime64(d.date(), "ns"))}
        part["loan_id"] = ix.loan_ids[keep]
        for c in cols:
            part[c] = arr[c][keep]
        frames.append(pd.DataFrame(part))
    return pd.concat(frames, ignore_index=True)
