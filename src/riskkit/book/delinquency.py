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
from .keys import positions
from .schedule import months_between

_DAY = np.timedelta64(1, "D")


def day_numbers(x) -> np.ndarray:
    """Dates as day numbers since 1970-01-01 (int64), the unit of every date comparison."""
    return np.asarray(x, dtype="datetime64[D]").view(np.int64)


@dataclass
class ScheduleIndex:
    """Schedule and payments as flat arrays sorted by loan and period (built once per book).

    Row arrays hold loan positions (``code``, ``pay_code``) and day numbers (``due``,
    ``pay_day``) as int32; amounts as float64.
    """

    loan_ids: pd.Index
    disb: np.ndarray  # day numbers, per loan
    code: np.ndarray  # loan position of each schedule row
    due: np.ndarray  # due day numbers
    principal: np.ndarray
    interest: np.ndarray
    cum_before: np.ndarray  # due amounts of earlier periods of the same loan
    total_principal: np.ndarray  # per loan
    total_interest: np.ndarray  # per loan
    last_due: np.ndarray  # per loan
    first_row: np.ndarray  # per loan
    pay_code: np.ndarray
    pay_day: np.ndarray
    pay_amount: np.ndarray

    def amount_due_at(self, rows) -> np.ndarray:
        """Principal plus interest due of the schedule rows ``rows`` (computed when asked, not
        kept: a million-loan book saves 100 MB)."""
        return self.principal[rows] + self.interest[rows]

    @classmethod
    def build(
        cls,
        loans: pd.DataFrame,
        schedule: pd.DataFrame,
        payments: pd.DataFrame,
        schedule_pos: np.ndarray | None = None,
        payment_pos: np.ndarray | None = None,
    ) -> ScheduleIndex:
        """Index the schedule and payments of ``loans``. Ids are matched once (see
        :mod:`riskkit.book.keys`; pass the positions when validation already has them);
        rows of unknown loans get code -1."""
        loan_ids = pd.Index(loans["loan_id"].array, name="loan_id")
        n = len(loan_ids)
        if schedule_pos is None:
            schedule_pos = positions(loan_ids, schedule["loan_id"])
        if payment_pos is None:
            payment_pos = positions(loan_ids, payments["loan_id"])
        order = _schedule_order(schedule_pos, schedule["period"].to_numpy())
        code = np.asarray(schedule_pos[order], dtype=np.int32)
        principal = schedule["principal_due"].to_numpy(dtype=float)[order]
        interest = schedule["interest_due"].to_numpy(dtype=float)[order]
        amount_due = principal + interest
        starts, ends = _runs(code)
        rows = _LoanRows(code, starts, ends, n)
        due = day_numbers(schedule["due_date"].to_numpy()[order]).astype(np.int32)
        return cls(
            loan_ids=loan_ids,
            disb=day_numbers(loans["disbursement_date"].to_numpy()),
            code=code,
            due=due,
            principal=principal,
            interest=interest,
            cum_before=_cum_before(amount_due, starts, len(code)),
            total_principal=rows.total(principal),
            total_interest=rows.total(interest),
            last_due=rows.last(due),
            first_row=rows.first_row(),
            pay_code=np.asarray(payment_pos, dtype=np.int32),
            pay_day=day_numbers(payments["payment_date"].to_numpy()).astype(np.int32),
            pay_amount=payments["amount"].to_numpy(dtype=float),
        )


@dataclass
class _LoanRows:
    """Runs of schedule rows per loan (rows of unknown loans, code -1, sort first)."""

    code: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    n: int

    def __post_init__(self):
        known = self.code[self.starts] >= 0
        self.starts, self.ends = self.starts[known], self.ends[known]

    def total(self, w: np.ndarray) -> np.ndarray:
        if not len(self.code) or self.code[0] >= 0:  # no rows of unknown loans
            return np.bincount(self.code, weights=w, minlength=self.n)
        known = self.code >= 0
        return np.bincount(self.code[known], weights=w[known], minlength=self.n)

    def first_row(self) -> np.ndarray:
        out = np.full(self.n, -1, dtype=np.int64)
        out[self.code[self.starts]] = self.starts
        return out

    def last(self, day: np.ndarray) -> np.ndarray:
        out = np.full(self.n, np.iinfo(np.int64).min, dtype=np.int64)
        out[self.code[self.ends]] = day[self.ends]
        return out


