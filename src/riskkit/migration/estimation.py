"""Estimate transition matrices from a loan-month panel: cohort and exact Aalen-Johansen.

**Cohort** (discrete time). For a step of ``period`` base periods (1 = monthly, 3 =
quarterly, 12 = annual on a monthly panel), every loan observed at a cohort start time ``t``
in a non-absorbing state contributes one transition: to its state at ``t + period``, or to
its exit state if it left the book (repaid / written off) before then. Loans neither
observed at ``t + period`` nor exited are censored (not counted). Counts are weighted by one
(loan counts) or by the beginning balance, which gives the Chinese migration-rate report form
(迁徙率: the share of beginning balance in each category that ends in each category). All
counting is one ``np.bincount`` over (cohort, from, to) triples.

**Aalen-Johansen** (continuous time). The product integral over the distinct transition times
``u`` of ``I + dA(u)``, with ``dA_ij(u) = N_ij(u) / Y_i(u-)``; the at-risk count ``Y_i(u-)`` is
taken just *before* the jump (loans in state ``i`` under observation on ``(t_k, t_{k+1}]``).
On a complete monthly panel this equals the product of the monthly cohort matrices.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"loan_id": [1, 1, 1, 2, 2, 2], "as_of": [0, 1, 2, 0, 1, 2],
...                    "category": ["normal", "normal", "special_mention",
...                                 "normal", "special_mention", "substandard"]})
>>> est = CohortEstimator(time_col="as_of").fit(df)
>>> est.matrix_[0, :3].round(3).tolist()
[0.333, 0.667, 0.0]
>>> aj = AalenJohansenEstimator(time_col="as_of").fit(df)
>>> bool(abs(aj.matrix_[0] - (est.cohort_matrices_[0] @ est.cohort_matrices_[1])[0]).max() < 1e-12)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .intervals import multinomial_ci
from .matrix import TransitionMatrix
from .panel import MigrationPanel, PanelInputMixin, StateSpace, as_panel
from .transitions import cohort_pairs, normalise_counts, panel_segments


def cohort_counts(
    panel: MigrationPanel,
    period: int = 1,
    *,
    weight: str = "count",
    anchor: str = "first",
):
    """Transition counts per cohort start time.

    Returns
    -------
    counts : ndarray (K, S, S)
        Weighted counts per cohort (start time), from-state by to-state.
    starts : ndarray (K,)
        Cohort start times (panel time units).
    loans : ndarray (K, S, S)
        Unweighted loan counts (equal to ``counts`` when ``weight="count"``).
    """
    if weight not in ("count", "balance"):
        raise ValueError(f"weight must be 'count' or 'balance', got {weight!r}")
    if weight == "balance" and panel.balance is None:
        raise ValueError("weight='balance' needs a balance column (balance_col=...)")
    src, dst, _ = cohort_pairs(panel, period, anchor)
    s = panel.n_states
    if len(src):
        off = panel.time[src].astype(np.int64) - int(panel.time.min())
        present = np.bincount(off) > 0
        starts = np.flatnonzero(present) + int(panel.time.min())
        cid = (np.cumsum(present) - 1)[off]
    else:
        starts, cid = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    k = len(starts)
    flat = (cid * s + panel.state[src].astype(np.int64)) * s + dst
    loans = np.bincount(flat, minlength=k * s * s).reshape(k, s, s).astype(float)
    if weight == "count":
        return loans, starts, loans
    assert panel.balance is not None  # checked above
    w = panel.balance[src]
    counts = np.bincount(flat, weights=w, minlength=k * s * s).reshape(k, s, s)
    return counts, starts, loans


def cohort_matrix(
    panel: MigrationPanel,
    period: int = 1,
    *,
    weight: str = "count",
    anchor: str = "first",
    ci: str | None = None,
    alpha: float = 0.05,
) -> TransitionMatrix:
    """Pooled cohort transition matrix (counts summed over cohorts, then row-normalised).

    Parameters
    ----------
    panel : MigrationPanel
    period : int
        Step length in base periods (1 monthly, 3 quarterly, 12 annual on a monthly panel).
    weight : {"count", "balance"}
        Loan counts, or beginning balance (迁徙率 form).
    anchor : {"first", "calendar", "rolling"}
        Cohort start times: every ``period`` from the first time; calendar quarter/year ends
        (monthly panels); or every time (overlapping windows).
    ci : {None, "goodman", "wald", "wilson"}
        Analytic confidence intervals per row (see :mod:`riskkit.migration.intervals`).
    """
    counts, starts, loans = cohort_counts(panel, period, weight=weight, anchor=anchor)
    return matrix_from_cohort_counts(
        CohortCounts(counts, starts, loans), panel.states, period, weight, ci, alpha
    )


@dataclass
class CohortCounts:
    """:func:`cohort_counts` of a panel; two of them (panels of disjoint loans, e.g. the
    partitions of a book) add up cohort by cohort with ``+``."""

    counts: np.ndarray
    starts: np.ndarray
    loans: np.ndarray

    def __add__(self, other: CohortCounts) -> CohortCounts:
        starts = np.union1d(self.starts, other.starts)
        shape = (len(starts),) + self.counts.shape[1:]

        def aligned(c: CohortCounts, a: np.ndarray) -> np.ndarray:
            out = np.zeros(shape)
            out[np.searchsorted(starts, c.starts)] = a
            return out

        return CohortCounts(
            aligned(self, self.counts) + aligned(other, other.counts),
            starts,
            aligned(self, self.loans) + aligned(other, other.loans),
        )


def matrix_from_cohort_counts(
    cc: CohortCounts,
    states: StateSpace,
    period: int = 1,
    weight: str = "count",
    ci: str | None = None,
    alpha: float = 0.05,
) -> TransitionMatrix:
    """The pooled cohort matrix of :func:`cohort_matrix` from (summed) cohort counts."""
    n = len(states.labels)
    pooled = cc.counts.sum(axis=0) if len(cc.counts) else np.zeros((n, n))
    absorbing = states.mask(states.absorbing)
    lo = hi = None
    if ci is not None:
        n_loans = cc.loans.sum(axis=0) if len(cc.loans) else pooled
        lo, hi = multinomial_ci(n_loans, method=ci, alpha=alpha, proportions=pooled)
        eye = np.eye(n)
        empty = absorbing | (n_loans.sum(axis=1) == 0)
        lo[empty], hi[empty] = eye[empty], eye[empty]
    tm = TransitionMatrix(
        normalise_counts(pooled, absorbing),
        states,
        counts=pooled,
        period=period,
        weight=weight,
        method="cohort",
        ci_lower=lo,
        ci_upper=hi,
        ci_method=ci,
        cohort_counts=cc.counts,
    )
    tm.cohort_starts = cc.starts
    return tm


class CohortEstimator(PanelInputMixin, BaseEstimator):
    """Cohort estimator of a discrete-time transition matrix (scikit-learn style).

    Parameters
    ----------
    period : int, default 1
        Step length in base periods of the panel (1, 3, 12 on a monthly panel).
    weight : {"count", "balance"}
    anchor : {"first", "calendar", "rolling"}
    ci : {None, "goodman", "wald", "wilson"}
    alpha : float
    id_col, time_col, state_col, balance_col : str
        Panel columns (see :func:`~riskkit.migration.panel.build_panel`).
    states : StateSpace or sequence, optional
    allow_gaps : bool

    Attributes
    ----------
    transition_matrix_ : TransitionMatrix
    matrix_ : ndarray (S, S)
    counts_ : ndarray (S, S)
    cohort_counts_ : ndarray (K, S, S)
    cohort_starts_ : ndarray (K,)
    cohort_matrices_ : ndarray (K, S, S)
    states_ : StateSpace

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"loan_id": [1, 1, 2, 2], "as_of": [0, 1, 0, 1],
    ...                    "category": ["normal", "doubtful", "normal", "repaid"]})
    >>> CohortEstimator(time_col="as_of").fit(df).transition_matrix_.prob("normal", "repaid")
    0.5
    """

    def __init__(
        self,
        *,
        period: int = 1,
        weight: str = "count",
        anchor: str = "first",
        ci: str | None = None,
        alpha: float = 0.05,
        id_col: str = "loan_id",
        time_col: str = "as_of",
        state_col: str = "category",
        balance_col: str | None = None,
        states=None,
        allow_gaps: bool = False,
    ):
        self.period = period
        self.weight = weight
        self.anchor = anchor
        self.ci = ci
        self.alpha = alpha
        self.id_col = id_col
        self.time_col = time_col
        self.state_col = state_col
        self.balance_col = balance_col
        self.states = states
        self.allow_gaps = allow_gaps

    def fit(self, X, y=None):
        """Estimate from a panel DataFrame or a :class:`MigrationPanel`."""
        panel = as_panel(X, self)
        tm = cohort_matrix(
            panel, self.period, weight=self.weight, anchor=self.anchor, ci=self.ci, alpha=self.alpha
        )
        self.states_ = panel.states
        self.transition_matrix_ = tm
        self.matrix_ = tm.matrix
        self.counts_ = tm.counts
        self.cohort_counts_ = tm.cohort_counts
        self.cohort_starts_ = tm.cohort_starts
        absorbing = panel.states.mask(panel.states.absorbing)
        assert tm.cohort_counts is not None  # a cohort matrix keeps its cohorts' counts
        self.cohort_matrices_ = normalise_counts(tm.cohort_counts, absorbing)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Next-step probabilities for loans in the given current states (labels or codes)."""
        check_is_fitted(self, "matrix_")
        vals = X[self.state_col] if isinstance(X, pd.DataFrame) else pd.Series(X)
        idx = np.array([self.states_.index(v) for v in pd.unique(vals)])
        pos = pd.Index(pd.unique(vals)).get_indexer(vals)
        return self.matrix_[idx[pos]]

    def _repr_html_(self) -> str:
        if hasattr(self, "transition_matrix_"):
            return self.transition_matrix_._repr_html_()
        return f"<pre>{self!r}</pre>"


