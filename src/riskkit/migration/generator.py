"""Continuous-time generators: matrix logarithm with regularisation, and the duration MLE.

A one-period matrix ``P`` has a generator ``Q`` (``expm(Q) = P``, off-diagonals >= 0, rows
summing to 0) only if it is *embeddable*; empirical matrices often are not (the principal
logarithm has small negative off-diagonals). Three regularisations turn ``L = logm(P)`` into a
valid generator:

``"diagonal"``
    Diagonal adjustment (Israel, Rosenthal & Wei 2001): zero the negative off-diagonals and
    reset each diagonal to minus the sum of its row's off-diagonals.
``"weighted"``
    Weighted adjustment (Israel, Rosenthal & Wei 2001; also discussed by Kreinin &
    Sidelnikova 2001): zero the negative off-diagonals and take their mass back from all
    remaining entries of the row in proportion to their absolute size.
``"quasi_optimisation"``
    Quasi-optimisation of the generator (Kreinin & Sidelnikova 2001): per row the Euclidean
    projection of ``L`` onto the set of valid generator rows (sum 0, off-diagonals >= 0),
    solved exactly: ``q_ij = max(l_ij - mu, 0)`` off the diagonal, ``q_ii = l_ii - mu``.

The duration (Lando-Skodeberg) maximum-likelihood generator from a panel is
``Q_ij = N_ij / (time spent in i)``.

Examples
--------
>>> import numpy as np
>>> P = np.array([[0.9, 0.08, 0.02], [0.05, 0.9, 0.05], [0.0, 0.0, 1.0]])
>>> g = Generator.from_matrix(P, method="quasi_optimisation")
>>> bool(np.allclose(g.matrix.sum(axis=1), 0) and (g.matrix - np.diag(np.diag(g.matrix)) >= 0).all())
True
>>> bool(np.abs(g.transition_matrix(1).matrix - P).max() < 0.01)
True
"""

from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd
from scipy.linalg import expm, logm
from sklearn.base import BaseEstimator

from .estimation import cohort_matrix
from .matrix import TransitionMatrix
from .panel import FIVE_CATEGORY, MigrationPanel, PanelInputMixin, StateSpace, as_panel
from .transitions import panel_segments

METHODS = ("diagonal", "weighted", "quasi_optimisation", "none")


def matrix_log(p) -> np.ndarray:
    """Principal matrix logarithm (real part)."""
    p = np.asarray(p, dtype=float)
    if np.linalg.matrix_rank(p) < p.shape[0] or np.any(np.linalg.eigvals(p).real <= 0):
        raise ValueError(
            "matrix has an eigenvalue <= 0 (e.g. a row that never stays put); it has no real "
            "logarithm and no generator"
        )
    lg = logm(p)
    return np.real(lg)


def _offdiag(n: int) -> np.ndarray:
    return ~np.eye(n, dtype=bool)