def _schedule_order(code: np.ndarray, period: np.ndarray):
    """Row order by loan position and period (a slice when the rows already are)."""
    new_loan = code[1:] != code[:-1]
    in_order = bool(np.all(code[1:] >= code[:-1]) and np.all(new_loan | (period[1:] > period[:-1])))
    return slice(None) if in_order else np.lexsort((period, code))


def _runs(code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last row of each run of equal codes."""
    if not len(code):
        return code, code
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    return starts, np.r_[starts[1:] - 1, len(code) - 1]


def _cum_before(amount_due: np.ndarray, starts: np.ndarray, n_rows: int) -> np.ndarray:
    """Per row: the amounts due in earlier periods of the same loan, summed in period order
    from the loan's first installment, so a loan's figures do not depend on which other loans
    share the book or how it is split. Loans with the same number of installments are summed
    together as the rows of a matrix."""
    out = np.zeros(n_rows)
    if not n_rows:
        return out
    lengths = np.diff(np.r_[starts, n_rows])
    order = np.argsort(lengths, kind="stable")
    by_len = lengths[order]
    bounds = np.flatnonzero(np.r_[True, by_len[1:] != by_len[:-1], True])
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        width = int(by_len[lo])
        if width < 2:
            continue
        step = max(1, CHUNK_ROWS // width)
        for c in range(lo, hi, step):  # bounded memory: about CHUNK_ROWS rows at a time
            rows = starts[order[c : min(c + step, hi)], None] + np.arange(width)
            part = amount_due[rows[:, :-1]]
            np.cumsum(part, axis=1, out=part)
            out[rows[:, 1:]] = part
    return out


def _tolerance(dq, amount_due: np.ndarray):
    """Shortfall tolerated per installment (a number when it does not depend on the amount)."""
    if not dq["tolerance_ratio"]:
        return float(np.maximum(dq["tolerance_abs"], 0.0))
    return np.maximum(dq["tolerance_abs"], dq["tolerance_ratio"] * amount_due)


def _paid_by(ix: ScheduleIndex, a: int, n: int) -> np.ndarray:
    """Per loan: payments received up to day ``a``."""
    if not len(ix.pay_day) or ix.pay_day.max() <= a:
        paid = np.bincount(ix.pay_code, weights=ix.pay_amount, minlength=n)
    else:
        received = ix.pay_day <= a
        paid = np.bincount(ix.pay_code[received], weights=ix.pay_amount[received], minlength=n)
    return paid.astype(float, copy=False)


#: Schedule rows handled at once by :func:`status_arrays` (bounds its temporary memory).
CHUNK_ROWS = 2_000_000
_NO_DAY = np.iinfo(np.int64).min


def _row_chunks(ix: ScheduleIndex, n: int):
    """``(first loan, end loan, first row, end row)`` of consecutive slices of whole loans of
    about :data:`CHUNK_ROWS` schedule rows (rows are sorted by loan position)."""
    n_rows = len(ix.code)
    cuts = np.unique(np.r_[0, ix.code[np.arange(CHUNK_ROWS, n_rows, CHUNK_ROWS)], n])
    rows = np.searchsorted(ix.code, cuts, side="left")
    for i in range(len(cuts) - 1):
        yield int(cuts[i]), int(cuts[i + 1]), int(rows[i]), int(rows[i + 1])


def _status_rows(ix: ScheduleIndex, a: int, dq, paid: np.ndarray, out: dict, chunk) -> None:
    """Apply payments to the installments of one slice of loans and add up per loan."""
    c0, c1, r0, r1 = chunk
    code = ix.code[r0:r1] - c0
    interest = ix.interest[r0:r1]
    amount_due = ix.amount_due_at(slice(r0, r1))
    is_due = ix.due[r0:r1] <= a
    alloc = paid[c0:c1][code]
    alloc -= ix.cum_before[r0:r1]
    np.clip(alloc, 0.0, amount_due, out=alloc)
    short = amount_due - alloc
    missed_row = is_due & (short > _tolerance(dq, amount_due))
    buf = np.minimum(alloc, interest)  # interest part of what was applied
    alloc -= buf  # now the principal part

    def per_loan(name, w):
        out[name][c0:c1] = np.bincount(code, weights=w, minlength=c1 - c0)

    per_loan("interest_paid", buf)
    per_loan("due_to_date", np.multiply(amount_due, is_due, out=buf))
    per_loan("arrears", np.multiply(short, is_due, out=short))
    per_loan("principal_applied", alloc)
    out["missed_periods"][c0:c1] = np.bincount(code, weights=missed_row, minlength=c1 - c0)
    out["periods_elapsed"][c0:c1] = np.bincount(code, weights=is_due, minlength=c1 - c0)
    mrows = np.flatnonzero(missed_row)
    if len(mrows):  # missed installments are the most recent: the first is the oldest
        mc = code[mrows]
        first = mrows[np.r_[True, mc[1:] != mc[:-1]]]
        out["oldest"][c0 + code[first]] = ix.due[r0 + first]


def status_arrays(
    ix: ScheduleIndex, as_of, policy: Policy | dict | str | None = None
) -> dict[str, np.ndarray]:
    """Delinquency state of every loan at ``as_of`` as a dict of arrays (see
    :func:`delinquency_status` for the fields)."""
    policy = load_policy(policy)
    dq = policy["delinquency"]
    a = int(day_numbers(np.datetime64(pd.Timestamp(as_of).date())))
    n = len(ix.loan_ids)
    if len(ix.code) and ix.code[0] < 0:  # rows of unknown loans sort first
        raise ValueError("the schedule has rows of unknown loans: validate the book first")
    paid = _paid_by(ix, a, n)
    acc = {k: np.zeros(n) for k in ("interest_paid", "due_to_date", "arrears", "principal_applied")}
    acc.update(missed_periods=np.zeros(n), periods_elapsed=np.zeros(n), oldest=np.full(n, _NO_DAY))
    for chunk in _row_chunks(ix, n):
        _status_rows(ix, a, dq, paid, acc, chunk)
    return _loan_status(ix, a, dq, paid, acc)


def _loan_status(ix: ScheduleIndex, a: int, dq, paid: np.ndarray, acc: dict) -> dict:
    """Per-loan fields from the per-loan sums of :func:`_status_rows`."""
    n = len(paid)
    missed = acc["missed_periods"].astype(np.int64)
    elapsed = acc["periods_elapsed"].astype(np.int64)
    # Money paid ahead fills the next installments in schedule order (interest before
    # principal), exactly as it will be applied when they fall due, so for a given payment
    # history the balance never goes back up as dates pass.
    outstanding = np.maximum(ix.total_principal - acc["principal_applied"], 0.0)
    outstanding = np.where(outstanding < 0.005, 0.0, outstanding)
    excess = np.maximum(paid - (ix.total_principal + ix.total_interest), 0.0)
    oldest = acc["oldest"]
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
    arrears = acc["arrears"]
    paid_off = (outstanding == 0.0) & ~has_missed & (arrears <= np.maximum(dq["tolerance_abs"], 0))
    return {
        "outstanding_principal": outstanding,
        "principal_paid": ix.total_principal - outstanding,
        "interest_paid": acc["interest_paid"],
        "paid_to_date": paid,
        "due_to_date": acc["due_to_date"],
        "arrears": arrears,
        "overpaid": excess,
        "missed_periods": missed,
        "periods_elapsed": elapsed,
        "days_past_due": dpd.astype(np.int64),
        "oldest_unpaid_due": np.where(has_missed, oldest, _NO_DAY),
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
