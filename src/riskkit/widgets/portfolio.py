"""Portfolio what-if: stress the monthly migration matrix (down-migration multiplier or
one-factor Z shift), change provision ratios and the horizon, and compare NPL ratio,
provisions and losses of the baseline and the scenario.

Projection (:func:`riskkit.migration.project`) and stress
(:func:`riskkit.migration.down_multiplier_stress`, :func:`riskkit.migration.bsf_stress`) come
from :mod:`riskkit.migration`; this module wires controls to them.
"""

from __future__ import annotations

import copy
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

    frame = getattr(balances, "table", balances)
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


def migration_stress(matrix, kind: str, value: float, policy=None):
    """Stressed matrix: :func:`riskkit.migration.down_multiplier_stress` (``kind="multiplier"``)
    or :func:`riskkit.migration.bsf_stress` (``kind="z"``, rho from policy ``migration.rho``)."""
    from ..migration import bsf_stress, down_multiplier_stress

    if kind == "multiplier":
        return down_multiplier_stress(matrix, float(value))
    if kind == "z":
        return bsf_stress(matrix, z=float(value), policy=policy)
    raise ValueError(f"stress kind must be 'multiplier' or 'z', got {kind!r}")


_STYLE = {"description_width": "190px"}


def _layout_row() -> w.Layout:
    return w.Layout(width="460px")


