"""The :class:`TransitionMatrix` result object shared by every estimator.

Examples
--------
>>> import numpy as np
>>> from riskkit.migration.matrix import TransitionMatrix
>>> from riskkit.migration.panel import StateSpace
>>> space = StateSpace.generic(["good", "bad", "closed"], absorbing=["closed"],
...                            default=["bad"], npl=["bad"], exits=["closed"])
>>> tm = TransitionMatrix([[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0, 0, 1]], space)
>>> tm.power(2).matrix[0].round(4).tolist()
[0.82, 0.08, 0.1]
>>> tm.lifetime_pd(2).loc["good"].round(4).tolist()
[0.05, 0.095]
"""

from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd

from .panel import FIVE_CATEGORY, StateSpace


class TransitionMatrix:
    """A row-stochastic matrix over a :class:`StateSpace`, with the counts behind it.

    Parameters
    ----------
    matrix : array-like (S, S)
        Transition probabilities; rows sum to 1.
    states : StateSpace, optional
        Default :data:`~riskkit.migration.panel.FIVE_CATEGORY`.
    counts : array-like (S, S), optional
        Weighted transition counts (loans, or balance for balance-weighted matrices).
    period : int
        Length of one step in base periods (months for a monthly panel).
    weight : {"count", "balance"}
    method : str
        How it was obtained ("cohort", "aalen_johansen", "expm", "power", "stress", ...).
    ci_lower, ci_upper : array-like (S, S), optional
        Confidence bounds per cell.
    """

    def __init__(
        self,
        matrix,
        states: StateSpace | None = None,
        *,
        counts=None,
        period: int | float = 1,
        weight: str = "count",
        method: str = "given",
        ci_lower=None,
        ci_upper=None,
        ci_method: str | None = None,
        cohort_counts=None,
    ):
        self.states = FIVE_CATEGORY if states is None else states
        m = np.array(matrix, dtype=float)
        s = len(self.states)
        if m.shape != (s, s):
            raise ValueError(f"matrix shape {m.shape} does not match {s} states")
        if not np.all(np.isfinite(m)) or (m < -1e-12).any():
            raise ValueError("transition probabilities must be finite and >= 0")
        if not np.allclose(m.sum(axis=1), 1.0, atol=1e-8):
            bad = [self.states.labels[i] for i in np.flatnonzero(~np.isclose(m.sum(1), 1.0))]
            raise ValueError(f"rows {bad} of the transition matrix do not sum to 1")
        self.matrix = np.clip(m, 0.0, None)
        self.counts = None if counts is None else np.asarray(counts, dtype=float)
        self.period = period
        self.weight = weight
        self.method = method
        self.ci_lower = None if ci_lower is None else np.asarray(ci_lower, dtype=float)
        self.ci_upper = None if ci_upper is None else np.asarray(ci_upper, dtype=float)
        self.ci_method = ci_method
        self.cohort_counts = None if cohort_counts is None else np.asarray(cohort_counts)
        # cohort start times, set by the cohort estimator
        self.cohort_starts: np.ndarray | None = None

    # ------------------------------------------------------------------ basics
    @property
    def labels(self) -> list[str]:
        return self.states.labels

    @property
    def exposure(self) -> np.ndarray | None:
        """Row totals of the counts (loans or balance at the start of each step)."""
        return None if self.counts is None else self.counts.sum(axis=1)

    def prob(self, from_state, to_state) -> float:
        """Probability of one step from ``from_state`` to ``to_state``."""
        return float(self.matrix[self.states.index(from_state), self.states.index(to_state)])

    def to_frame(self, kind: str = "matrix") -> pd.DataFrame:
        """The matrix (``kind="matrix"``), counts, or CI bounds as a labelled DataFrame."""
        data = {
            "matrix": self.matrix,
            "counts": self.counts,
            "ci_lower": self.ci_lower,
            "ci_upper": self.ci_upper,
        }
        if kind not in data:
            raise ValueError(f"kind must be one of {list(data)}")
        if data[kind] is None:
            raise ValueError(f"this matrix has no {kind}")
        idx = pd.Index(self.labels, name="from")
        return pd.DataFrame(data[kind], index=idx, columns=pd.Index(self.labels, name="to"))

    # ------------------------------------------------------------- operations
    def power(self, n: int) -> TransitionMatrix:
        """The ``n``-step matrix (matrix power; time-homogeneous Markov chain)."""
        if int(n) != n or n < 0:
            raise ValueError(f"n must be a whole number >= 0, got {n!r}")
        return TransitionMatrix(
            np.linalg.matrix_power(self.matrix, int(n)),
            self.states,
            period=self.period * int(n),
            weight=self.weight,
            method="power",
        )

    def __matmul__(self, other: TransitionMatrix) -> TransitionMatrix:
        if not isinstance(other, TransitionMatrix) or other.states != self.states:
            return NotImplemented
        return TransitionMatrix(
            self.matrix @ other.matrix,
            self.states,
            period=self.period + other.period,
            weight=self.weight,
            method="product",
        )

    def _default_mask(self, default_states) -> np.ndarray:
        names = self.states.default if default_states is None else tuple(default_states)
        if not names:
            raise ValueError(
                "no default states: pass default_states=... or define StateSpace.default"
            )
        return self.states.mask(names)

    def lifetime_pd(self, horizon: int, default_states=None) -> pd.DataFrame:
        """Cumulative probability of first reaching a default state within 1..horizon steps.

        The default states are made absorbing (first passage), so a loan that cures after
        defaulting still counts as defaulted. Rows: starting state; columns: steps 1..horizon.
        """
        d = self._default_mask(default_states)
        p = self.matrix.copy()
        p[d] = 0.0
        p[d, d.nonzero()[0]] = 1.0
        out = np.empty((len(self.states), int(horizon)))
        cur = np.eye(len(self.states))
        for h in range(int(horizon)):
            cur = cur @ p
            out[:, h] = cur[:, d].sum(axis=1)
        cols = pd.Index(np.arange(1, int(horizon) + 1) * self.period, name="months")
        return pd.DataFrame(out, index=pd.Index(self.labels, name="from"), columns=cols)

    def check(self, atol: float = 1e-9) -> None:
        """Raise if rows do not sum to 1 or entries are negative."""
        if (self.matrix < -atol).any() or not np.allclose(self.matrix.sum(1), 1, atol=atol):
            raise ValueError("not a stochastic matrix")

    # ---------------------------------------------------------- serialisation
    def to_json(self) -> str:
        """JSON text (no pickle)."""

        def lst(a):
            return None if a is None else np.asarray(a).tolist()

        return json.dumps(
            {
                "kind": "riskkit.migration.TransitionMatrix",
                "version": 1,
                "states": self.states.to_dict(),
                "matrix": lst(self.matrix),
                "counts": lst(self.counts),
                "period": self.period,
                "weight": self.weight,
                "method": self.method,
                "ci_lower": lst(self.ci_lower),
                "ci_upper": lst(self.ci_upper),
                "ci_method": self.ci_method,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> TransitionMatrix:
        d = json.loads(text)
        if d.get("kind") != "riskkit.migration.TransitionMatrix":
            raise ValueError("not a riskkit TransitionMatrix JSON document")
        st = d["states"]
        space = FIVE_CATEGORY if st == FIVE_CATEGORY.to_dict() else StateSpace(**st)
        return cls(
            d["matrix"],
            space,
            counts=d["counts"],
            period=d["period"],
            weight=d["weight"],
            method=d["method"],
            ci_lower=d["ci_lower"],
            ci_upper=d["ci_upper"],
            ci_method=d["ci_method"],
        )

    # ------------------------------------------------------------------ display
    def _title(self) -> str:
        per = f"{self.period}-period" if self.period != 1 else "1-period"
        n = ""
        if self.counts is not None:
            tot = self.counts.sum()
            n = f", n={tot:,.0f}" if self.weight == "count" else f", balance={tot:,.0f}"
        return f"TransitionMatrix({per}, {self.weight}-weighted, {self.method}{n})"

    def __repr__(self) -> str:
        df = self.to_frame().map(lambda v: f"{v:.4f}")
        return self._title() + "\n" + df.to_string()

    def _repr_html_(self) -> str:
        labs = [html.escape(s) for s in self.labels]
        head = "".join(f"<th style='padding:2px 6px'>{c}</th>" for c in labs)
        rows = []
        expo = self.exposure
        for i, r in enumerate(labs):
            cells = []
            for j in range(len(labs)):
                v = self.matrix[i, j]
                # diagonal in blue, off-diagonal in red; intensity ~ sqrt(p)
                a = min(1.0, float(np.sqrt(v))) * 0.85
                colour = f"rgba(66,133,244,{a:.2f})" if i == j else f"rgba(219,68,55,{a:.2f})"
                tip = ""
                lo, hi = self.ci_lower, self.ci_upper
                if lo is not None and hi is not None:
                    tip = f" title='CI {lo[i, j]:.4f} .. {hi[i, j]:.4f}'"
                cells.append(
                    f"<td style='background:{colour};text-align:right;padding:2px 6px'{tip}>"
                    f"{v:.2%}</td>"
                )
            n = (
                ""
                if expo is None
                else f"<td style='color:#666;padding:2px 6px'>{expo[i]:,.0f}</td>"
            )
            rows.append(f"<tr><th style='padding:2px 6px'>{r}</th>{''.join(cells)}{n}</tr>")
        ncol = "" if expo is None else "<th style='padding:2px 6px'>n</th>"
        return (
            f"<div><b>{html.escape(self._title())}</b><table style='border-collapse:collapse;"
            f"font-size:12px'><tr><th>from \\ to</th>{head}{ncol}</tr>{''.join(rows)}"
            "</table></div>"
        )
