"""Realised (workout) loss given default from the loans' own history.

**Default.** A loan defaults at the first month-end of the classification history at which it
is non-performing (substandard, doubtful or loss) on the balance sheet; its exposure at default
(EAD) is the outstanding principal then. A loan already non-performing at the first month of
the history defaulted earlier: it is left out (its default date and EAD are unknown) and
counted.

**Resolution.** The first of: written off (the write-off register; recoveries for
``workout.post_write_off_months`` after it still count, 账销案存); paid off (closed: the
balance came back through the workout, *recovered*); cured (back in a performing category for
``workout.cure_months`` consecutive month-ends: the remaining balance is worth its face value
again). A default with none of these is still open: older than ``workout.max_workout_months``
it is *deemed closed* at its recoveries to date (the maximum length of a recovery process),
otherwise it is *unresolved*: an open workout, a censored observation.

**Loss.** Every payment after the default date (from the borrower, a guarantor, the sale of
collateral or an estate; ``payments.source``) up to the end of the workout, less workout costs
(``workout.cost_ratio`` of each payment by who paid), discounted to the default date at the
loan's effective (contractual) rate, plus for a cure the balance at the cure date, discounted:

    ``LGD = 1 - (sum PV(recovery - cost) + PV(balance at cure)) / EAD``, clipped to [0, 1].

**Open workouts (no survivorship bias).** Leaving the open workouts out understates LGD: the
quick workouts (cures, pay-offs) resolve first, the long, lossy ones are still open. Every
default therefore enters the estimate; an open workout ``t`` whole months in workout
(``workout.open_workouts``, :func:`project_open_workouts`):

* ``recovery_curve`` (default): its loss to date less the mean further recovery (after month
  ``t``, as a share of EAD) of the resolved workouts of its guarantee type that lasted longer
  than ``t`` (none: nothing more is expected);
* ``loss_to_date``: its loss to date (nothing more recovered);

and in both cases at least the mean LGD of its guarantee type's resolved workouts, so adding
open workouts never lowers the estimate.

**Segments.** By guarantee type and, for mortgage and pledge loans, by collateral type: the
default-weighted mean LGD over all defaults (``lgd_mean``, open workouts projected) with a
percentile bootstrap confidence interval (``workout.confidence``, ``workout.bootstrap_draws``
draws, seeded), the EAD-weighted mean, ``lgd_resolved`` (resolved workouts only, for
comparison) and ``lgd_incl_open`` (open workouts at their loss to date, the upper bound). A
guarantee type's estimate replaces the policy constant (``limits.lgd``) once it rests on at
least ``workout.min_resolved`` resolved defaults; the table says which was used (``source``).

Examples
--------
>>> import pandas as pd
>>> h = pd.DataFrame({"loan_id": ["A"] * 4, "as_of": pd.date_range("2026-01-31", periods=4,
...     freq="ME"), "category": ["normal", "substandard", "doubtful", "normal"],
...     "outstanding_principal": [1000.0, 1000.0, 1000.0, 0.0],
...     "paid_off": [False, False, False, True], "written_off": [False] * 4})
>>> ev = default_events(h, cure_months=3)
>>> ev[["default_date", "ead", "resolution"]].to_dict("records")[0]["resolution"]
'recovered'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..categories import Category
from ..policy import Policy, load_policy

_NPL = [c.code for c in Category if c.is_npl]
_PERFORMING = [c.code for c in Category if not c.is_npl]
DAYS_PER_MONTH = 365.25 / 12
RESOLUTIONS = ("recovered", "written_off", "cured", "deemed_closed", "unresolved")


def _sorted_history(history: pd.DataFrame) -> pd.DataFrame:
    cols = ["loan_id", "as_of", "category", "outstanding_principal", "paid_off"]
    missing = [c for c in cols if c not in history.columns]
    if missing:
        raise KeyError(f"classification history lacks column(s) {missing}")
    h = history[cols + [c for c in ("written_off",) if c in history.columns]].copy()
    if "written_off" not in h.columns:
        h["written_off"] = False
    h["category"] = h["category"].astype(str)
    h["loan_id"] = h["loan_id"].astype(object)
    return h.sort_values(["loan_id", "as_of"], kind="stable", ignore_index=True)


def _first_per_loan(h: pd.DataFrame, mask: np.ndarray, col: str) -> pd.Series:
    """Per loan: value of ``col`` at the first row where ``mask`` holds."""
    sel = h[mask]
    return sel.groupby("loan_id", sort=False)[col].first()


def _cure_dates(post: pd.DataFrame, cure_months: int) -> pd.Series:
    """Per loan: first month-end of a run of ``cure_months`` consecutive performing month-ends
    on the balance sheet (after default)."""
    perf = (
        post["category"].isin(_PERFORMING).to_numpy()
        & ~post["paid_off"].to_numpy(dtype=bool)
        & ~post["written_off"].to_numpy(dtype=bool)
    )
    if not len(post):
        return pd.Series(dtype="datetime64[ns]", index=pd.Index([], name="loan_id"))
    loan = pd.factorize(post["loan_id"])[0]
    new_run = np.r_[True, (loan[1:] != loan[:-1]) | (perf[1:] != perf[:-1])]
    run = np.cumsum(new_run)
    length = np.bincount(run, weights=perf.astype(float))[run]
    start = new_run & perf & (length >= cure_months)
    return post[start].groupby("loan_id", sort=False)["as_of"].first()


def default_events(
    history: pd.DataFrame, cure_months: int = 3, max_workout_months: int | None = None
) -> pd.DataFrame:
    """Default events and their resolution from a classification history (one row per loan
    and month-end: ``loan_id``, ``as_of``, ``category``, ``outstanding_principal``,
    ``paid_off`` and, when write-offs are recorded, ``written_off``).

    Returns
    -------
    DataFrame indexed by loan_id: ``default_date``, ``ead``, ``resolution`` (one of
    :data:`RESOLUTIONS`), ``resolution_date`` (NaT when unresolved) and ``cure_balance``
    (the outstanding principal at a cure). Loans non-performing at their first month in the
    history are left out; ``attrs["left_censored"]`` counts them.
    """
    h = _sorted_history(history)
    on_book = ~h["paid_off"].to_numpy(dtype=bool) & ~h["written_off"].to_numpy(dtype=bool)
    npl = h["category"].isin(_NPL).to_numpy() & on_book
    first_row = ~h["loan_id"].duplicated().to_numpy()
    censored = pd.Index(h.loc[first_row & npl, "loan_id"])
    d_date = _first_per_loan(h, npl, "as_of")
    d_date = d_date[~d_date.index.isin(censored)]
    ead = _first_per_loan(h, npl, "outstanding_principal").reindex(d_date.index)
    after = h["as_of"].to_numpy() > h["loan_id"].map(d_date).to_numpy(dtype="datetime64[ns]")
    post = h[after & h["loan_id"].isin(d_date.index).to_numpy()]
    written = _first_per_loan(post, post["written_off"].to_numpy(dtype=bool), "as_of")
    paid = _first_per_loan(
        post, post["paid_off"].to_numpy(dtype=bool) & ~post["written_off"].to_numpy(bool), "as_of"
    )
    cured = _cure_dates(post, int(cure_months))
    dates = pd.DataFrame(
        {"recovered": paid, "written_off": written, "cured": cured}, index=d_date.index
    )
    stamp = dates.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    nat = np.iinfo(np.int64).min
    stamp = np.where(stamp == nat, np.iinfo(np.int64).max, stamp)
    kinds = np.asarray(dates.columns, dtype=object)[stamp.argmin(axis=1)]
    none = (stamp == np.iinfo(np.int64).max).all(axis=1)
    first = pd.Series(np.where(none, "unresolved", kinds), index=dates.index)
    if max_workout_months is not None:
        last = h["as_of"].max()
        old = d_date + pd.DateOffset(months=int(max_workout_months)) <= last
        first = first.where(~((first == "unresolved") & old), "deemed_closed")
    out = pd.DataFrame(
        {
            "default_date": d_date,
            "ead": ead.astype(float),
            "resolution": first.astype(str),
            "resolution_date": dates.min(axis=1),
        }
    )
    cure_bal = h.set_index(["loan_id", "as_of"])["outstanding_principal"]
    key = pd.MultiIndex.from_arrays([out.index, out["resolution_date"]])
    out["cure_balance"] = np.where(
        out["resolution"] == "cured", cure_bal.reindex(key).to_numpy(dtype=float), 0.0
    )
    out.index.name = "loan_id"
    out.attrs["left_censored"] = len(censored)
    return out


def _discount_rate(loans: pd.DataFrame, ids: pd.Index, pol: Policy) -> np.ndarray:
    how = pol["workout"]["discount"]
    if isinstance(how, str):
        if how != "effective_rate":
            raise ValueError(f"workout.discount must be 'effective_rate' or a number, got {how!r}")
        return loans.set_index("loan_id")["annual_rate"].reindex(ids).to_numpy(dtype=float)
    return np.full(len(ids), float(how))


def _workout_payments(book, events: pd.DataFrame, as_of, pol: Policy) -> dict:
    """The recovery payments of each default (positions ``p`` in ``events``), with their
    cost, present value at the default date and months since the default."""
    wk = pol["workout"]
    ev = events
    ids = pd.Index(ev.index)
    cap = pd.Timestamp(as_of)
    end = ev["resolution_date"].fillna(cap)
    wo = (ev["resolution"] == "written_off").to_numpy()
    end[wo] = (end[wo] + pd.DateOffset(months=int(wk["post_write_off_months"]))).clip(upper=cap)
    pay = book.payments
    pos = ids.get_indexer(pay["loan_id"].astype(object))
    day = pay["payment_date"].to_numpy(dtype="datetime64[ns]")
    d0 = ev["default_date"].to_numpy(dtype="datetime64[ns]")
    d1 = end.to_numpy(dtype="datetime64[ns]")
    ok = pos >= 0
    ok[ok] = (day[ok] > d0[pos[ok]]) & (day[ok] <= d1[pos[ok]])
    p, amt, when = pos[ok], pay["amount"].to_numpy(dtype=float)[ok], day[ok]
    src = pay["source"].astype(object).fillna("borrower") if "source" in pay else None
    src = src.to_numpy()[ok] if src is not None else np.full(len(p), "borrower", dtype=object)
    ratio = pd.Series(wk["cost_ratio"]).reindex(pd.unique(src)).fillna(0.0)
    cost = amt * ratio.reindex(src).to_numpy(dtype=float)
    rate = _discount_rate(book.loans, ids, pol)
    months = (when - d0[p]).astype("timedelta64[s]").astype(float) / 86400 / DAYS_PER_MONTH
    after_wo = when > ev["resolution_date"].fillna(cap).to_numpy(dtype="datetime64[ns]")[p]
    cure_m = (d1 - d0).astype("timedelta64[s]").astype(float) / 86400 / DAYS_PER_MONTH
    return {
        "p": p,
        "amount": amt,
        "cost": cost,
        "pv_net": (amt - cost) * np.power(1 + rate[p] / 12, -months),
        "months": months,
        "after_write_off": wo[p] & after_wo,
        "pv_cure": ev["cure_balance"].to_numpy() * np.power(1 + rate / 12, -cure_m),
        "cure_months": cure_m,
    }


def workout_cash_flows(book, events: pd.DataFrame, as_of, policy=None) -> pd.DataFrame:
    """Recovery cash flows of each default, discounted to its default date.

    A payment counts when it falls after the default date and, for a loan recovered or cured,
    on or before the resolution date; for a written-off loan, up to
    ``workout.post_write_off_months`` after the write-off (and the as-of date); for an
    unresolved default, up to the as-of date (recoveries to date).

    Returns
    -------
    DataFrame indexed by loan_id: ``recoveries`` (cash), ``costs``,
    ``pv_net`` (present value of recoveries less costs), ``pv_cure`` (present value of the
    balance at a cure) and ``recoveries_after_write_off``.
    """
    w = _workout_payments(book, events, as_of, load_policy(policy))
    p, n = w["p"], len(events)
    return pd.DataFrame(
        {
            "recoveries": np.bincount(p, weights=w["amount"], minlength=n),
            "costs": np.bincount(p, weights=w["cost"], minlength=n),
            "pv_net": np.bincount(p, weights=w["pv_net"], minlength=n),
            "pv_cure": w["pv_cure"],
            "recoveries_after_write_off": np.bincount(
                p, weights=np.where(w["after_write_off"], w["amount"], 0.0), minlength=n
            ),
        },
        index=pd.Index(events.index),
    )


def recovery_by_month(events: pd.DataFrame, flows: dict, last_month: int) -> np.ndarray:
    """Cumulative recovery (present value net of costs, a cure's balance at its cure month)
    as a share of EAD, per default (rows) by whole months in workout ``0..last_month``
    (columns) and a last column with everything (later recoveries included).

    A payment ``x`` months after the default counts from month ``ceil(x)`` on.
    """
    n = len(events)
    k = np.clip(np.ceil(flows["months"]).astype(np.int64), 0, last_month + 1)
    inc = np.zeros((n, last_month + 2))
    np.add.at(inc, (flows["p"], k), flows["pv_net"])
    cured = (events["resolution"] == "cured").to_numpy()
    kc = np.clip(np.ceil(flows["cure_months"]).astype(np.int64), 0, last_month + 1)
    inc[np.flatnonzero(cured), kc[cured]] += flows["pv_cure"][cured]
    ead = events["ead"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.cumsum(inc, axis=1) / np.where(ead > 0, ead, np.nan)[:, None]


def _months_in_workout(events: pd.DataFrame, as_of) -> np.ndarray:
    """Whole months from the default to the resolution (open: to ``as_of``)."""
    end = events["resolution_date"].fillna(pd.Timestamp(as_of))
    days = (end - events["default_date"]).dt.days.to_numpy(dtype=float)
    return np.floor(days / DAYS_PER_MONTH + 1e-9).astype(np.int64)


def project_open_workouts(loans: pd.DataFrame, cum: np.ndarray, as_of, how: str) -> np.ndarray:
    """LGD of every default, the open workouts (``resolution == "unresolved"``) projected.

    ``how="loss_to_date"``: an open workout counts at its loss to date (nothing more
    recovered). ``how="recovery_curve"`` (censored observations): an open workout ``t`` whole
    months in workout expects the mean further recovery (after month ``t``) of the resolved
    workouts of its guarantee type that lasted longer than ``t`` (none: nothing more), so
    ``LGD = loss to date - further recovery``. Either way an open workout's LGD is at least
    the mean LGD of its guarantee type's resolved workouts: the workouts still open are the
    longer, harder ones, and adding them never lowers the estimate.

    Parameters
    ----------
    loans : DataFrame
        Per default: ``resolution``, ``guarantee_type``, ``lgd`` (resolved; NaN when open),
        ``lgd_to_date``, ``default_date``, ``resolution_date``.
    cum : ndarray
        :func:`recovery_by_month` of the same defaults.
    as_of : date-like
    how : {"recovery_curve", "loss_to_date"}
    """
    if how not in ("recovery_curve", "loss_to_date"):
        raise ValueError(f"workout.open_workouts must be recovery_curve or loss_to_date: {how!r}")
    lgd = loans["lgd"].to_numpy(dtype=float).copy()
    is_open = (loans["resolution"] == "unresolved").to_numpy()
    t = np.minimum(_months_in_workout(loans, as_of), cum.shape[1] - 2)
    gtype = loans["guarantee_type"].astype(str).to_numpy()
    for g in pd.unique(gtype[is_open]):  # guarantee types, not loans
        seg = gtype == g
        res, op = np.flatnonzero(seg & ~is_open), np.flatnonzero(seg & is_open)
        floor = np.nanmean(lgd[res]) if len(res) else 0.0
        further = np.zeros(len(op))
        if how == "recovery_curve" and len(res):
            left = cum[res, -1][:, None] - cum[res, :-1]  # (resolved, month): still to come
            longer = t[res][:, None] > np.arange(cum.shape[1] - 1)[None, :]
            total = np.where(longer, np.nan_to_num(left), 0.0).sum(axis=0)
            count = longer.sum(axis=0)
            by_t = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
            further = by_t[t[op]]
        own = np.clip(loans["lgd_to_date"].to_numpy(dtype=float)[op] - further, 0.0, 1.0)
        lgd[op] = np.maximum(own, floor)
    return lgd


def _bootstrap_ci(values: np.ndarray, draws: int, conf: float, rng) -> tuple[float, float]:
    n = len(values)
    if n < 2:
        return (np.nan, np.nan)
    means = values[rng.integers(0, n, (int(draws), n))].mean(axis=1)
    a = (1 - conf) / 2
    lo, hi = np.quantile(means, [a, 1 - a])
    return float(lo), float(hi)


def _segment_row(g: pd.DataFrame, wk, rng) -> dict:
    """One segment's defaults: counts, the estimate (open workouts projected) with its
    bootstrap interval, the resolved-only mean and the loss-to-date bound."""
    res = g[g["resolution"] != "unresolved"]
    est = g["lgd_estimate"].to_numpy(dtype=float)
    lo, hi = _bootstrap_ci(est, wk["bootstrap_draws"], wk["confidence"], rng)
    ead = g["ead"].to_numpy(dtype=float)
    resolved = res["lgd"].to_numpy(dtype=float)
    to_date = g["lgd_to_date"].to_numpy(dtype=float)
    return {
        "defaults": len(g),
        "resolved": len(res),
        "unresolved": int((g["resolution"] == "unresolved").sum()),
        "recovered": int((res["resolution"] == "recovered").sum()),
        "cured": int((res["resolution"] == "cured").sum()),
        "written_off": int((res["resolution"] == "written_off").sum()),
        "deemed_closed": int((res["resolution"] == "deemed_closed").sum()),
        "ead": float(ead.sum()),
        "lgd_mean": float(est.mean()) if len(est) else np.nan,
        "ci_lower": lo,
        "ci_upper": hi,
        "lgd_ead_weighted": float((est * ead).sum() / ead.sum()) if ead.sum() else np.nan,
        # resolved workouts only (survivorship-biased: shown for comparison)
        "lgd_resolved": float(resolved.mean()) if len(resolved) else np.nan,
        # open workouts counted as if nothing more came in: a conservative bound
        "lgd_incl_open": float(to_date.mean()) if len(to_date) else np.nan,
    }


SEGMENT_COLUMNS = (
    "defaults", "resolved", "unresolved", "recovered", "cured", "written_off", "deemed_closed",
    "ead", "lgd_mean", "ci_lower", "ci_upper", "lgd_ead_weighted", "lgd_resolved",
    "lgd_incl_open",
)  # fmt: skip


def _segment_table(loans: pd.DataFrame, by: str, pol: Policy, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [
        {by: key, **_segment_row(g, pol["workout"], rng)}
        for key, g in loans.groupby(by, sort=True)  # segments, not loans
    ]
    if not rows:
        return pd.DataFrame(columns=list(SEGMENT_COLUMNS), index=pd.Index([], name=by))
    return pd.DataFrame(rows).set_index(by)


@dataclass
class LGDResult:
    """Realised LGD: per default event (``loans``), by guarantee type (``table``, the main
    table, with the LGD used and its source) and by collateral type (``by_collateral``)."""

    loans: pd.DataFrame
    table: pd.DataFrame
    by_collateral: pd.DataFrame
    as_of: pd.Timestamp
    min_resolved: int
    left_censored: int = 0

    def to_frame(self) -> pd.DataFrame:
        """The table by guarantee type with ``guarantee_type`` as a column."""
        return self.table.reset_index()

    def lgd_for(self, guarantee_type) -> np.ndarray:
        """The LGD used for loans of these guarantee types (realised or policy constant)."""
        used = self.table["lgd_used"]
        g = pd.Series(np.asarray(guarantee_type, dtype=object))
        out = g.map(used).to_numpy(dtype=float)
        if np.isnan(out).any():
            unknown = sorted(set(g[np.isnan(out)].astype(str)))
            raise KeyError(f"no LGD for guarantee type(s) {unknown}")
        return out

    def __repr__(self) -> str:
        t = self.table
        parts = ", ".join(f"{k}={r.lgd_used:.1%} ({r.source})" for k, r in t.iterrows())
        return (
            f"LGDResult(as_of={self.as_of.date()}, defaults={len(self.loans):,}, "
            f"resolved={int(t['resolved'].sum()):,}, {parts})"
        )

    def _repr_html_(self) -> str:
        return (
            f"<div><b>Realised LGD 回收损失率</b> as of {self.as_of.date()}: "
            f"{len(self.loans):,} defaults, {int(self.table['resolved'].sum()):,} resolved"
            f"{self.table.to_html(float_format=lambda v: f'{v:,.4f}')}</div>"
        ).replace("\n", "")


def _collateral_type(book) -> pd.Series:
    c = book.collateral
    if len(c) == 0:
        return pd.Series(dtype=object)
    first = c.sort_values(["loan_id", "valuation_date"], kind="stable")
    return first.groupby(first["loan_id"].astype(object), sort=False)["collateral_type"].first()


def realised_lgd(
    book, history: pd.DataFrame, as_of=None, policy: Policy | dict | str | None = None, seed=0
) -> LGDResult:
    """Workout LGD per default and by segment, with confidence intervals.

    Parameters
    ----------
    book : LoanBook
        Loans (guarantee type, rate), payments (with ``source``), collateral.
    history : DataFrame
        Classification history (see :func:`default_events`), e.g.
        :func:`riskkit.reports.migration_report.classification_history` over the book's life.
    as_of : date-like, optional
        Default: the last month-end of ``history``.
    policy : Policy, mapping or path, optional
        ``workout`` section; ``limits.lgd`` for the policy constants.
    seed : int
        Bootstrap seed.

    Returns
    -------
    LGDResult
    """
    pol = load_policy(policy)
    wk = pol["workout"]
    as_of = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp(history["as_of"].max())
    ev = default_events(history, wk["cure_months"], wk["max_workout_months"])
    flows = _workout_payments(book, ev, as_of, pol)
    loans = ev.join(workout_cash_flows(book, ev, as_of, pol))
    lg = book.loans.set_index("loan_id")
    loans["guarantee_type"] = lg["guarantee_type"].reindex(loans.index).astype(str)
    loans["collateral_type"] = _collateral_type(book).reindex(loans.index)
    value = loans["pv_net"].fillna(0.0) + loans["pv_cure"].fillna(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lgd = np.clip(1 - value / loans["ead"], 0.0, 1.0)
    loans["lgd_to_date"] = lgd  # unresolved: as if nothing more were recovered
    loans["lgd"] = lgd.where(loans["resolution"] != "unresolved")
    cum = recovery_by_month(ev, flows, int(wk["max_workout_months"]))
    loans["lgd_estimate"] = project_open_workouts(loans, cum, as_of, wk["open_workouts"])
    table = _segment_table(loans, "guarantee_type", pol, seed)
    policy_lgd = pd.Series(pol["limits"]["lgd"], dtype=float)
    table = table.reindex(table.index.union(policy_lgd.index))
    counts = ["defaults", "resolved", "unresolved", "recovered", "cured", "written_off"]
    counts.append("deemed_closed")
    table[counts] = table[counts].fillna(0).astype(np.int64)
    table["policy_lgd"] = policy_lgd.reindex(table.index)
    enough = table["resolved"] >= int(wk["min_resolved"])
    table["lgd_used"] = np.where(enough, table["lgd_mean"], table["policy_lgd"])
    table["source"] = np.where(enough, "realised", "policy")
    table.index.name = "guarantee_type"
    coll = loans[loans["collateral_type"].notna()]
    by_coll = _segment_table(coll, "collateral_type", pol, seed + 1)
    return LGDResult(
        loans=loans,
        table=table,
        by_collateral=by_coll,
        as_of=as_of,
        min_resolved=int(wk["min_resolved"]),
        left_censored=int(ev.attrs.get("left_censored", 0)),
    )
