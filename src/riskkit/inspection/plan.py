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
  a plan is reproducible; with ``risk_weighted_sampling``, loans with signals or missed
  periods are ``1 + risk_weight_per_flag x flags`` times as likely to be drawn);
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

from dataclasses import dataclass

import numpy as np
import pandas as pd

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
            "loan_id": np.asarray(ids),
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

    Returns
    -------
    InspectionPlan
    """
    from ..classification import Classifier

    pol = load_policy(policy)
    ip = pol["inspection"]
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
    ndays = (end - start).days + 1
    loans = book.loans
    frames = []

    # 1. first contact within N working days of disbursement
    disb = loans["disbursement_date"].to_numpy().astype("datetime64[D]")
    # N working days after disbursement; a weekend disbursement counts from the Friday before
    # (rolling forward would make the Monday "day 0" and give a sixth working day)
    cal = ip["calendar"]
    fc_due = add_working_days(
        disb, int(ip["first_contact_working_days"]), cal["holidays"], cal["working_weekends"]
    )
    m = (fc_due >= np.datetime64(start.date())) & (fc_due <= np.datetime64(end.date()))
    m &= disb <= np.datetime64(end.date())
    frames.append(_rows(loans["loan_id"].to_numpy()[m], "first_contact", disb[m], fc_due[m]))

    # categories as of the day before the period
    asof = start - pd.Timedelta(days=1)
    if result is None:
        result = Classifier(pol).classify(book.disbursed_by(asof), asof)
    f = result.table
    live = ~f["paid_off"].to_numpy(dtype=bool)
    codes = f["category"].cat.codes.to_numpy()
    ids = f.index.to_numpy()

    # 2. category frequencies (k per month -> due at evenly spaced points of the period)
    per_month = {c: int(ip["per_month"].get(c, 0)) for c in Category.codes()}
    machinery_ids = set()
    if len(book.collateral):
        c = book.collateral
        machinery_ids = set(c.loc[c["collateral_type"] == "machinery", "loan_id"])
    machinery = np.isin(ids, list(machinery_ids)) & live
    mach_k = int(ip["machinery_collateral_per_month"])
    for cat in ("special_mention", "substandard", "doubtful"):
        k = per_month[cat]
        sel = live & (codes == int(Category.parse(cat)))
        for i in range(1, k + 1):
            due = start + pd.Timedelta(days=int(np.ceil(i * ndays / k)) - 1)
            frames.append(_rows(ids[sel], cat, start, due))
        extra = max(mach_k - k, 0)
        for i in range(1, extra + 1):
            due = start + pd.Timedelta(days=int(np.ceil(i * ndays / extra)) - 1)
            frames.append(_rows(ids[sel & machinery], "machinery_collateral", start, due))

    # 3. loss: once every N months
    sel = live & (codes == int(Category.LOSS))
    every = int(ip["loss_every_months"])
    frames.append(
        _rows(ids[sel], "loss", end - pd.DateOffset(months=every) + pd.Timedelta(days=1), end)
    )

    # 4. normal: machinery monthly, the rest sampled
    normal = live & (codes == int(Category.NORMAL))
    for i in range(1, mach_k + 1):
        due = start + pd.Timedelta(days=int(np.ceil(i * ndays / mach_k)) - 1)
        frames.append(_rows(ids[normal & machinery], "machinery_collateral", start, due))
    pool = np.flatnonzero(normal & ~machinery)
    n_sample = int(round(float(ip["normal_sample_share"]) * len(pool)))
    if n_sample:
        rng = np.random.default_rng([int(ip["sampling_seed"]), start.year, start.month, start.day])
        p = None
        if ip["risk_weighted_sampling"]:
            bits = f["rule_bits"].to_numpy()[pool]
            from ..classification.rules import BIT

            sig_mask = np.int64(sum(1 << b for k_, b in BIT.items() if k_.startswith("signal_")))
            u, inv = np.unique(bits & sig_mask, return_inverse=True)
            n_sig = np.array([int(x).bit_count() for x in u], dtype=float)[inv]
            missed = f["missed_periods"].to_numpy()[pool] > 0
            w = 1.0 + float(ip["risk_weight_per_flag"]) * (n_sig + missed)
            p = w / w.sum()
        drawn = np.sort(rng.choice(pool, size=n_sample, replace=False, p=p))
        frames.append(_rows(ids[drawn], "routine_sample", start, end))

    # 5. severe signals: inspect at once
    if ip["severe_signals_immediate"]:
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
        frames.append(
            _rows(s["loan_id"].to_numpy(), "severe_signal", sd, due, s["signal"].to_numpy())
        )

    # 6. a joint-guarantee partner in arrears: inspect the other members' loans at once
    if ip["severe_signals_immediate"] and "guarantor_liability" in ip["severe_signals"]:
        frames.append(_guarantor_liability_rows(book, result, start, pol))

    plan = pd.concat(
        [fr for fr in frames if len(fr)] or [_rows(np.array([], dtype=object), "x", start, end)],
        ignore_index=True,
    )
    plan = plan.sort_values(["loan_id", "due_by", "reason"], kind="stable").reset_index(drop=True)
    # rank within a loan's window: the k-th inspection needed there
    plan["rank"] = plan.groupby(["loan_id", "window_start"]).cumcount() + 1
    info = loans.set_index("loan_id")
    for c in ("officer_id", "branch"):
        if c in info.columns:
            plan[c] = info[c].reindex(plan["loan_id"]).to_numpy()
    plan["category"] = f["category"].astype(str).reindex(plan["loan_id"]).fillna("new").to_numpy()
    plan.insert(0, "plan_id", np.arange(1, len(plan) + 1, dtype=np.int64))
    return InspectionPlan(plan, start, end, pol)


def _guarantor_liability_rows(book, result, start: pd.Timestamp, pol: Policy) -> pd.DataFrame:
    from ..book.groups import guarantor_liability_signals

    s = guarantor_liability_signals(book.loans, book.guarantors, result, pol)
    due = start + pd.Timedelta(days=int(pol["inspection"]["immediate_within_days"]))
    return _rows(s["loan_id"].to_numpy(), "guarantor_liability", start, due, s["note"].to_numpy())


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
        s = self.status(ledger, as_of)
        s["is_due"] = s["due_by"] < as_of
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
