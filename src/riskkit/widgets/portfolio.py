"""Portfolio what-if: stress the monthly migration matrix (down-migration multiplier or
one-factor Z shift), change provision ratios and the horizon, and compare NPL ratio,
provisions and losses of the baseline and the scenario.

Projection and stress come from :mod:`riskkit.migration`; provisions from
:mod:`riskkit.provisions`. This module wires controls to them.
"""

from __future__ import annotations

import html

import ipywidgets as w
import numpy as np
import pandas as pd

from ..categories import Category
from ..policy import load_policy
from .common import error_html, figure_html, money, new_figure, pct

_CATS = Category.codes()


def category_balances(balances, states) -> np.ndarray:
    """Balance per state of ``states`` (a migration StateSpace) from a classification.

    ``balances``: a :class:`~riskkit.classification.ClassificationResult`, a per-loan frame with
    ``category`` and ``outstanding_principal``, or a Series of balance by category.
    """
    from ..categories import parse_categories

    frame = getattr(balances, "frame", balances)
    out = np.zeros(len(states))
    if isinstance(frame, pd.DataFrame):
        for c in ("category", "outstanding_principal"):
            if c not in frame.columns:
                raise KeyError(f"portfolio balances need a {c!r} column")
        cat = frame["category"]
        if isinstance(cat.dtype, pd.CategoricalDtype):
            cat = cat.astype(str)
        codes = parse_categories(cat, column="category", ids=frame.index)
        bal = frame["outstanding_principal"].to_numpy(dtype=float)
        by = np.bincount(codes, weights=bal, minlength=len(_CATS))
        for k, c in enumerate(_CATS):
            out[states.index(c)] = by[k]
        return out
    s = pd.Series(balances, dtype=float)
    for label, v in s.items():
        out[states.index(label)] += v
    return out


def portfolio_path(matrix, start, horizon: int, policy=None) -> pd.DataFrame:
    """Balances by state, NPL ratio, provisions and losses for months 0..horizon.

    ``start``: balance per state (matrix order). Balances move with the monthly matrix
    (``b_t = b_0 P^t``); outstanding = balance outside the exit states; NPL ratio = NPL-state
    balance / outstanding; provisions = general ratio x outstanding + specific ratio of each
    category x its balance (:func:`riskkit.provisions.specific_ratios`); losses = balance in
    ``written_off``.
    """
    from ..provisions import specific_ratios

    pol = load_policy(policy)
    states = matrix.states
    P = matrix.matrix
    b = np.asarray(start, dtype=float)
    rows = [b]
    for _ in range(int(horizon)):
        b = b @ P
        rows.append(b)
    B = np.vstack(rows)
    exits = states.mask(states.exits)
    npl = states.mask(states.npl)
    outstanding = B[:, ~exits].sum(axis=1)
    cat_idx = [states.index(c) for c in _CATS]
    specific = B[:, cat_idx] @ specific_ratios(pol)
    general = pol["provisions"]["general_ratio"] * outstanding
    out = pd.DataFrame(B, columns=states.labels, index=pd.RangeIndex(len(B), name="month"))
    with np.errstate(divide="ignore", invalid="ignore"):
        out["outstanding"] = outstanding
        out["npl_balance"] = B[:, npl].sum(axis=1)
        out["npl_ratio"] = np.where(outstanding > 0, out["npl_balance"] / outstanding, np.nan)
    out["provisions"] = general + specific
    out["losses"] = B[:, states.index("written_off")] if "written_off" in states.labels else 0.0
    return out


def _migration_stress(matrix, kind: str, value: float):
    """Stressed matrix from :mod:`riskkit.migration` (multiplier on down-migration or Z)."""
    from .. import migration

    fn = getattr(migration, "stress_matrix", None)
    if fn is None:
        raise RuntimeError("riskkit.migration has no stress function yet (stress_matrix)")
    if kind == "multiplier":
        return fn(matrix, multiplier=value)
    return fn(matrix, z=value)


