"""A seeded synthetic write-off register for the sample book (the lender's decisions).

The sample book (:func:`riskkit.datasets.make_microloan_book`) records what happened to loans
after default; deciding to write one off is the lender's act, recorded in the register
(:class:`riskkit.workout.WriteOffRegister`). This generator plays the lender: at every
month-end it classifies the book, finds the loans eligible under the policy
(:func:`riskkit.workout.write_off_eligibility`) and has the write-off committee approve most of
them that month (the rest a month or two later), each by the lowest approver role whose
authority covers the amount, proposed by the loan's officer. The entries still go through the
register's validation when recorded.

Examples
--------
>>> from riskkit.datasets import make_microloan_book
>>> book = make_microloan_book(n_loans=2_000, months=24, seed=3)
>>> reg = make_write_off_register(book, seed=0)
>>> bool((reg["proposer"] != reg["approver"]).all())
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..policy import Policy, load_policy

#: Synthetic approver ids per role (no personal data).
APPROVERS = {"risk_committee": "RC-01", "general_manager": "GM-01", "board": "BD-01"}
REASONS = {
    "recovery_exhausted": "追偿终结：保证、抵质押物及遗产均已处置，仍无法收回",
    "small_balance": "小额贷款经追索逾期一年以上仍无法收回",
}


def make_write_off_register(
    book,
    as_of=None,
    months: int = 36,
    approve_share: float = 0.3,
    seed: int = 0,
    policy: Policy | dict | str | None = None,
) -> pd.DataFrame:
    """Write-off entries for ``book``: month-end committee decisions over ``months`` months.

    Parameters
    ----------
    book : LoanBook
    as_of : date-like, optional
        Last month-end considered (default ``book.as_of_date``).
    months : int
        Month-ends considered, ending at ``as_of``.
    approve_share : float
        Share of the eligible loans written off at each month-end (the rest wait).
    seed : int
    policy : Policy, mapping or path, optional

    Returns
    -------
    DataFrame with ``loan_id``, ``write_off_date``, ``rule``, ``proposer``, ``approver``,
    ``approver_role``, ``reason`` (ready for :meth:`WriteOffRegister.record`).
    """
    from ..classification import Classifier
    from ..workout.eligibility import write_off_eligibility
    from ..workout.register import borrowers_book

    pol = load_policy(policy)
    end = pd.Timestamp(as_of if as_of is not None else book.as_of_date).normalize()
    end = end if end.is_month_end else end - pd.offsets.MonthEnd(1)
    rng = np.random.default_rng(seed)
    clf = Classifier(pol)
    done = pd.DataFrame({"loan_id": pd.Series(dtype=object), "write_off_date": []})
    parts = []
    # only loans with a recovery status can be eligible (every rule needs one)
    book = borrowers_book(book, book.recovery_status["loan_id"].unique())
    first = book.loans["disbursement_date"].min()
    for k in range(months - 1, -1, -1):  # a loop over month-ends, not loans
        d = end - pd.offsets.MonthEnd(k)
        if d < first:
            continue
        sub = book.disbursed_by(d)
        res = clf.classify(sub, d, write_offs=done if len(done) else None)
        el = write_off_eligibility(sub, res, pol)
        el = el[el["eligible"]]
        el = el[rng.random(len(el)) < approve_share]
        if not len(el):
            continue
        parts.append(_entries(el, sub.loans.set_index("loan_id"), d))
        done = pd.concat([done, parts[-1][["loan_id", "write_off_date"]]], ignore_index=True)
    if not parts:
        return pd.DataFrame(
            columns=["loan_id", "write_off_date", "rule", "proposer", "approver"]
            + ["approver_role", "reason"]
        )
    return pd.concat(parts, ignore_index=True)


def _entries(el: pd.DataFrame, loans: pd.DataFrame, d: pd.Timestamp) -> pd.DataFrame:
    role = el["required_role"].astype(str)
    return pd.DataFrame(
        {
            "loan_id": el.index.to_numpy(dtype=object),
            "write_off_date": np.full(len(el), np.datetime64(d, "ns")),
            "rule": el["rule"].astype(str).to_numpy(),
            "proposer": loans.loc[el.index, "officer_id"].astype(str).to_numpy(),
            "approver": role.map(APPROVERS).to_numpy(),
            "approver_role": role.to_numpy(),
            "reason": el["rule"].map(REASONS).to_numpy(),
        }
    )
