"""Cut-off what-if: move the score cut-off and see approval rate, expected and observed bad
rate, expected loss and volume on the validation sample, with a chart.

The strategy table comes from :func:`riskkit.lending.cutoff_strategy`; this module scores the
sample once and wires the slider to that table.
"""

from __future__ import annotations

import ipywidgets as w
import numpy as np
import pandas as pd

from ..lending import cutoff_strategy, loss_given_default
from ..policy import load_policy
from .common import check_model, figure_html, kv_html, model_features, money, new_figure, pct


class CutoffWhatIf(w.VBox):
    """The cut-off dashboard (an ``ipywidgets.VBox``); see :func:`cutoff_dashboard`.

    Control: ``cutoff`` (IntSlider). Value widgets: ``approval_out``, ``risk_out``,
    ``volume_out``, ``chart`` (HTML with the figure as an inline PNG).
    ``table`` holds the full strategy table (one row per integer cut-off); ``current`` the row
    shown.
    """

    def __init__(
        self,
        model,
        sample: pd.DataFrame,
        *,
        target: str | None = "bad",
        amount: str = "amount",
        guarantee: str | None = "guarantee_type",
        collateral: str | None = "collateral_value",
        cutoff: float | None = None,
        policy=None,
    ):
        check_model(model)
        if not isinstance(sample, pd.DataFrame) or sample.empty:
            raise ValueError("sample must be a non-empty DataFrame (the validation sample)")
        if amount not in sample.columns:
            raise KeyError(f"sample has no amount column {amount!r} (exposure for EL and volume)")
        self.model = model
        self.policy = load_policy(policy)
        feats = model_features(model, sample)
        X = sample[feats]
        self.scores = np.asarray(model.credit_score(X), dtype=float)
        self.pd = np.asarray(model.predict_proba(X))[:, 1]
        self.ead = sample[amount].to_numpy(dtype=float)
        g = (
            sample[guarantee].astype(str).to_numpy()
            if guarantee and guarantee in sample.columns
            else np.full(len(sample), "credit")
        )
        if collateral and collateral in sample.columns:
            cv = sample[collateral].fillna(0).to_numpy(dtype=float)
        elif "loan_to_value" in sample.columns:  # application_sample: amount / value
            ltv = sample["loan_to_value"].to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                cv = np.where(ltv > 0, self.ead / ltv, 0.0)
        else:
            cv = np.zeros(len(sample))
        # secured loans without a valuation are treated as unsecured (conservative LGD)
        unvalued = np.isin(g, ["mortgage", "pledge"]) & ~(cv > 0)
        self.n_unvalued = int(unvalued.sum())
        g = np.where(unvalued, "credit", g)
        self.lgd = loss_given_default(g, self.ead, cv, self.policy, ids=sample.index.to_numpy())
        self.bad = (
            sample[target].to_numpy() if target is not None and target in sample.columns else None
        )
        lo, hi = int(np.floor(self.scores.min())), int(np.ceil(self.scores.max()))
        self.table = cutoff_strategy(
            self.scores, self.pd, self.ead, self.lgd, self.bad, cutoffs=np.arange(lo, hi + 2)
        )
        start = int(round(np.median(self.scores))) if cutoff is None else int(cutoff)
        self.cutoff = w.IntSlider(
            value=min(max(start, lo), hi + 1),
            min=lo,
            max=hi + 1,
            step=1,
            description="Score cut-off",
            continuous_update=False,
            style={"description_width": "110px"},
            layout=w.Layout(width="520px"),
        )
        self.cutoff.add_class("rk-cutoff")
        box = {"border": "1px solid #ccd", "padding": "6px", "margin": "4px"}
        self.approval_out = w.HTML(layout=w.Layout(**box))
        self.risk_out = w.HTML(layout=w.Layout(**box))
        self.volume_out = w.HTML(layout=w.Layout(**box))
        self.approval_out.add_class("rk-cutoff-approval")
        self.risk_out.add_class("rk-cutoff-risk")
        self.volume_out.add_class("rk-cutoff-volume")
        self.chart = w.HTML()
        self.chart.add_class("rk-cutoff-chart")
        self.current = None
        self.cutoff.observe(lambda _: self.update(), names="value")
        super().__init__(
            [
                w.HTML(
                    f"<h3>Cut-off what-if</h3><div>Validation sample: {len(sample):,} "
                    "applications; approve when score &ge; cut-off."
                    + (
                        f" {self.n_unvalued:,} secured loan(s) without a collateral value "
                        "take the unsecured LGD."
                        if self.n_unvalued
                        else ""
                    )
                    + "</div>"
                ),
                self.cutoff,
                w.HBox([self.approval_out, self.risk_out, self.volume_out]),
                self.chart,
            ]
        )
        self.update()

    def update(self) -> None:
        """Refresh the figures and the chart for the slider's cut-off."""
        c = int(self.cutoff.value)
        row = self.table.loc[c]
        self.current = row
        n = len(self.scores)
        self.approval_out.value = kv_html(
            [
                ("Cut-off", f"{c}"),
                ("Approved", f"{int(row['approved']):,} of {n:,}"),
                ("Approval rate", pct(row["approval_rate"])),
            ],
            "Approval",
        )
        risk = [("Expected bad rate", pct(row["expected_bad_rate"], 2))]
        if "observed_bad_rate" in row.index:
            risk.append(("Observed bad rate", pct(row["observed_bad_rate"], 2)))
        risk.append(("Expected loss", money(row["expected_loss"])))
        risk.append(("Loss rate (EL / volume)", pct(row["loss_rate"], 2)))
        self.risk_out.value = kv_html(risk, "Risk of the approved")
        self.volume_out.value = kv_html(
            [
                ("Volume approved", money(row["volume"])),
                ("Volume declined", money(self.ead.sum() - row["volume"])),
            ],
            "Volume (RMB)",
        )
        self.chart.value = self._figure(c)

    def _figure(self, c: int) -> str:
        t = self.table
        fig, (ax1, ax2) = new_figure(10, 3.4, ncols=2)
        ax1.plot(t.index, t["approval_rate"], label="approval rate", color="#1f5fa8")
        ax1.set_ylabel("approval rate", color="#1f5fa8")
        ax1b = ax1.twinx()
        ax1b.plot(t.index, t["expected_bad_rate"], label="expected bad rate", color="#c0392b")
        if "observed_bad_rate" in t.columns:
            ax1b.plot(
                t.index,
                t["observed_bad_rate"],
                label="observed bad rate",
                color="#c0392b",
                linestyle=":",
            )
        ax1b.set_ylabel("bad rate of the approved", color="#c0392b")
        ax1b.set_ylim(0, None)
        ax1.axvline(c, color="black", linewidth=1)
        ax1.set_xlabel("score cut-off")
        ax1.set_ylim(0, 1.02)
        h1, l1 = ax1.get_legend_handles_labels()
        h2, l2 = ax1b.get_legend_handles_labels()
        ax1.legend(
            h1 + h2, l1 + l2, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3
        )
        ax1.set_title(f"cut-off {c}: approve {t.loc[c, 'approval_rate']:.0%}", fontsize=10)
        bins = np.linspace(self.scores.min(), self.scores.max() + 1, 30)
        if self.bad is not None:
            bad = self.bad.astype(bool)
            ax2.hist(self.scores[~bad], bins=bins, alpha=0.6, label="good", color="#1f5fa8")
            ax2.hist(self.scores[bad], bins=bins, alpha=0.6, label="bad", color="#c0392b")
            ax2.legend(fontsize=8, loc="upper right")
        else:
            ax2.hist(self.scores, bins=bins, color="#1f5fa8")
        ax2.axvspan(self.scores.min(), c, color="grey", alpha=0.15)
        ax2.axvline(c, color="black", linewidth=1)
        ax2.set_xlabel("score (shaded: declined)")
        ax2.set_title("validation sample", fontsize=10)
        return figure_html(fig)


def cutoff_dashboard(
    model,
    sample: pd.DataFrame,
    *,
    target: str | None = "bad",
    amount: str = "amount",
    guarantee: str | None = "guarantee_type",
    cutoff: float | None = None,
    policy=None,
) -> CutoffWhatIf:
    """Open the cut-off what-if dashboard (one line in a notebook).

    Parameters
    ----------
    model : fitted scorecard (``predict_proba``, ``credit_score``, ``reason_codes``)
    sample : DataFrame
        Validation sample: the scorecard's inputs, the exposure column ``amount``, optionally
        the outcome ``target`` (0/1) and ``guarantee`` type (for LGD).
    cutoff : float, optional
        Starting cut-off (default: the median score).

    Examples
    --------
    >>> from riskkit.widgets import cutoff_dashboard        # doctest: +SKIP
    >>> cutoff_dashboard(scorecard, validation)             # doctest: +SKIP
    """
    return CutoffWhatIf(
        model,
        sample,
        target=target,
        amount=amount,
        guarantee=guarantee,
        cutoff=cutoff,
        policy=policy,
    )