class PortfolioWhatIf(w.VBox):
    """The portfolio dashboard (an ``ipywidgets.VBox``); see :func:`portfolio_dashboard`.

    Controls: ``stress_kind`` (``multiplier`` or ``z``), ``multiplier``, ``z``, ``horizon``
    (months), ``general_ratio`` and ``specific`` (dict category -> slider, % of balance) for
    the scenario's provision ratios. Value widgets: ``summary_out`` and ``chart``;
    ``baseline`` and ``scenario`` hold the last paths (:func:`portfolio_path`).
    """

    def __init__(self, matrix, balances, *, policy=None, horizon: int = 12, stress=None):
        self.policy = load_policy(policy)
        self.matrix = matrix
        self.start = category_balances(balances, matrix.states)
        self.stress = stress or _migration_stress
        self.baseline = self.scenario = None
        style = {"description_width": "190px"}
        lay = w.Layout(width="460px")
        self.stress_kind = w.ToggleButtons(
            options=[("down-migration multiplier", "multiplier"), ("one-factor Z", "z")],
            value="multiplier",
            description="Stress",
            style=style,
        )
        self.multiplier = w.FloatSlider(
            value=1.5, min=0.5, max=3.0, step=0.1, description="Down-migration x",
            continuous_update=False, style=style, layout=lay,
        )  # fmt: skip
        self.z = w.FloatSlider(
            value=-1.0, min=-3.0, max=3.0, step=0.1, description="Z (negative = downturn)",
            continuous_update=False, style=style, layout=lay,
        )  # fmt: skip
        self.horizon = w.IntSlider(
            value=horizon, min=1, max=36, description="Horizon (months)",
            continuous_update=False, style=style, layout=lay,
        )  # fmt: skip
        prov = self.policy["provisions"]
        self.general_ratio = w.FloatSlider(
            value=prov["general_ratio"] * 100, min=0, max=5, step=0.1,
            description="General reserve %", continuous_update=False, style=style, layout=lay,
        )  # fmt: skip
        from ..provisions import specific_ratios

        base = specific_ratios(self.policy)
        self.specific = {
            c: w.FloatSlider(
                value=round(base[k] * 100, 2),
                min=0,
                max=100,
                step=0.5,
                description=f"{Category.parse(c).en} %",
                continuous_update=False,
                style=style,
                layout=lay,
            )  # fmt: skip
            for k, c in enumerate(_CATS)
            if c != "normal"
        }
        self.summary_out = w.HTML(
            layout=w.Layout(border="1px solid #ccd", padding="6px", margin="4px")
        )
        self.summary_out.add_class("rk-portfolio-summary")
        self.chart = w.HTML()
        self.chart.add_class("rk-portfolio-chart")
        self.error_out = w.HTML()
        self.multiplier.add_class("rk-multiplier")
        for c in (
            self.stress_kind,
            self.multiplier,
            self.z,
            self.horizon,
            self.general_ratio,
            *self.specific.values(),
        ):
            c.observe(lambda _: self.update(), names="value")
        super().__init__(
            [
                w.HTML(
                    "<h3>Portfolio what-if</h3><div>Start: outstanding "
                    f"{money(self.start[~matrix.states.mask(matrix.states.exits)].sum())} "
                    f"RMB; monthly migration matrix ({html.escape(str(matrix.method))}).</div>"
                ),
                w.HBox(
                    [
                        w.VBox([self.stress_kind, self.multiplier, self.z, self.horizon]),
                        w.VBox(
                            [
                                w.HTML("<b>Scenario provision ratios</b>"),
                                self.general_ratio,
                                *self.specific.values(),
                            ]
                        ),
                    ]
                ),
                self.summary_out,
                self.error_out,
                self.chart,
            ]
        )
        self.update()

    def scenario_policy(self):
        """The policy with the scenario's provision ratios."""
        spec = {c: s.value / 100 for c, s in self.specific.items()}
        return load_policy(
            {
                **{k: v for k, v in self.policy.items() if k != "provisions"},
                "provisions": {
                    **self.policy["provisions"],
                    "general_ratio": self.general_ratio.value / 100,
                    "specific_ratio": {"normal": 0.0, **spec},
                    "float": {k: 0.0 for k in self.policy["provisions"]["float"]},
                },
            }
        )

    def update(self) -> None:
        """Recompute baseline and scenario paths and refresh the value widgets."""
        kind = self.stress_kind.value
        self.multiplier.disabled = kind != "multiplier"
        self.z.disabled = kind != "z"
        h = int(self.horizon.value)
        try:
            value = self.multiplier.value if kind == "multiplier" else self.z.value
            stressed = self.stress(self.matrix, kind, value)
            self.baseline = portfolio_path(self.matrix, self.start, h, self.policy)
            self.scenario = portfolio_path(stressed, self.start, h, self.scenario_policy())
        except (ValueError, KeyError, RuntimeError) as exc:
            self.error_out.value = error_html(exc)
            return
        self.error_out.value = ""
        b, s = self.baseline.iloc[-1], self.scenario.iloc[-1]
        rows = [
            ("NPL ratio", pct(b["npl_ratio"], 2), pct(s["npl_ratio"], 2),
             f"{(s['npl_ratio'] - b['npl_ratio']) * 100:+.2f} pp"),
            ("Provisions", money(b["provisions"]), money(s["provisions"]),
             f"{s['provisions'] - b['provisions']:+,.0f}"),
            ("Losses (written off)", money(b["losses"]), money(s["losses"]),
             f"{s['losses'] - b['losses']:+,.0f}"),
            ("Outstanding", money(b["outstanding"]), money(s["outstanding"]),
             f"{s['outstanding'] - b['outstanding']:+,.0f}"),
        ]  # fmt: skip
        body = "".join(
            f"<tr><th style='text-align:left;padding-right:12px'>{k}</th>"
            + "".join(
                f"<td class='rk-value' style='text-align:right;padding:0 8px'>{v}</td>"
                for v in vals
            )
            + "</tr>"
            for k, *vals in rows
        )
        what = (
            f"down-migration x{self.multiplier.value:.1f}"
            if kind == "multiplier"
            else f"Z = {self.z.value:+.1f}"
        )
        self.summary_out.value = (
            f"<b>After {h} month(s): baseline vs scenario ({what})</b><table>"
            "<tr><th></th><th>baseline</th><th>scenario</th><th>change</th></tr>"
            f"{body}</table>"
        )
        self.chart.value = self._figure(what)

    def _figure(self, what: str) -> str:
        fig, (ax1, ax2) = new_figure(10, 3.2, ncols=2)
        for path, label, style in ((self.baseline, "baseline", "-"), (self.scenario, what, "--")):
            ax1.plot(path.index, path["npl_ratio"] * 100, style, label=label)
            ax2.plot(path.index, path["provisions"] / 1e6, style, label=label)
        ax1.set_title("NPL ratio (%)", fontsize=10)
        ax2.set_title("provisions (million RMB)", fontsize=10)
        for ax in (ax1, ax2):
            ax.set_xlabel("months ahead")
            ax.legend(fontsize=8)
        return figure_html(fig)


def portfolio_dashboard(matrix, balances, *, policy=None, horizon: int = 12, stress=None):
    """Open the portfolio what-if dashboard (one line in a notebook).

    Parameters
    ----------
    matrix : riskkit.migration.TransitionMatrix
        Monthly matrix over the five categories plus ``repaid`` and ``written_off``.
    balances : ClassificationResult, per-loan frame (``category``, ``outstanding_principal``)
        or Series of balance by category: the book today.
    stress : callable, optional
        ``stress(matrix, kind, value) -> TransitionMatrix`` with ``kind`` ``"multiplier"`` or
        ``"z"``; default :mod:`riskkit.migration`'s stress.

    Examples
    --------
    >>> from riskkit.widgets import portfolio_dashboard     # doctest: +SKIP
    >>> portfolio_dashboard(monthly_matrix, classification) # doctest: +SKIP
    """
    return PortfolioWhatIf(matrix, balances, policy=policy, horizon=horizon, stress=stress)
