"""A synthetic inspection ledger (贷后检查台账) for a loan book, deterministic per seed.

For each of the last ``months`` month-ends the generator builds the inspection plan the
post-loan review builds (:func:`riskkit.inspection.inspection_plan` on the loans disbursed by
the month-end, from the classification at the month-end before) and has the managing officers
carry out a share of it:

* every officer has a diligence ``p`` (on-time share): officers differ (about 60% to 97%
  for ``completion=0.85``), their average is ``completion``;
* per loan and month the officer either does all of the loan's inspections of the month on
  time (probability ``p``) or none; the *k*-th inspection of a window falls after the
  (*k*-1)-th deadline (doubtful loans: one in each half of the month), a loss loan is visited
  within the month;
* of the loans not inspected on time, ``late_share`` are inspected 1-20 days after the
  deadline (status ``late``: not compliant), never after ``as_of``;
* an inspection already in the ledger (a loss loan's 12-month window, a late inspection of the
  month before falling into this month's window) counts: such requirements get no second visit.

Each inspection has a method by category and reason (phone for routine checks of normal
loans, meetings and on-site checks for substandard and doubtful loans, on-site for machinery
collateral, employer visits now and then), findings text (Chinese and English, no personal
data), the book's risk signals of the loan dated in the month up to the inspection day, a
proposed action by category (``none`` / ``collection`` / ``restructuring`` /
``enforcement``) and the category assessed (the month-start category; ``normal`` for a new
loan).

Examples
--------
>>> from riskkit.datasets import make_microloan_book, make_inspection_ledger
>>> book = make_microloan_book(n_loans=300, months=12, seed=1)
>>> led = make_inspection_ledger(book, months=2, seed=1)
>>> set(led["method"]) <= {"phone", "meeting", "on_site", "employer_visit"}
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..classification.rules import SIGNAL_TEXT
from ..inspection.ledger import ACTION_ZH

#: spread of officer diligence on the log-odds scale (0.7: about 60%..97% around 85%)
DILIGENCE_SPREAD = 0.7
#: most days an inspection is done after its deadline when late
MAX_DAYS_LATE = 20

_METHODS = ("phone", "meeting", "on_site", "employer_visit")
#: method probabilities by category of the loan (first contact and machinery: see below)
_METHOD_P = {
    "new": (0.7, 0.3, 0.0, 0.0),
    "normal": (0.8, 0.1, 0.08, 0.02),
    "special_mention": (0.5, 0.3, 0.15, 0.05),
    "substandard": (0.1, 0.35, 0.45, 0.1),
    "doubtful": (0.05, 0.3, 0.5, 0.15),
    "loss": (0.1, 0.2, 0.5, 0.2),
}
_SEVERE_METHOD_P = (0.0, 0.35, 0.55, 0.1)
_ACTIONS = ("none", "collection", "restructuring", "enforcement")
_ACTION_P = {
    "new": (1.0, 0.0, 0.0, 0.0),
    "normal": (1.0, 0.0, 0.0, 0.0),
    "special_mention": (0.7, 0.3, 0.0, 0.0),
    "substandard": (0.0, 0.6, 0.3, 0.1),
    "doubtful": (0.0, 0.35, 0.15, 0.5),
    "loss": (0.0, 0.2, 0.0, 0.8),
}
_TEMPLATES = {
    "new": (
        "首次贷后联系：已告知还款计划及还款账户。First contact: repayment plan and account "
        "explained, borrower confirmed.",
        "First contact within five working days: schedule and contact details confirmed "
        "(联系方式已核实).",
        "首次回访：借款人确认贷款已到账并按约定用途使用。Funds received and used as contracted.",
    ),
    "machinery": (
        "核查抵押机器设备：设备在用，状态良好。Machinery collateral inspected: in use, good "
        "condition, nameplate matches the contract.",
        "On-site check of the pledged equipment: operating, maintained; 未发现转让或重复抵押。",
    ),
    "normal_phone": (
        "电话回访：借款人经营正常，按期还款。Phone check: business running normally, repaying on "
        "schedule.",
        "Phone call: stable income, no change in household or business. 无异常。",
        "电话提示还款日，借款人表示资金已备足。Reminded of the due date; funds ready.",
    ),
    "normal_visit": (
        "现场查看经营场所，库存与流水正常。On-site: premises open, stock and turnover in line "
        "with the application.",
        "Visited the business: loan used as contracted (资金用途与合同一致), sales steady.",
        "约见借款人，核对经营情况及家庭收支，未见异常。Meeting: finances reviewed, nothing adverse.",
    ),
    "employer": (
        "走访借款人所在单位：在职，收入稳定。Employer visit: employment and salary confirmed.",
        "Employer visit: borrower still employed but hours cut; 收入有所下降。",
    ),
    "special_mention": (
        "借款人经营收入下滑，已提示按期还款。Sales down; borrower reminded and agreed to catch up.",
        "Meeting: temporary cash-flow gap (货款未回笼); borrower promises to clear the arrears "
        "this month.",
        "电话及约见：家庭支出增加，还款意愿尚可。Willing to pay, cash tight; watch closely.",
    ),
    "substandard": (
        "现场核查：经营困难，正常收入不足以还款，需依靠担保人。On-site: income insufficient, "
        "guarantor contacted.",
        "Visited the business: turnover sharply down; discussed restructuring the installments "
        "(协商调整还款计划).",
        "约见借款人及担保人，借款人拟变卖部分资产还款。Borrower plans to sell assets to repay.",
    ),
    "doubtful": (
        "借款人无力还款，已通知担保人代偿并准备处置抵押物。Guarantor called on; collateral "
        "enforcement being prepared.",
        "Borrower hard to reach; 走访村委及邻居了解情况，预计发生损失。Loss expected, amount "
        "not yet measurable.",
        "现场核查：经营已停止，抵押物尚在。Business closed; collateral in place, legal action "
        "considered.",
    ),
    "loss": (
        "年度检查：借款人已无还款能力，担保及抵押物追偿后仍不足。Annual check: recovery after "
        "guarantee and collateral insufficient.",
        "Annual inspection: borrower cannot be located; 财产不足以清偿，建议核销。",
    ),
}


def _choice_rows(rng, probs: np.ndarray) -> np.ndarray:
    """One index per row from row-specific probabilities (vectorised inverse CDF)."""
    if not len(probs):
        return np.zeros(0, dtype=np.int64)
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None] * cum[:, -1:]
    return np.minimum((u >= cum).sum(axis=1), probs.shape[1] - 1)


def _officer_diligence(officers: np.ndarray, completion: float, seed: int) -> pd.Series:
    """On-time share per officer: logistic around ``completion``, officer mean = completion."""
    n = len(officers)
    if completion <= 0.0 or completion >= 1.0 or n == 0:
        return pd.Series(np.full(n, float(completion)), index=officers)
    z = np.random.default_rng([seed, 1]).standard_normal(n)
    if n > 1:
        z = (z - z.mean()) / (z.std() or 1.0)
    base = np.log(completion / (1.0 - completion)) + DILIGENCE_SPREAD * z
    lo, hi = -10.0, 10.0  # shift so that the officers' average is exactly ``completion``
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if np.mean(1.0 / (1.0 + np.exp(-(base + mid)))) < completion:
            lo = mid
        else:
            hi = mid
    return pd.Series(1.0 / (1.0 + np.exp(-(base + 0.5 * (lo + hi)))), index=officers)


def _empty() -> pd.DataFrame:
    cols = ("loan_id", "officer_id", "method", "findings", "signals", "proposed_action")
    out = {c: pd.Series(dtype="str") for c in cols}
    out["inspection_date"] = pd.Series(dtype="datetime64[ns]")
    out["category_assessed"] = pd.Series(dtype="str")
    order = ["loan_id", "inspection_date", "officer_id", "method", "findings", "signals"]
    return pd.DataFrame(out)[order + ["proposed_action", "category_assessed"]]


def make_inspection_ledger(
    book,
    as_of=None,
    months: int = 3,
    completion: float = 0.85,
    seed: int = 0,
    policy=None,
    late_share: float = 0.4,
) -> pd.DataFrame:
    """A synthetic inspection ledger for the last ``months`` month-ends up to ``as_of``.

    Parameters
    ----------
    book : LoanBook
    as_of : date-like, optional
        Default ``book.as_of_date``. The months covered are the ``months`` month-ends on or
        before it; no inspection is dated after it.
    months : int, default 3
    completion : float, default 0.85
        Average share (over officers) of the due inspections done on time; officers differ.
    seed : int, default 0
        Same book, arguments and seed: same ledger.
    policy : Policy, mapping or path, optional
        Inspection and classification policy (as for the post-loan review).
    late_share : float, default 0.4
        Share of the loans not inspected on time that are inspected late.

    Returns
    -------
    DataFrame
        ``loan_id, inspection_date, officer_id, method, findings, signals,
        proposed_action, category_assessed``, ordered by date and loan, ready for
        :func:`riskkit.inspection.record_inspections`.

    Examples
    --------
    >>> from riskkit.datasets import make_microloan_book, make_inspection_ledger
    >>> book = make_microloan_book(n_loans=300, months=12, seed=1)
    >>> led = make_inspection_ledger(book, months=1, seed=1)
    >>> bool(led["inspection_date"].max() <= book.as_of_date)
    True
    """
    from ..policy import load_policy

    as_of = _checked_as_of(book, as_of, months, completion, seed, late_share)
    pol = load_policy(policy)
    seed, completion, late_share = int(seed), float(completion), float(late_share)
    last_end = as_of if as_of.is_month_end else as_of - pd.offsets.MonthEnd(1)
    ends = [last_end - pd.offsets.MonthEnd(k) for k in range(int(months) - 1, -1, -1)]
    officers = np.sort(pd.unique(book.loans["officer_id"].astype(str)))
    diligence = _officer_diligence(officers, completion, seed)
    signals = book.signals[["loan_id", "signal_date", "signal"]]
    parts: list[pd.DataFrame] = []
    for end in ends:
        month = _month_inspections(book, end, as_of, pol, diligence, (late_share, seed), parts)
        if month is not None:
            rows, rng = month
            parts.append(_describe(rows, rng, signals))
    if not parts:
        return _empty()
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["inspection_date", "loan_id"], kind="stable").reset_index(drop=True)
    return out[list(_empty().columns)]


def _checked_as_of(book, as_of, months, completion, seed, late_share) -> pd.Timestamp:
    """The ledger's as-of date; every bad argument at once as a ``ValueError``."""
    problems = []
    if isinstance(months, bool) or not isinstance(months, (int, np.integer)) or months < 1:
        problems.append(f"months must be a positive integer, got {months!r}")
    for name, v in (("completion", completion), ("late_share", late_share)):
        if not isinstance(v, (int, float, np.number)) or not 0.0 <= float(v) <= 1.0:
            problems.append(f"{name} must be a share in [0, 1], got {v!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        problems.append(f"seed must be a non-negative integer, got {seed!r}")
    as_of = pd.Timestamp(book._as_of(as_of)).normalize()
    if book.as_of_date is not None and as_of > pd.Timestamp(book.as_of_date):
        problems.append(
            f"as_of {as_of.date()} is after the book's extract date "
            f"{pd.Timestamp(book.as_of_date).date()}"
        )
    if problems:
        raise ValueError("make_inspection_ledger: " + "; ".join(problems))
    return as_of


def _month_inspections(
    book, end, as_of, pol, diligence, late_share_seed: tuple[float, int], parts: list
) -> tuple[pd.DataFrame, np.random.Generator] | None:
    """The inspections done in the month ending ``end`` and the month's random generator
    (None when there are none): loans of the month's plan inspected on time or late by their
    officers, given the ledger so far (``parts``)."""
    from ..classification import Classifier
    from ..inspection import inspection_plan

    late_share, seed = late_share_seed
    end = pd.Timestamp(end).normalize()
    start = end.replace(day=1)
    prev = start - pd.Timedelta(days=1)
    result = Classifier(pol).classify(book.disbursed_by(prev), prev)
    plan = inspection_plan(book.disbursed_by(end), start, end, result=result, policy=pol)
    t = plan.table
    if not len(t):
        return None
    rng = np.random.default_rng([seed, end.year, end.month])
    # requirements already met by the ledger so far get no second visit
    met = np.zeros(len(t), dtype=bool)
    if parts:
        so_far = pd.concat(parts, ignore_index=True)
        met = (plan.status(so_far, as_of + pd.Timedelta(days=1))["status"] == "done").to_numpy()
    # per loan and month: inspected on time, late, or not at all
    code, uniq = pd.factorize(t["loan_id"])
    u_loan = rng.random(len(uniq))[code]
    late_loan = rng.random(len(uniq))[code] < late_share
    p = diligence.reindex(t["officer_id"].astype(str)).to_numpy()
    on_time = (u_loan < p) & ~met
    late = (u_loan >= p) & late_loan & ~met
    a_day = np.datetime64(as_of.date(), "D")
    d_on, d_late = _inspection_days(t, start, a_day, rng)
    late &= d_late <= a_day
    keep = on_time | late
    if not keep.any():
        return None
    rows = t.loc[keep, ["loan_id", "officer_id", "reason", "category"]].reset_index(drop=True)
    rows["inspection_date"] = pd.to_datetime(np.where(on_time, d_on, d_late)[keep])
    rows["category"] = rows["category"].astype(str)
    rows["month_start"] = start
    return rows, rng


def _inspection_days(t: pd.DataFrame, start, a_day, rng) -> tuple[np.ndarray, np.ndarray]:
    """A day for each required inspection if done on time (in its window, after the previous
    deadline of the same window, not after ``a_day``) and if done late (1 to
    ``MAX_DAYS_LATE`` days after its deadline)."""
    ws = t["window_start"].to_numpy().astype("datetime64[D]")
    due = t["due_by"].to_numpy().astype("datetime64[D]")
    reason = t["reason"].to_numpy().astype(str)
    ws = np.where(reason == "loss", np.datetime64(start.date(), "D"), ws)
    # the k-th inspection of a window falls after the (k-1)-th deadline
    g = pd.DataFrame({"loan": t["loan_id"].to_numpy(), "ws": ws, "due": due})
    prev_due = g.groupby(["loan", "ws"], sort=False)["due"].shift()
    prev_due = prev_due.to_numpy().astype("datetime64[D]")
    later = ~np.isnat(prev_due) & (prev_due < due)
    lo = np.where(later, np.where(later, prev_due, ws) + 1, ws)
    hi = np.minimum(due, a_day)
    lo = np.minimum(lo, hi)
    span = (hi - lo).astype(np.int64) + 1
    d_on = lo + np.floor(rng.random(len(t)) * span).astype("timedelta64[D]")
    d_late = due + rng.integers(1, MAX_DAYS_LATE + 1, len(t)).astype("timedelta64[D]")
    return d_on, d_late


def _describe(rows: pd.DataFrame, rng, signals: pd.DataFrame) -> pd.DataFrame:
    """Method, findings, signals observed, proposed action of the inspections ``rows``."""
    n = len(rows)
    cat = rows["category"].to_numpy().astype(str)
    reason = rows["reason"].to_numpy().astype(str)
    cats = list(_METHOD_P)
    ci = pd.Index(cats).get_indexer(cat)
    ci = np.where(ci < 0, cats.index("normal"), ci)
    mp = np.array([_METHOD_P[c] for c in cats])[ci]
    mp[reason == "severe_signal"] = _SEVERE_METHOD_P
    mp[reason == "machinery_collateral"] = (0.0, 0.0, 1.0, 0.0)
    method = np.asarray(_METHODS)[_choice_rows(rng, mp)]
    ap = np.array([_ACTION_P[c] for c in cats])[ci]
    action = np.asarray(_ACTIONS)[_choice_rows(rng, ap)]

    # signals of the loan dated in the month up to the inspection day
    m = rows[["loan_id", "inspection_date", "month_start"]].reset_index(names="row")
    j = m.merge(signals, on="loan_id")
    j = j[(j["signal_date"] >= j["month_start"]) & (j["signal_date"] <= j["inspection_date"])]
    j = j.drop_duplicates(["row", "signal"]).sort_values(["row", "signal"])
    j = j.assign(zh=j["signal"].map({k: v[1] for k, v in SIGNAL_TEXT.items()}))
    g = j.groupby("row")
    sig = g["signal"].agg(",".join).reindex(range(n), fill_value="").to_numpy().astype(str)
    sig_zh = g["zh"].agg("；".join).reindex(range(n), fill_value="")
    has_sig = sig != ""
    if "enforcement_started" in set(j["signal"]):
        enf = j.loc[j["signal"] == "enforcement_started", "row"].to_numpy()
        action[enf] = "enforcement"

    topic = np.where(
        np.isin(cat, ("special_mention", "substandard", "doubtful", "loss")), cat, "normal_visit"
    )
    topic = np.where((topic == "normal_visit") & (method == "phone"), "normal_phone", topic)
    topic = np.where(method == "employer_visit", "employer", topic)
    topic = np.where(reason == "machinery_collateral", "machinery", topic)
    topic = np.where(reason == "first_contact", "new", topic)
    findings = np.empty(n, dtype=object)
    for name, texts in _TEMPLATES.items():  # a loop over the handful of topics
        sel = np.flatnonzero(topic == name)
        findings[sel] = np.asarray(texts, dtype=object)[rng.integers(0, len(texts), len(sel))]
    text = pd.Series(findings, dtype="str")
    text = text.where(~has_sig, text + " 发现风险信号 signals observed: " + sig_zh + "。")
    act_zh = pd.Series(action, dtype="str").map(ACTION_ZH)
    text = text.where(action == "none", text + " 建议" + act_zh + " (proposed: " + action + ")。")
    return pd.DataFrame(
        {
            "loan_id": rows["loan_id"].to_numpy(),
            "inspection_date": rows["inspection_date"].to_numpy(),
            "officer_id": rows["officer_id"].astype(str).to_numpy(),
            "method": method,
            "findings": text.to_numpy(),
            "signals": sig,
            "proposed_action": action,
            "category_assessed": np.where(cat == "new", "normal", cat),
        }
    )
