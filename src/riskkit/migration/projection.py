"""Deterministic projection of the book with a transition matrix: balances and loan counts by
state over a horizon, amortisation, new disbursements, NPL ratio, provisions and expected
losses.

Each step: balances migrate (``b @ P``; a scenario path gives each month its own matrix),
then balances still on the book run off at the amortisation rate of their new state, then new
loans are disbursed into the entry state (default ``normal``). Balance that reaches an exit state leaves the book (cumulated as
``repaid`` / ``written_off``). Expected losses are ``LGD x`` the balance reaching a default
state for the *first* time (a never-defaulted and a defaulted copy of the chain are projected
side by side, so a loan that cures and defaults again is counted once, as in the Monte Carlo).
Provisions = general ratio x outstanding + specific ratio of each category x its balance
(``riskkit.load_policy()["provisions"]``).

Examples
--------
>>> import numpy as np
>>> from riskkit.migration.matrix import TransitionMatrix
>>> p = np.eye(8); p[0, [0, 1, 5]] = [0.9, 0.05, 0.05]; p[1, [0, 1, 2]] = [0.3, 0.5, 0.2]
>>> pr = project(TransitionMatrix(p), {"normal": 1000.0}, horizon=2)
>>> pr.table.loc[1, ["normal", "special_mention", "repaid"]].tolist()
[900.0, 50.0, 50.0]
>>> round(float(pr.table.loc[2, "npl_ratio"]), 4)
0.011
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..deprecation import deprecated_alias
from ..policy import load_policy
from ..results import TableResult
from .matrix import TransitionMatrix
from .montecarlo import provision_vector
from .panel import StateSpace


def state_vector(space: StateSpace, values, name: str) -> np.ndarray:
    """A per-state vector from a scalar, a mapping state->value or a full array."""
    if isinstance(values, Mapping):
        out = np.zeros(len(space))
        for k, v in values.items():
            out[space.index(k)] = float(v)
        return out
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0:
        return np.full(len(space), float(arr))
    if arr.shape != (len(space),):
        raise ValueError(f"{name}: expected {len(space)} values (one per state), got {arr.shape}")
    return arr


def _per_step(values, horizon: int, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0:
        return np.full(horizon, float(arr))
    if arr.shape != (horizon,):
        raise ValueError(f"{name}: expected a scalar or {horizon} values, got {arr.shape}")
    return arr


@dataclass(repr=False, eq=False)
class Projection(TableResult):
    """Result of :func:`project`; ``table`` has one row per step 0..horizon."""

    states: StateSpace
    table: pd.DataFrame

    #: Deprecated name of :attr:`table` (riskkit 0.1).
    frame = deprecated_alias("table")

    def shares(self, by: str = "balance") -> pd.DataFrame:
        """Share of the outstanding balance (or loan count) by on-book state per step."""
        live = [s for s in self.states.labels if s not in map(str, self.states.exits)]
        cols = live if by == "balance" else [f"count_{s}" for s in live]
        x = self.table[cols]
        out = x.div(x.sum(axis=1).replace(0, np.nan), axis=0)
        out.columns = live
        return out

    def plot_shares(self, **kw):
        """Stacked shares by category per step (:func:`~riskkit.migration.plots.plot_category_shares`)."""
        from .plots import plot_category_shares

        return plot_category_shares(self.shares(), **kw)

    def __repr__(self) -> str:
        cols = ["outstanding", "npl_ratio", "provisions", "expected_loss"]
        return f"Projection({len(self.table) - 1} steps)\n" + self.table[cols].to_string()

    def _repr_html_(self) -> str:
        cols = ["outstanding", "npl_ratio", "provisions", "expected_loss"]
        return f"<b>Projection ({len(self.table) - 1} steps)</b>" + html.unescape(
            self.table[cols].to_html(float_format=lambda v: f"{v:,.4f}")
        )


def project(
    tm: TransitionMatrix | Sequence[TransitionMatrix],
    balances,
    horizon: int | None = None,
    *,
    counts=None,
    amortisation=0.0,
    new_disbursements=0.0,
    new_loans=0.0,
    entry_state="normal",
    lgd: float | None = None,
    policy=None,
) -> Projection:
    """Project balances and counts by state.

    Parameters
    ----------
    tm : TransitionMatrix or sequence of TransitionMatrix
        One-step matrix, or one per step (e.g. a scenario path,
        :meth:`riskkit.migration.scenarios.ScenarioPath.matrices`; the last one repeats).
    balances : mapping state->balance, or array (S,)
        Balance by state at step 0.
    horizon : int, optional
        Steps (default policy ``migration.horizon_months``).
    counts : mapping or array (S,), optional
        Loan counts by state at step 0.
    amortisation : float or mapping state->rate
        Per-step run-off rate of balances on the book (e.g. 0.03 for scheduled principal).
    new_disbursements, new_loans : float or array (horizon,)
        Balance and number of new loans entering ``entry_state`` each step.
    lgd : float, optional
        Loss given default (default policy ``migration.lgd``).
    policy : Policy, mapping or path, optional

    Returns
    -------
    Projection
    """
    pol = load_policy(policy)
    horizon = int(pol["migration"]["horizon_months"] if horizon is None else horizon)
    lgd = float(pol["migration"]["lgd"] if lgd is None else lgd)
    steps = [tm] if isinstance(tm, TransitionMatrix) else list(tm)
    sp = steps[0].states
    s = len(sp)
    exits = sp.mask(sp.exits)
    npl = sp.mask(sp.npl)
    dflt = sp.mask(sp.default) if sp.default else np.zeros(s, dtype=bool)
    keep = 1.0 - np.where(exits, 0.0, state_vector(sp, amortisation, "amortisation"))
    if (keep < 0).any() or (keep > 1).any():
        raise ValueError("amortisation rates must be in [0, 1]")
    b0 = state_vector(sp, balances, "balances")
    c0 = np.zeros(s) if counts is None else state_vector(sp, counts, "counts")
    if (b0 < 0).any() or (c0 < 0).any():
        raise ValueError("balances and counts must be >= 0")
    nd = _per_step(new_disbursements, horizon, "new_disbursements")
    nl = _per_step(new_loans, horizon, "new_loans")
    entry = sp.index(entry_state)
    spec, general = provision_vector(sp, pol)

    # never-defaulted / defaulted copies of the chain (balances), counts
    bn = np.where(dflt, 0.0, b0)
    bd = np.where(dflt, b0, 0.0)
    c = c0.copy()
    bal = np.zeros((horizon + 1, s))
    cnt = np.zeros((horizon + 1, s))
    loss = np.zeros(horizon + 1)
    amort = np.zeros(horizon + 1)
    bal[0], cnt[0] = b0, c
    for t in range(horizon):  # loop over steps only
        p = steps[min(t, len(steps) - 1)].matrix
        fn, fd = bn @ p, bd @ p
        loss[t + 1] = loss[t] + lgd * fn[dflt].sum()
        fd = fd + np.where(dflt, fn, 0.0)
        fn = np.where(dflt, 0.0, fn)
        amort[t + 1] = amort[t] + ((fn + fd) * (1 - keep)).sum()
        bn, bd = fn * keep, fd * keep
        bn[entry] += nd[t]
        c = c @ p
        c[entry] += nl[t]
        bal[t + 1], cnt[t + 1] = bn + bd, c
    labels = sp.labels
    frame = pd.DataFrame(bal, columns=labels)
    frame.index.name = "step"
    for i, lab in enumerate(labels):
        frame[f"count_{lab}"] = cnt[:, i]
    live = bal[:, ~exits].sum(axis=1)
    frame["outstanding"] = live
    frame["npl_balance"] = bal[:, npl].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["npl_ratio"] = np.where(
            live > 0, frame["npl_balance"] / np.where(live > 0, live, 1), 0
        )
    frame["provisions_general"] = general * live
    frame["provisions_specific"] = bal @ spec
    frame["provisions"] = frame["provisions_general"] + frame["provisions_specific"]
    frame["expected_loss"] = loss
    frame["amortised"] = amort
    frame["disbursed"] = np.r_[0.0, np.cumsum(nd)]
    return Projection(sp, frame)


def ratio_change(n0: float, d0: float, n1: float, d1: float) -> dict:
    """Split the change of a ratio ``n / d`` into its numerator and denominator parts.

    Symmetric (Shapley) split: numerator effect ``(n1 - n0) x (1/d0 + 1/d1) / 2``, denominator
    effect ``(n0 + n1) / 2 x (1/d1 - 1/d0)``; they add up to ``n1/d1 - n0/d0`` exactly. For the
    NPL ratio the numerator effect is the change of the non-performing balance, the
    denominator effect the change of the outstanding balance (a run-off book raises the ratio
    with no new defaults).

    Examples
    --------
    >>> r = ratio_change(4.0, 100.0, 5.0, 50.0)
    >>> round(r["change"], 4), round(r["numerator"], 4), round(r["denominator"], 4)
    (0.06, 0.015, 0.045)
    """
    n0, d0, n1, d1 = (float(v) for v in (n0, d0, n1, d1))
    numerator = (n1 - n0) * (1 / d0 + 1 / d1) / 2
    denominator = (n0 + n1) / 2 * (1 / d1 - 1 / d0)
    return {
        "start": n0 / d0,
        "end": n1 / d1,
        "change": n1 / d1 - n0 / d0,
        "numerator": numerator,
        "denominator": denominator,
        "numerator_start": n0,
        "numerator_end": n1,
        "denominator_start": d0,
        "denominator_end": d1,
    }


def npl_change(frame: pd.DataFrame, start: int = 0, end: int | None = None) -> dict:
    """:func:`ratio_change` of the NPL ratio between two steps of a projection frame
    (``npl_balance`` over ``outstanding``)."""
    end = len(frame) - 1 if end is None else end
    a, b = frame.iloc[start], frame.iloc[end]
    return ratio_change(a["npl_balance"], a["outstanding"], b["npl_balance"], b["outstanding"])


def lifetime_pd(tm: TransitionMatrix, horizon: int, default_states=None) -> pd.DataFrame:
    """Cumulative PD by starting state over 1..horizon steps (first passage)."""
    return tm.lifetime_pd(horizon, default_states)