# --------------------------------------------------------------------------- Aalen-Johansen
def aalen_johansen(panel: MigrationPanel, start: float | None = None, end: float | None = None):
    """Exact Aalen-Johansen estimate of ``P(start, t)`` at every transition time ``t``.

    Each loan is at risk in state ``s_k`` on ``(t_k, t_{k+1}]`` between consecutive rows; a
    change of state at ``t_{k+1}`` is a transition. A loan whose last row is not absorbing is
    censored at that time. The at-risk count for a jump at ``u`` is taken just before ``u``.

    Returns
    -------
    times : ndarray (m,)
        Distinct transition times in ``(start, end]``.
    matrices : ndarray (m, S, S)
        ``P(start, times[i])``.
    at_risk : ndarray (m, S)
        ``Y_i(u-)`` at each transition time.
    jumps : ndarray (m, S, S)
        Transition counts ``N_ij(u)`` at each time.
    """
    s = panel.n_states
    t0, t1, s0, s1 = panel_segments(panel)
    lo = -np.inf if start is None else float(start)
    hi = np.inf if end is None else float(end)
    moved = (s1 != s0) & (t1 > lo) & (t1 <= hi)
    ev = np.unique(t1[moved])
    m = len(ev)
    a = np.searchsorted(ev, t0, side="right")
    b = np.searchsorted(ev, t1, side="right")
    # segments entirely outside the window contribute nothing (a == b)
    d = np.bincount(s0 * (m + 1) + a, minlength=s * (m + 1)) - np.bincount(
        s0 * (m + 1) + b, minlength=s * (m + 1)
    )
    at_risk = np.cumsum(d.reshape(s, m + 1), axis=1)[:, :m].T.astype(float)  # (m, S)
    e = np.searchsorted(ev, t1[moved])
    jumps = np.bincount((e * s + s0[moved]) * s + s1[moved], minlength=m * s * s).reshape(m, s, s)
    with np.errstate(invalid="ignore", divide="ignore"):
        da = np.where(at_risk[:, :, None] > 0, jumps / np.maximum(at_risk, 1)[:, :, None], 0.0)
    idx = np.arange(s)
    da[:, idx, idx] = -da.sum(axis=2)
    factors = da + np.eye(s)
    out = np.empty((m, s, s))
    cur = np.eye(s)
    for i in range(m):  # loop over transition times only
        cur = cur @ factors[i]
        out[i] = cur
    return ev, out, at_risk, jumps