def regularise(lg, method: str = "quasi_optimisation") -> np.ndarray:
    """Turn a matrix logarithm into a valid generator with the given method."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    q = np.array(lg, dtype=float)
    n = q.shape[0]
    off = _offdiag(n)
    idx = np.arange(n)
    if method == "none":
        return q
    if method == "diagonal":
        q[off & (q < 0)] = 0.0
        q[idx, idx] = 0.0
        q[idx, idx] = -q.sum(axis=1)
        return q
    if method == "weighted":
        neg = off & (q < 0)
        b = np.where(neg, -q, 0.0).sum(axis=1)
        q[neg] = 0.0
        g = np.abs(q).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(g > 0, b / np.where(g > 0, g, 1.0), 0.0)
        q = q - np.abs(q) * share[:, None]
        q[off & (q < 0)] = 0.0
        q[idx, idx] = 0.0
        q[idx, idx] = -q.sum(axis=1)
        return q
    # quasi-optimisation: exact projection row by row (loop over states, not loans)
    out = np.empty_like(q)
    for i in range(n):
        d = q[i, i]
        c = np.sort(np.delete(q[i], i))[::-1]  # off-diagonals, descending
        csum = np.r_[0.0, np.cumsum(c)]
        mu = d
        for k in range(n):  # k off-diagonals positive
            mu = (d + csum[k]) / (k + 1)
            upper = np.inf if k == 0 else c[k - 1]
            lower = c[k] if k < n - 1 else -np.inf
            if lower <= mu <= upper:
                break
        row = np.maximum(q[i] - mu, 0.0)
        row[i] = d - mu
        out[i] = row
    return out


class Generator:
    """A generator matrix ``Q`` over a state space; ``expm(t Q)`` gives ``t``-period matrices.

    Parameters
    ----------
    matrix : array-like (S, S)
    states : StateSpace, optional
    method : str
        How it was obtained.
    source : ndarray, optional
        The matrix it was derived from (for the fit diagnostics).
    """

    def __init__(
        self, matrix, states: StateSpace | None = None, method: str = "given", source=None
    ):
        self.states = FIVE_CATEGORY if states is None else states
        q = np.asarray(matrix, dtype=float)
        if q.shape != (len(self.states),) * 2:
            raise ValueError(f"generator shape {q.shape} does not match {len(self.states)} states")
        self.matrix = q
        self.method = method
        self.source = None if source is None else np.asarray(source, dtype=float)

    @classmethod
    def from_matrix(
        cls, p, states: StateSpace | None = None, method: str = "quasi_optimisation", t: float = 1.0
    ) -> Generator:
        """Regularised ``logm(P) / t`` of a ``t``-period matrix (array or TransitionMatrix)."""
        if isinstance(p, TransitionMatrix):
            states = p.states if states is None else states
            p = p.matrix
        if states is None:
            states = (
                FIVE_CATEGORY
                if np.shape(p)[0] == len(FIVE_CATEGORY)
                else StateSpace.generic(range(np.shape(p)[0]))
            )
        q = regularise(matrix_log(p) / t, method)
        return cls(q, states, method=method, source=p)

    def is_valid(self, atol: float = 1e-10) -> bool:
        """Off-diagonals >= 0 and rows summing to 0."""
        off = _offdiag(len(self.matrix))
        return bool(
            (self.matrix[off] >= -atol).all() and np.allclose(self.matrix.sum(1), 0, atol=atol)
        )

    def transition_matrix(self, t: float = 1.0) -> TransitionMatrix:
        """``expm(t Q)`` as a :class:`TransitionMatrix` (tiny negatives from rounding clipped)."""
        m = np.clip(expm(self.matrix * t), 0.0, None)
        m /= m.sum(axis=1, keepdims=True)
        return TransitionMatrix(m, self.states, period=t, method=f"expm({self.method})")

    def distance(self, p=None, t: float = 1.0) -> float:
        """Max absolute difference between ``expm(t Q)`` and ``p`` (default: the source)."""
        p = self.source if p is None else np.asarray(getattr(p, "matrix", p))
        return float(np.abs(expm(self.matrix * t) - p).max())

    def to_frame(self) -> pd.DataFrame:
        labs = self.states.labels
        return pd.DataFrame(
            self.matrix, index=pd.Index(labs, name="from"), columns=pd.Index(labs, name="to")
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "kind": "riskkit.migration.Generator",
                "states": self.states.to_dict(),
                "matrix": self.matrix.tolist(),
                "method": self.method,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Generator:
        d = json.loads(text)
        st = d["states"]
        space = FIVE_CATEGORY if st == FIVE_CATEGORY.to_dict() else StateSpace(**st)
        return cls(d["matrix"], space, method=d["method"])

    def __repr__(self) -> str:
        fit = "" if self.source is None else f", max|expm(Q)-P|={self.distance():.2e}"
        return (
            f"Generator({self.method}, valid={self.is_valid()}{fit})\n"
            + self.to_frame().map(lambda v: f"{v:.5f}").to_string()
        )

    def _repr_html_(self) -> str:
        return f"<b>{html.escape(repr(self).splitlines()[0])}</b>" + self.to_frame().to_html(
            float_format=lambda v: f"{v:.5f}"
        )


def generator_mle(panel: MigrationPanel) -> Generator:
    """Duration (Lando-Skodeberg) MLE: transitions ``i -> j`` over total time spent in ``i``.

    Observations are taken as the exact transition times (continuous-time data); on a monthly
    panel it assumes each change happened at the observation date.
    """
    s = panel.n_states
    t0, t1, s0, s1 = panel_segments(panel)
    exposure = np.bincount(s0, weights=t1 - t0, minlength=s)
    moved = s1 != s0
    n = np.bincount(s0[moved] * s + s1[moved], minlength=s * s).reshape(s, s).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(exposure[:, None] > 0, n / np.where(exposure > 0, exposure, 1)[:, None], 0)
    idx = np.arange(s)
    q[idx, idx] = -q.sum(axis=1)
    return Generator(q, panel.states, method="duration_mle")


class GeneratorEstimator(PanelInputMixin, BaseEstimator):
    """Estimate a generator from a panel.

    Parameters
    ----------
    method : {"quasi_optimisation", "weighted", "diagonal", "duration_mle"}
        A regularised log of the cohort matrix over ``period``, or the duration MLE.
    period : int
        Cohort step for the log methods; the generator is per base period (``logm / period``).
    anchor, id_col, time_col, state_col, states, continuous, allow_gaps
        As for :class:`~riskkit.migration.estimation.CohortEstimator`.

    Attributes
    ----------
    generator_ : Generator
    matrix_ : ndarray (S, S)
    """

    def __init__(
        self,
        *,
        method: str = "quasi_optimisation",
        period: int = 1,
        anchor: str = "first",
        id_col: str = "loan_id",
        time_col: str = "as_of",
        state_col: str = "category",
        states=None,
        continuous: bool = False,
        allow_gaps: bool = False,
    ):
        self.method = method
        self.period = period
        self.anchor = anchor
        self.id_col = id_col
        self.time_col = time_col
        self.state_col = state_col
        self.states = states
        self.continuous = continuous
        self.allow_gaps = allow_gaps

    def fit(self, X, y=None):
        panel = as_panel(X, self)
        if self.method == "duration_mle":
            g = generator_mle(panel)
        else:
            tm = cohort_matrix(panel, self.period, anchor=self.anchor)
            g = Generator.from_matrix(tm, method=self.method, t=self.period)
        self.generator_ = g
        self.matrix_ = g.matrix
        return self
