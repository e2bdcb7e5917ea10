"""Which loans may be written off (呆账认定) on a date, by the policy's rules.

A loan is eligible under a rule of ``write_off.rules`` when, on the date, it is on the balance
sheet (not paid off, not already written off, principal outstanding) and

* its five-category class is one of the rule's ``categories`` and its guarantee type one of
  its ``guarantee_types``;
* its recovery status (latest row of the book's ``recovery_status`` table on or before the
  date) is one of the rule's ``recovery_status``;
* it is at least ``min_days_past_due`` days past due;
* its outstanding principal is at most ``max_principal`` (null: no limit);
* recovery has been pursued for at least ``min_recovery_days`` (days since the loan's first
  recovery-status row).

The defaults follow 财政部《金融企业呆账核销管理办法（2017年版）》 art. 6 (docs/DOMAIN.md s.6):
``recovery_exhausted`` (loss, recovery exhausted after borrower, guarantor, collateral and
estate) and ``small_balance`` (a small loan without collateral pursued for at least 180 days
and over 360 days past due). The approver role a write-off needs follows from its amount and ``write_off.authority``.

Examples
--------
>>> import pandas as pd
>>> from riskkit.workout.eligibility import required_role
>>> required_role(pd.Series([80_000.0, 300_000.0, 2e6])).tolist()
['risk_committee', 'general_manager', 'board']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..classification.rules import RECOVERY_STATUSES, recovery_status_codes
from ..policy import Policy, load_policy

#: Where each default rule comes from (shown in the register and the reports).
BASIS = {
    "recovery_exhausted": "财金〔2017〕90号 第六条（二）（七）（十）：追偿终结后仍无法收回",
    "small_balance": "财金〔2017〕90号 第六条 小额贷款条款：经追索仍无法收回（额度与期限以现行文本为准）",
}


def required_role(amount: pd.Series, policy: Policy | dict | None = None) -> pd.Series:
    """The lowest approver role of ``write_off.authority`` whose limit covers each amount."""
    auth = load_policy(policy)["write_off"]["authority"]
    roles = list(auth)
    limits = np.array([np.inf if auth[r] is None else float(auth[r]) for r in roles])
    order = np.argsort(limits, kind="stable")
    amt = np.asarray(amount, dtype=float)
    k = np.searchsorted(limits[order], amt, side="left")
    out = np.asarray(roles, dtype=object)[order][np.minimum(k, len(roles) - 1)]
    out[k >= len(roles)] = None  # above every limit: no role may approve it
    return pd.Series(out, index=getattr(amount, "index", None), dtype=object)


def role_limit(role: str, policy: Policy | dict | None = None) -> float:
    """Approval limit of ``role`` (inf when unlimited); KeyError for an unknown role."""
    auth = load_policy(policy)["write_off"]["authority"]
    if role not in auth:
        raise KeyError(role)
    return np.inf if auth[role] is None else float(auth[role])


def _recovery_days(table: pd.DataFrame, loan_ids: pd.Index, as_of) -> np.ndarray:
    """Days since each loan's first recovery-status row on or before ``as_of`` (-1: none)."""
    out = np.full(len(loan_ids), -1, dtype=np.int64)
    if table is None or len(table) == 0:
        return out
    d = pd.Timestamp(as_of)
    t = table[(table["status_date"] <= d).to_numpy(dtype=bool)]
    first = t.groupby(t["loan_id"].astype(object), sort=False)["status_date"].min()
    pos = loan_ids.get_indexer(first.index)
    ok = pos >= 0
    out[pos[ok]] = (d - first[ok]).dt.days.to_numpy()
    return out


def _rule_lists(stack: np.ndarray, names: list[str]) -> np.ndarray:
    """Comma-separated names of the rules that hold per row (one string per distinct mask)."""
    if not names:
        return np.full(len(stack), "", dtype=object)
    key = stack.astype(np.int64) @ (1 << np.arange(len(names), dtype=np.int64))
    uniq, inv = np.unique(key, return_inverse=True)
    text = [",".join(n for i, n in enumerate(names) if k >> i & 1) for k in uniq]
    return np.asarray(text, dtype=object)[inv]


def write_off_eligibility(book, result, policy: Policy | dict | None = None) -> pd.DataFrame:
    """Per loan of a classification ``result``: may it be written off on ``result.as_of``?

    Parameters
    ----------
    book : LoanBook
        The book classified (its ``recovery_status`` table is read).
    result : ClassificationResult
        Classification on the write-off date (with any earlier write-offs applied).
    policy : Policy, mapping or path, optional

    Returns
    -------
    DataFrame indexed by loan_id: ``eligible``, ``rule`` (first rule that holds, in policy
    order; missing if none), ``rules`` (every rule that holds, comma-separated),
    ``principal``, ``category``, ``days_past_due``, ``recovery_status``, ``recovery_days``
    and ``required_role`` (for the principal).
    """
    pol = load_policy(policy)
    f = result.table
    ids = pd.Index(f.index)
    rec = recovery_status_codes(book.recovery_status, ids, result.as_of)
    days = _recovery_days(book.recovery_status, ids, result.as_of)
    principal = f["outstanding_principal"].to_numpy(dtype=float)
    written = f["written_off"].to_numpy(dtype=bool) if "written_off" in f.columns else False
    on_book = ~f["paid_off"].to_numpy(dtype=bool) & ~written & (principal > 0)
    cat = f["category"].astype(str).to_numpy()
    gtype = book.loans.set_index("loan_id")["guarantee_type"].reindex(ids).astype(str).to_numpy()
    dpd = f["days_past_due"].to_numpy()
    status = np.asarray(RECOVERY_STATUSES + ("",), dtype=object)[rec]  # -1: none ("")
    held = {}
    for name, r in pol["write_off"]["rules"].items():
        if not r["enabled"]:
            continue
        cap = np.inf if r["max_principal"] is None else float(r["max_principal"])
        held[name] = (
            on_book
            & np.isin(cat, r["categories"])
            & np.isin(gtype, r["guarantee_types"])
            & np.isin(status, r["recovery_status"])
            & (dpd >= r["min_days_past_due"])
            & (principal <= cap)
            & (days >= r["min_recovery_days"])
        )
    names = list(held)
    stack = np.column_stack([held[k] for k in names]) if names else np.zeros((len(ids), 0), bool)
    eligible = stack.any(axis=1)
    first = np.where(eligible, stack.argmax(axis=1), -1) if names else np.full(len(ids), -1)
    rule = np.asarray(names + [""], dtype=object)[first]
    rule[first < 0] = None
    every = _rule_lists(stack, names)
    out = pd.DataFrame(
        {
            "eligible": eligible,
            "rule": rule,
            "rules": every,
            "principal": principal,
            "category": cat,
            "days_past_due": dpd,
            "recovery_status": np.where(status == "", None, status),
            "recovery_days": days,
        },
        index=ids,
    )
    out["required_role"] = required_role(out["principal"], pol)
    return out