class AalenJohansenEstimator(PanelInputMixin, BaseEstimator):
    """Exact Aalen-Johansen estimator of the transition probability matrix ``P(start, end)``.

    Parameters
    ----------
    start, end : float, optional
        Window in panel time units (month numbers for a datetime panel); default: whole panel.
    continuous : bool
        Real-valued times (event data) rather than months/periods.
    id_col, time_col, state_col : str
    states : StateSpace or sequence, optional
    allow_gaps : bool

    Attributes
    ----------
    times_ : ndarray (m,)
    matrices_ : ndarray (m, S, S)
        ``P(start, times_[i])``.
    at_risk_ : ndarray (m, S)
    matrix_ : ndarray (S, S)
        ``P(start, end)`` (identity if no transitions).
    transition_matrix_ : TransitionMatrix
    states_ : StateSpace
    """

    def __init__(
        self,
        *,
        start: float | None = None,
        end: float | None = None,
        continuous: bool = False,
        id_col: str = "loan_id",
        time_col: str = "as_of",
        state_col: str = "category",
        states=None,
        allow_gaps: bool = False,
    ):
        self.start = start
        self.end = end
        self.continuous = continuous
        self.id_col = id_col
        self.time_col = time_col
        self.state_col = state_col
        self.states = states
        self.allow_gaps = allow_gaps

    def fit(self, X, y=None):
        panel = as_panel(X, self)
        times, mats, at_risk, jumps = aalen_johansen(panel, self.start, self.end)
        s = panel.n_states
        self.states_ = panel.states
        self.times_ = times
        self.matrices_ = mats
        self.at_risk_ = at_risk
        self.jumps_ = jumps
        self.matrix_ = mats[-1] if len(mats) else np.eye(s)
        t_lo = panel.time.min() if self.start is None else self.start
        t_hi = panel.time.max() if self.end is None else self.end
        self.transition_matrix_ = TransitionMatrix(
            self.matrix_,
            panel.states,
            counts=jumps.sum(axis=0) if len(jumps) else np.zeros((s, s)),
            period=float(t_hi - t_lo) if panel.time_kind == "continuous" else int(t_hi - t_lo),
            method="aalen_johansen",
        )
        return self

    def matrix_at(self, t: float) -> np.ndarray:
        """``P(start, t)``: the estimate at the last transition time ``<= t``."""
        check_is_fitted(self, "matrices_")
        i = np.searchsorted(self.times_, t, side="right") - 1
        return np.eye(len(self.states_)) if i < 0 else self.matrices_[i]

    def _repr_html_(self) -> str:
        if hasattr(self, "transition_matrix_"):
            return self.transition_matrix_._repr_html_()
        return f"<pre>{self!r}</pre>"


__all__ = [
    "AalenJohansenEstimator",
    "CohortEstimator",
    "StateSpace",
    "aalen_johansen",
    "cohort_counts",
    "cohort_matrix",
]