class PortfolioWhatIf(w.VBox):
    """The portfolio dashboard (an ``ipywidgets.VBox``); see :func:`portfolio_dashboard`.

    Controls: ``stress_kind`` (``multiplier`` or ``z``), ``multiplier``, ``z``, ``horizon``
    (months), ``general_ratio`` and ``specific`` (dict category -> slider, % of balance) for
    the scenario's provision ratios. Value widgets: ``summary_out`` and ``chart``;
    ``baseline`` and ``scenario`` hold the last :class:`riskkit.migration.Projection` frames.
    """

    def __init__(
        self, matrix, balances, *, policy=None, horizon: int = 12, amortisation=0.0, stress=None
    ):
        self.policy = load_policy(policy)
        self.matrix = matrix
        self.start = category_balances(balances, matrix.states)
        self.amortisation = amortisation
        self.stress = stress or (
            lambda m, kind, value: migration_stress(m, kind, value, self.policy)
        )
        self.baseline: pd.DataFrame | None = None
        self.scenario: pd.DataFrame | None = None
        self._add_stress_controls(horizon)
        self._add_provision_controls()
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
        super().__init__(self._layout())
        self.update()

    def _add_stress_controls(self, horizon: int) -> None:
        """Stress kind, down-migration multiplier, Z and horizon, defaults from the policy."""
        self.stress_kind = w.ToggleButtons(
            options=[("down-migration multiplier", "multiplier"), ("one-factor Z", "z")],
            value="multiplier",
            description="Stress",
            style={**_STYLE, "button_width": "180px"},
        )
        mig = self.policy["migration"]
        self.multiplier = w.FloatSlider(
            value=float(mig["down_multiplier"]), min=0.5, max=3.0, step=0.1, description="Down-migration x",
            continuous_update=False, style=_STYLE, layout=_layout_row(),
        )  # fmt: skip
        self.z = w.FloatSlider(
            value=float(mig["stress_z"]), min=-3.0, max=3.0, step=0.1, description="Z (negative = downturn)",
            continuous_update=False, style=_STYLE, layout=_layout_row(),
        )  # fmt: skip
        self.horizon = w.IntSlider(
            value=horizon, min=1, max=36, description="Horizon (months)",
            continuous_update=False, style=_STYLE, layout=_layout_row(),
        )  # fmt: skip

    def _add_provision_controls(self) -> None:
        """The scenario's general ratio and specific ratio per category (% of balance)."""
        from ..provisions import specific_ratios

        prov = self.policy["provisions"]
        self.general_ratio = w.FloatSlider(
            value=prov["general_ratio"] * 100, min=0, max=5, step=0.1,
            description="General reserve %", continuous_update=False, style=_STYLE,
            layout=_layout_row(),
        )  # fmt: skip
        base = specific_ratios(self.policy)
        self.specific = {
            c: w.FloatSlider(
                value=round(base[k] * 100, 2),
                min=0,
                max=100,
                step=0.5,
                description=f"{Category.parse(c).en} %",
                continuous_update=False,
                style=_STYLE,
                layout=_layout_row(),
            )  # fmt: skip
            for k, c in enumerate(_CATS)
            if c != "normal"
        }

    def _layout(self) -> list:
        states = self.matrix.states
        outstanding = self.start[~states.mask(states.exits)].sum()
        return [
            w.HTML(
                f"<h3>Portfolio what-if</h3><div>Start: outstanding {money(outstanding)} "
                f"RMB; monthly migration matrix ({html.escape(str(self.matrix.method))}).</div>"
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

    def scenario_policy(self):
        """A copy of the policy with the scenario's provision ratios (no float)."""
        p = copy.deepcopy(self.policy)
        prov = p["provisions"]
        prov["general_ratio"] = self.general_ratio.value / 100
        prov["specific_ratio"] = {
            "normal": 0.0,
            **{c: s.value / 100 for c, s in self.specific.items()},
        }
        prov["float"] = {k: 0.0 for k in prov["float"]}
        return p

    def _project(self, matrix, horizon, policy) -> pd.DataFrame:
        from ..migration import project

        frame = project(
            matrix, self.start, horizon, amortisation=self.amortisation, policy=policy
        ).table
        return frame

    def update(self) -> None:
        """Recompute baseline and scenario paths and refresh the value widgets."""
        kind = self.stress_kind.value
        self.multiplier.disabled = kind != "multiplier"
        self.z.disabled = kind != "z"
        h = int(self.horizon.value)
        try:
            value = self.multiplier.value if kind == "multiplier" else self.z.value
            stressed = self.stress(self.matrix, kind, value)
            baseline = self._project(self.matrix, h, self.policy)
            scenario = self._project(stressed, h, self.scenario_policy())
        except (ValueError, KeyError, RuntimeError) as exc:
            self.error_out.value = error_html(exc)
            return
        self.error_out.value = ""
        self.baseline, self.scenario = baseline, scenario
        b, s = baseline.iloc[-1], scenario.iloc[-1]
        rows = [
            ("NPL ratio", pct(b["npl_ratio"], 2), pct(s["npl_ratio"], 2),
             f"{(s['npl_ratio'] - b['npl_ratio']) * 100:+.2f} pp"),
            ("Provisions", money(b["provisions"]), money(s["provisions"]),
             f"{s['provisions'] - b['provisions']:+,.0f}"),
            ("Expected loss", money(b["expected_loss"]), money(s["expected_loss"]),
             f"{s['expected_loss'] - b['expected_loss']:+,.0f}"),
            ("Written off", money(b["written_off"]), money(s["written_off"]),
             f"{s['written_off'] - b['written_off']:+,.0f}"),
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
        self.chart.value = self._figure(what, baseline, scenario)

    def _figure(self, what: str, baseline: pd.DataFrame, scenario: pd.DataFrame) -> str:
        fig, (ax1, ax2) = new_figure(10, 3.2, ncols=2)
        for path, label, style in ((baseline, "baseline", "-"), (scenario, what, "--")):
            ax1.plot(path.index, path["npl_ratio"] * 100, style, label=label)
            ax2.plot(path.index, path["provisions"] / 1e6, style, label=label)
        ax1.set_title("NPL ratio (%)", fontsize=10)
        ax2.set_title("provisions (million RMB)", fontsize=10)
        for ax in (ax1, ax2):
            ax.set_xlabel("months ahead")
            ax.legend(fontsize=8)
        return figure_html(fig)


def portfolio_dashboard(
    matrix, balances, *, policy=None, horizon: int = 12, amortisation=0.0, stress=None
):
    """Open the portfolio what-if dashboard (one line in a notebook).

    Parameters
    ----------
    matrix : riskkit.migration.TransitionMatrix
        Monthly matrix over the five categories plus ``repaid``, ``recovered`` and
        ``written_off`` (:data:`riskkit.migration.FIVE_CATEGORY`).
    balances : ClassificationResult, per-loan frame (``category``, ``outstanding_principal``)
        or Series of balance by category: the book today.
    horizon : int
        Starting horizon in months (slider 1..36).
    amortisation : float or mapping state -> rate
        Monthly run-off of balances on the book (see :func:`riskkit.migration.project`).
    stress : callable, optional
        ``stress(matrix, kind, value) -> TransitionMatrix`` with ``kind`` ``"multiplier"`` or
        ``"z"``; default :func:`migration_stress`.

    Examples
    --------
    >>> from riskkit.widgets import portfolio_dashboard     # doctest: +SKIP
    >>> portfolio_dashboard(monthly_matrix, classification) # doctest: +SKIP
    """
    return PortfolioWhatIf(
        matrix, balances, policy=policy, horizon=horizon, amortisation=amortisation, stress=stress
    )
