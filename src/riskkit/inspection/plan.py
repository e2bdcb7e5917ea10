"""Inspection plan: which inspections are due, per loan and officer, in a period (policy
``inspection``; seed 002 chapter 1 art. 2-3, DOMAIN.md s.5), and compliance against the
ledger.

Rules (defaults):

* ``first_contact``: the managing officer contacts the borrower within 5 working days of
  disbursement (Mon-Fri less the policy's holidays plus its make-up working days, see
  :mod:`riskkit.inspection.calendar`);
* ``special_mention`` / ``substandard``: at least once a month; ``doubtful``: at least twice
  (due mid-period and at the end);
* ``loss``: once every 12 months (done when inspected in the 12 months up to the period end);
* ``routine_sample``: normal loans are sampled (``normal_sample_share``, seeded per month so
  a plan is reproducible, each loan's draw from its id so that neither the order of the book's
  rows nor splitting the book changes who is drawn; with ``risk_weighted_sampling``, loans
  with signals or missed periods are ``1 + risk_weight_per_flag x flags`` times as likely to
  be drawn);
* ``machinery_collateral``: loans secured by machinery at least monthly;
* ``severe_signal``: a new severe signal (``severe_signals``) calls for an inspection within
  ``immediate_within_days`` days;
* ``guarantor_liability``: a loan whose joint-guarantee partner was at special mention or worse
  at the classification the plan starts from (:mod:`riskkit.book.groups`) is inspected
  within ``immediate_within_days`` days of the period start (when ``guarantor_liability`` is
  one of the ``severe_signals``, as by default).

Each row of the plan is one required inspection with a window ``[window_start, due_by]``; the
*k*-th required inspection of a loan in a window is done when the ledger holds at least *k*
inspections of that loan in it.

Examples
--------
>>> from riskkit.inspection.plan import REASONS
>>> REASONS[:3]
('first_contact', 'special_mention', 'substandard')
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..book.keys import isin_values, positions
from ..categories import Category
from ..policy import Policy, load_policy
from ..results import TableResult
from .calendar import add_working_days
from .signals import active_signals

REASONS = (
    "first_contact",
    "special_mention",
    "substandard",
    "doubtful",
    "loss",
    "routine_sample",
    "machinery_collateral",
    "severe_signal",
    "guarantor_liability",
)
_COLS = ["loan_id", "reason", "window_start", "due_by", "detail"]


def _rows(ids, reason, window_start, due_by, detail=""):
    n = len(ids)
    return pd.DataFrame(
        {
            "loan_id": np.asarray(ids) if n else np.array([], dtype=object),  # ids, even none
            "reason": reason,
            "window_start": np.broadcast_to(np.asarray(window_start, "datetime64[ns]"), n),
            "due_by": np.broadcast_to(np.asarray(due_by, "datetime64[ns]"), n),
            "detail": np.broadcast_to(np.asarray(detail, dtype=object), n),
        }
    )


def inspection_plan(
    book,
    start,
    end=None,
    result=None,
    policy: Policy | dict | str | None = None,
    store=None,
    extra_signals=None,
    sample_threshold: float | None = None,
) -> InspectionPlan:
    """Inspections due in ``[start, end]`` for every loan of ``book``.

    Parameters
    ----------
    book : LoanBook
    start, end : date-like
        The period (default ``end``: last day of ``start``'s month).
    result : ClassificationResult, optional
        Categories to plan from (normally the month-end before ``start``); default: classify
        ``book`` as of the day before ``start``.
    policy : Policy, mapping or path, optional
    store : Store, optional
        Manually recorded signals are read from it.
    extra_signals : DataFrame, optional
        More signals (e.g. :func:`~riskkit.inspection.detect_signals`).
    sample_threshold : float, optional
        Draw the routine sample above this key (see :func:`draw_threshold`); default: the
        threshold of ``book``'s own pool. A book split in partitions passes the threshold of
        the whole pool, so every partition draws exactly the loans the whole book would.

    Returns
    -------
    InspectionPlan
    """
    from ..classification import Classifier

    pol = load_policy(policy)
    ip = pol["inspection"]
    start, end = _period(start, end)
    # categories as of the day before the period
    asof = start - pd.Timedelta(days=1)
    if result is None:
        result = Classifier(pol).classify(book.disbursed_by(asof), asof)
    f = result.table
    live = ~f["paid_off"].to_numpy(dtype=bool)
    machinery = _machinery_secured(book, f) & live
    frames = [_first_contact_rows(book.loans, start, end, ip)]
    frames += _category_rows(f, live, machinery, start, end, ip)
    frames += _normal_rows(f, live, machinery, start, end, pol, sample_threshold)
    if ip["severe_signals_immediate"]:
        frames.append(_severe_signal_rows(book, start, end, pol, store, extra_signals))
    # a joint-guarantee partner in arrears: inspect the other members' loans at once
    if ip["severe_signals_immediate"] and "guarantor_liability" in ip["severe_signals"]:
        frames.append(_guarantor_liability_rows(book, result, start, pol))
    plan = _plan_table(frames, book.loans, f, start, end)
    return InspectionPlan(plan, start, end, pol)


def _period(start, end) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The plan's period: ``end`` defaults to the last day of ``start``'s month."""
    start = pd.Timestamp(start).normalize()
    end = (
        pd.Timestamp(end).normalize()
        if end is not None
        else start + pd.offsets.MonthEnd(0)
        if not start.is_month_end
        else start
    )
    if end < start:
        raise ValueError(f"period end {end.date()} is before its start {start.date()}")
    return start, end


def _due_dates(start: pd.Timestamp, end: pd.Timestamp, k: int) -> list[pd.Timestamp]:
    """``k`` inspections a period: due at evenly spaced points of it (the last on ``end``)."""
    ndays = (end - start).days + 1
    return [start + pd.Timedelta(days=int(np.ceil(i * ndays / k)) - 1) for i in range(1, k + 1)]


def _first_contact_rows(loans: pd.DataFrame, start, end, ip) -> pd.DataFrame:
    """First contact within N working days of disbursement, when that falls in the period."""
    disb = loans["disbursement_date"].to_numpy().astype("datetime64[D]")
    # N working days after disbursement; a weekend disbursement counts from the Friday before
    # (rolling forward would make the Monday "day 0" and give a sixth working day)
    cal = ip["calendar"]
    fc_due = add_working_days(
        disb, int(ip["first_contact_working_days"]), cal["holidays"], cal["working_weekends"]
    )
    m = (fc_due >= np.datetime64(start.date())) & (fc_due <= np.datetime64(end.date()))
    m &= disb <= np.datetime64(end.date())
    return _rows(loans["loan_id"].to_numpy()[m], "first_contact", disb[m], fc_due[m])


def _machinery_secured(book, f: pd.DataFrame) -> np.ndarray:
    """Per row of the classification table ``f``: the loan is secured by machinery."""
    if not len(book.collateral):
        return np.zeros(len(f), dtype=bool)
    c = book.collateral
    mach = c.loc[(c["collateral_type"] == "machinery").to_numpy(dtype=bool), "loan_id"]
    return isin_values(f.index, mach)  # hashed once, not a scan per id


def _category_rows(f, live, machinery, start, end, ip) -> list[pd.DataFrame]:
    """Special mention, substandard, doubtful: ``per_month`` inspections, machinery-secured
    loans topped up to ``machinery_collateral_per_month``; loss: once every N months."""
    codes = f["category"].cat.codes.to_numpy()
    ids = f.index.to_numpy()
    per_month = {c: int(ip["per_month"].get(c, 0)) for c in Category.codes()}
    mach_k = int(ip["machinery_collateral_per_month"])
    frames = []
    for cat in ("special_mention", "substandard", "doubtful"):
        k = per_month[cat]
        sel = live & (codes == int(Category.parse(cat)))
        frames += [_rows(ids[sel], cat, start, due) for due in _due_dates(start, end, k)]
        extra = max(mach_k - k, 0)
        frames += [
            _rows(ids[sel & machinery], "machinery_collateral", start, due)
            for due in _due_dates(start, end, extra)
        ]
    sel = live & (codes == int(Category.LOSS))
    every = int(ip["loss_every_months"])
    window_start = end - pd.DateOffset(months=every) + pd.Timedelta(days=1)
    frames.append(_rows(ids[sel], "loss", window_start, end))
    return frames


def _normal_rows(f, live, machinery, start, end, pol, sample_threshold) -> list[pd.DataFrame]:
    """Normal loans: machinery-secured ones monthly, the rest sampled (``routine_sample``)."""
    ids = f.index.to_numpy()
    normal = live & (f["category"].cat.codes.to_numpy() == int(Category.NORMAL))
    mach_k = int(pol["inspection"]["machinery_collateral_per_month"])
    frames = [
        _rows(ids[normal & machinery], "machinery_collateral", start, due)
        for due in _due_dates(start, end, mach_k)
    ]
    pool = np.flatnonzero(normal & ~machinery)
    keys = sample_keys(f, pool, start, pol)
    if sample_threshold is None:
        sample_threshold = draw_threshold([keys], pol)
    drawn = pool[keys >= sample_threshold]
    if len(drawn):
        frames.append(_rows(ids[drawn], "routine_sample", start, end))
    return frames


def _severe_signal_rows(book, start, end, pol, store, extra_signals) -> pd.DataFrame:
    """A new severe signal in the period: inspect within ``immediate_within_days`` days."""
    ip = pol["inspection"]
    s = active_signals(book, end, pol, store=store, detect=False)
    if extra_signals is not None and len(extra_signals):
        s = pd.concat([s, pd.DataFrame(extra_signals)], ignore_index=True)
    s = s[
        s["signal"].isin(ip["severe_signals"]).to_numpy(dtype=bool)
        & (s["signal_date"] >= start).to_numpy(dtype=bool)
        & (s["signal_date"] <= end).to_numpy(dtype=bool)
    ]
    s = s.sort_values("signal_date").drop_duplicates(["loan_id", "signal_date"])
    sd = s["signal_date"].to_numpy().astype("datetime64[D]")
    due = sd + np.timedelta64(int(ip["immediate_within_days"]), "D")
    return _rows(s["loan_id"].to_numpy(), "severe_signal", sd, due, s["signal"].to_numpy())


def _plan_table(frames, loans: pd.DataFrame, f: pd.DataFrame, start, end) -> pd.DataFrame:
    """The plan's rows in order (loan, due date, reason), ranked within each loan's window,
    with the loan's officer, branch and category (``new`` for loans disbursed since)."""
    plan = pd.concat(
        [fr for fr in frames if len(fr)] or [_rows(np.array([], dtype=object), "x", start, end)],
        ignore_index=True,
    )
    plan = plan.sort_values(["loan_id", "due_by", "reason"], kind="stable").reset_index(drop=True)
    # rank within a loan's window: the k-th inspection needed there
    plan["rank"] = plan.groupby(["loan_id", "window_start"]).cumcount() + 1
    at = positions(loans["loan_id"], plan["loan_id"])
    for c in ("officer_id", "branch"):
        if c in loans.columns:
            plan[c] = loans[c].array.take(at, allow_fill=True)
    cat = f["category"].astype(str).array.take(positions(f.index, plan["loan_id"]), allow_fill=True)
    plan["category"] = pd.Series(cat).fillna("new").to_numpy()
    plan.insert(0, "plan_id", np.arange(1, len(plan) + 1, dtype=np.int64))
    return plan


def _guarantor_liability_rows(book, result, start: pd.Timestamp, pol: Policy) -> pd.DataFrame:
    from ..book.groups import guarantor_liability_signals

    s = guarantor_liability_signals(book.loans, book.guarantors, result, pol)
    due = start + pd.Timedelta(days=int(pol["inspection"]["immediate_within_days"]))
    return _rows(s["loan_id"].to_numpy(), "guarantor_liability", start, due, s["note"].to_numpy())


def sample_pool(book, start, result, policy: Policy | dict | str | None = None) -> np.ndarray:
    """The sampling keys of the normal loans of ``book`` eligible for the routine sample of
    the period starting ``start`` (live, normal in ``result``, not secured by machinery)."""
    pol = load_policy(policy)
    f = result.table
    live = ~f["paid_off"].to_numpy(dtype=bool)
    normal = live & (f["category"].cat.codes.to_numpy() == int(Category.NORMAL))
    machinery = np.zeros(len(f), dtype=bool)
    if len(book.collateral):
        c = book.collateral
        mach = c.loc[(c["collateral_type"] == "machinery").to_numpy(dtype=bool), "loan_id"]
        machinery = isin_values(f.index, mach)
    pool = np.flatnonzero(normal & ~machinery)
    return sample_keys(f, pool, pd.Timestamp(start).normalize(), pol)


def sample_keys(f: pd.DataFrame, pool: np.ndarray, start: pd.Timestamp, policy) -> np.ndarray:
    """Weighted sampling keys (Efraimidis-Spirakis: ``log(u) / w``; the ``n`` largest keys are
    a weighted sample of ``n`` without replacement) of the loans ``pool`` (rows of ``f``).

    ``u`` is a uniform drawn from the loan id and the policy's ``sampling_seed`` and period
    start, so a loan's draw does not depend on the order of the book's rows or on how the
    book is split; ``w`` is 1, or with ``risk_weighted_sampling`` ``1 + risk_weight_per_flag
    x flags`` (active signals and missed periods)."""
    ip = policy["inspection"]
    tag = f"{int(ip['sampling_seed'])}|{start.year}|{start.month}|{start.day}"
    key = hashlib.blake2b(tag.encode(), digest_size=8).hexdigest()
    ids = np.asarray(pd.Series(f.index.array).iloc[pool].astype(object), dtype=object)
    h = pd.util.hash_array(ids, hash_key=key, categorize=True)
    u = ((h >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
    w = np.ones(len(pool))
    if ip["risk_weighted_sampling"] and len(pool):
        from ..classification.rules import BIT

        bits = f["rule_bits"].to_numpy()[pool]
        sig_mask = np.int64(sum(1 << b for k_, b in BIT.items() if k_.startswith("signal_")))
        uniq, inv = np.unique(bits & sig_mask, return_inverse=True)
        n_sig = np.array([int(x).bit_count() for x in uniq], dtype=float)[inv]
        missed = f["missed_periods"].to_numpy()[pool] > 0
        w = 1.0 + float(ip["risk_weight_per_flag"]) * (n_sig + missed)
    return np.log(u) / w


def draw_threshold(keys: list[np.ndarray], policy: Policy | dict | str | None = None) -> float:
    """The key above which a loan is drawn: the ``round(normal_sample_share x pool)``-th
    largest of all ``keys`` (the pools of every partition of a book); inf when none."""
    share = float(load_policy(policy)["inspection"]["normal_sample_share"])
    allkeys = np.concatenate(keys) if keys else np.zeros(0)
    n = int(round(share * len(allkeys)))
    if n <= 0:
        return float("inf")
    return float(np.partition(allkeys, len(allkeys) - n)[len(allkeys) - n])


def compliance_table(status: pd.DataFrame, as_of, by="officer_id") -> pd.DataFrame:
    """:meth:`InspectionPlan.compliance` from a status table (:meth:`InspectionPlan.status`,
    or the status tables of a book's partitions stacked)."""
    s = status.assign(is_due=status["due_by"] < pd.Timestamp(as_of))
    counts = pd.crosstab(s[by], s["status"]).reindex(
        columns=["done", "late", "overdue", "pending"], fill_value=0
    )
    done_when_due = (s["is_due"] & (s["status"] == "done")).groupby(s[by]).sum()
    out = pd.concat(
        [
            s.groupby(by).size().rename("planned"),
            s.groupby(by)["is_due"].sum().rename("due"),
            counts,
        ],
        axis=1,
    )
    out["compliance_rate"] = np.where(
        out["due"] > 0, done_when_due / out["due"].where(out["due"] > 0, 1), np.nan
    )
    return out


@dataclass(repr=False, eq=False)
class InspectionPlan(TableResult):
    """Required inspections of a period (``table``, one row per inspection), with compliance
    against the ledger."""

    table: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp
    policy: Policy

    def __post_init__(self) -> None:
        self.start = pd.Timestamp(self.start)
        self.end = pd.Timestamp(self.end)

    def by_officer(self) -> pd.DataFrame:
        """Required inspections per officer and reason."""
        return self.table.pivot_table(
            index="officer_id", columns="reason", values="plan_id", aggfunc="count", fill_value=0
        )

    def status(self, ledger: pd.DataFrame, as_of=None) -> pd.DataFrame:
        """The plan with ``done`` (inspections in the window by ``due_by``), ``status``:
        ``done``, ``late`` (done after ``due_by`` but by ``as_of``), ``overdue`` (not done,
        ``due_by`` before ``as_of``) or ``pending``."""
        as_of = pd.Timestamp(as_of) if as_of is not None else self.end
        t = self.table
        led = ledger[["loan_id", "inspection_date"]]
        led = led[led["inspection_date"] <= as_of]
        j = t[["plan_id", "loan_id", "window_start", "due_by"]].merge(led, on="loan_id")
        inw = j["inspection_date"] >= j["window_start"]
        on_time = (inw & (j["inspection_date"] <= j["due_by"])).groupby(j["plan_id"]).sum()
        by_asof = inw.groupby(j["plan_id"]).sum()
        n_on = on_time.reindex(t["plan_id"]).fillna(0).to_numpy()
        n_any = by_asof.reindex(t["plan_id"]).fillna(0).to_numpy()
        rank = t["rank"].to_numpy()
        due = t["due_by"].to_numpy() < np.datetime64(as_of)
        status = np.select(
            [n_on >= rank, n_any >= rank, due], ["done", "late", "overdue"], default="pending"
        )
        return t.assign(status=status, overdue=status == "overdue")

    def compliance(self, ledger: pd.DataFrame, as_of=None, by="officer_id") -> pd.DataFrame:
        """Due vs done vs overdue per officer (or ``by="branch"``): ``due`` counts the
        inspections whose deadline has passed; ``compliance_rate`` is the share of those done
        on time (an inspection done early, before its deadline has passed, counts in ``done``
        but not in the rate until it is due)."""
        as_of = pd.Timestamp(as_of) if as_of is not None else self.end
        return compliance_table(self.status(ledger, as_of), as_of, by)

    def __repr__(self) -> str:
        c = self.table["reason"].value_counts()
        parts = ", ".join(f"{r}={c.get(r, 0):,}" for r in REASONS if c.get(r, 0))
        return (
            f"InspectionPlan({self.start.date()}..{self.end.date()}: {len(self):,} inspections"
            f"{', ' + parts if parts else ''})"
        )

    def _repr_html_(self) -> str:
        c = self.table["reason"].value_counts().rename("inspections").to_frame()
        return (
            f"<div><b>Inspection plan 贷后检查计划</b> {self.start.date()} – {self.end.date()}: "
            f"{len(self):,} inspections{c.to_html()}</div>"
        ).replace("\n", "")
