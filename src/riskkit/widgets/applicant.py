"""Applicant what-if: score, reason codes, PD and grade, limit, installment, expected loss,
price floor and recommendation for one application while the committee changes its terms.

The business rules live in :mod:`riskkit.lending`; this module only wires controls to them.

Examples
--------
>>> from riskkit.widgets import applicant_dashboard     # doctest: +SKIP
>>> applicant_dashboard(scorecard, applications)        # doctest: +SKIP
"""

from __future__ import annotations

import html
import warnings

import ipywidgets as w
import pandas as pd

from ..book.enums import RepaymentMethod
from ..errors import ValidationError
from ..lending import (
    AMORTISING_METHODS,
    DERIVED_FEATURES,
    GUARANTEE_LABELS,
    Application,
    Assessment,
    assess_with_model,
    model_input,
)
from ..policy import load_policy
from ..privacy import PII_COLUMNS, mask_frame
from .common import (
    check_model,
    error_html,
    kv_html,
    model_features,
    money,
    no_update,
    pct,
)

#: Loan terms the committee changes; when the scorecard also uses one of these columns as a
#: feature, the control's value is what the model sees.
TERM_FIELDS = (
    "amount",
    "term_months",
    "annual_rate",
    "repayment_method",
    "guarantee_type",
    "monthly_income",
    "collateral_value",
    "households",
    "other_debt_service",
)


_REC_COLOURS = {
    "approve": "#1a7f37",
    "approve with conditions": "#9a6700",
    "decline as requested": "#a40000",
    "decline": "#a40000",
}


class ApplicantWhatIf(w.VBox):
    """The applicant dashboard (an ``ipywidgets.VBox``); see :func:`applicant_dashboard`.

    Controls: ``application`` (choose one), ``features`` (dict column -> control for the other
    scorecard inputs), ``amount``, ``term``, ``rate`` (% a year), ``method``, ``guarantee``,
    ``collateral_value``, ``households``, ``income``, ``other_debt``.
    Value widgets: ``score_out``, ``reasons_out``, ``limit_out``, ``installment_out``,
    ``loss_out``, ``recommendation_out``, ``error_out``. The last result is ``assessment``.
    """

    def __init__(
        self,
        model,
        applications: pd.DataFrame,
        *,
        policy=None,
        cutoff: float | None = None,
        columns: dict | None = None,
        n_reasons: int = 4,
        max_choices: int = 300,
        master_scale=None,
        model_version: str | None = None,
    ):
        check_model(model)
        _check_applications(applications)
        self.model_version = model_version
        self.model = model
        self.policy = load_policy(policy)
        self.cutoff = cutoff
        self.n_reasons = n_reasons
        if master_scale is None:
            from ..scoring import MasterScale

            master_scale = MasterScale(policy=self.policy)
        self.master_scale = master_scale
        self.applications = applications
        self.features = model_features(model, applications)
        cols = {f: f for f in TERM_FIELDS if f in applications.columns}
        cols.update(columns or {})
        self.columns = cols  # loan term -> column of `applications`
        self.assessment: Assessment | None = None
        self._hold = False

        style = {"description_width": "150px"}
        lay = w.Layout(width="340px")
        ids = [str(i) for i in applications.index[:max_choices]]
        self.application = w.Dropdown(
            options=ids, value=ids[0], description="Application", style=style, layout=lay
        )
        self.feature_controls = self._make_feature_controls(style, lay)
        self._term_controls = self._make_term_controls(style, lay)
        self._make_outputs()
        self._observe_controls()
        super().__init__(self._layout())
        self._on_select({"new": self.application.value})

    # -------------------------------------------------------------- construction
    def _make_feature_controls(self, style: dict, lay: w.Layout) -> dict[str, w.Widget]:
        """A control per scorecard input that is not a loan term (numbers or a choice)."""
        term_cols = set(self.columns.values()) | set(DERIVED_FEATURES)
        controls: dict[str, w.Widget] = {}
        for f in self.features:
            if f in term_cols:
                continue
            s = self.applications[f]
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                c = w.FloatText(description=f, style=style, layout=lay)
            else:
                opts = sorted(str(v) for v in s.dropna().unique())
                c = w.Dropdown(options=opts, description=f, style=style, layout=lay)
            controls[f] = c
        return controls

    def _make_term_controls(self, style: dict, lay: w.Layout) -> dict[str, w.Widget]:
        """The loan-term controls (also attributes: ``amount``, ``term``, ...) by term name."""
        self.amount = w.BoundedFloatText(
            value=100_000, min=1, max=10_000_000, step=10_000, description="Amount (RMB)",
            style=style, layout=lay,
        )  # fmt: skip
        max_term = 60
        if "term_months" in self.columns:
            max_term = max(max_term, int(self.applications[self.columns["term_months"]].max()))
        self.term = w.IntSlider(
            value=12, min=1, max=max_term, description="Term (months)", style=style, layout=lay
        )
        self.rate = w.BoundedFloatText(
            value=12.0, min=0, max=100, step=0.25, description="Rate (% a year)",
            style=style, layout=lay,
        )  # fmt: skip
        self.method = w.Dropdown(
            options=[(m.value.replace("_", " "), m.value) for m in RepaymentMethod],
            value="annuity", description="Repayment", style=style, layout=lay,
        )  # fmt: skip
        self.guarantee = w.Dropdown(
            options=[(label, code) for code, label in GUARANTEE_LABELS.items()],
            value="credit", description="Guarantee", style=style, layout=lay,
        )  # fmt: skip
        self.collateral_value = w.BoundedFloatText(
            value=0, min=0, max=100_000_000, step=10_000, description="Collateral value",
            style=style, layout=lay,
        )  # fmt: skip
        self.households = w.BoundedIntText(
            value=3, min=1, max=10, description="Joint households", style=style, layout=lay
        )
        self.income = w.BoundedFloatText(
            value=10_000, min=0, max=100_000_000, step=1_000, description="Monthly income",
            style=style, layout=lay,
        )  # fmt: skip
        self.other_debt = w.BoundedFloatText(
            value=0, min=0, max=100_000_000, step=500, description="Other debt / month",
            style=style, layout=lay,
        )  # fmt: skip
        return {
            "amount": self.amount,
            "term_months": self.term,
            "annual_rate": self.rate,
            "repayment_method": self.method,
            "guarantee_type": self.guarantee,
            "monthly_income": self.income,
            "collateral_value": self.collateral_value,
            "households": self.households,
            "other_debt_service": self.other_debt,
        }

    def _make_outputs(self) -> None:
        """The value widgets (``score_out``, ``reasons_out``, ...), each with its CSS class."""
        box = {"border": "1px solid #ccd", "padding": "6px", "margin": "4px"}
        self.score_out = w.HTML(layout=w.Layout(**box))
        self.reasons_out = w.HTML(layout=w.Layout(**box))
        self.limit_out = w.HTML(layout=w.Layout(**box))
        self.installment_out = w.HTML(layout=w.Layout(**box))
        self.loss_out = w.HTML(layout=w.Layout(**box))
        self.recommendation_out = w.HTML(layout=w.Layout(**box))
        self.error_out = w.HTML()
        for name in ("score", "reasons", "limit", "installment", "loss", "recommendation", "error"):
            getattr(self, f"{name}_out").add_class(f"rk-applicant-{name}")
        for name, c in (("amount", self.amount), ("term", self.term), ("rate", self.rate)):
            c.add_class(f"rk-{name}")

    def _observe_controls(self) -> None:
        """Choosing an application prefills the controls; changing a control recomputes."""
        controls = [
            self.application,
            *self._term_controls.values(),
            *self.feature_controls.values(),
        ]
        for c in controls:
            no_update(c)
        self.application.observe(self._on_select, names="value")
        for c in controls[1:]:
            c.observe(self._on_change, names="value")

    def _layout(self) -> list[w.Widget]:
        """Loan terms and applicant fields on the left, the results on the right."""
        terms = w.VBox(
            [w.HTML("<b>Loan terms</b>"), self.application, *self._term_controls.values()]
        )
        feats = w.VBox([w.HTML("<b>Applicant</b>"), *self.feature_controls.values()])
        results = w.VBox(
            [
                self.recommendation_out,
                w.HBox([self.score_out, self.limit_out]),
                w.HBox([self.installment_out, self.loss_out]),
                self.reasons_out,
                self.error_out,
            ]
        )
        return [
            w.HTML("<h3>Applicant what-if</h3>"),
            w.HBox([w.VBox([terms, feats]), results]),
        ]

    # -------------------------------------------------------------- callbacks
    def _on_select(self, change) -> None:
        row = self.applications.loc[self._index_of(change["new"])]
        self._hold = True
        try:
            for f, c in self.feature_controls.items():
                v = row[f]
                if isinstance(c, w.Dropdown):
                    c.value = str(v) if str(v) in c.options else c.options[0]
                else:
                    c.value = float(v) if pd.notna(v) else 0.0
            for term, col in self.columns.items():
                v = row[col]
                if pd.isna(v):
                    continue
                c = self._term_controls[term]
                if term == "annual_rate":
                    c.value = round(float(v) * 100, 4)
                elif isinstance(c, w.Dropdown):
                    if str(v) in [o[1] for o in c.options]:
                        c.value = str(v)
                elif isinstance(c, (w.IntSlider, w.BoundedIntText)):
                    c.value = int(v)
                else:
                    c.value = float(v)
            ltv = row.get("loan_to_value")
            if "collateral_value" not in self.columns:
                ok = ltv is not None and pd.notna(ltv) and ltv > 0
                self.collateral_value.value = float(self.amount.value / ltv) if ok else 0.0
            ng = row.get("n_guarantors")
            if "households" not in self.columns and self.guarantee.value == "joint":
                if ng is not None and pd.notna(ng):
                    self.households.value = max(int(ng) + 1, 1)
        finally:
            self._hold = False
        self.update()

    def _on_change(self, change) -> None:
        if not self._hold:
            self.update()

    def _index_of(self, label: str):
        idx = self.applications.index
        pos = [str(i) for i in idx].index(label)
        return idx[pos]

    # -------------------------------------------------------------- model input
    def current_application(self) -> Application:
        """The terms as the controls show them."""
        return Application(
            amount=float(self.amount.value),
            term_months=int(self.term.value),
            annual_rate=float(self.rate.value) / 100.0,
            repayment_method=self.method.value,
            guarantee_type=self.guarantee.value,
            monthly_income=float(self.income.value),
            collateral_value=float(self.collateral_value.value),
            households=int(self.households.value),
            other_debt_service=float(self.other_debt.value),
            application_id=str(self.application.value),
        )

    def current_applicant(self) -> pd.Series:
        """The chosen application's row with the committee's edits of the applicant fields."""
        row = self.applications.loc[self._index_of(self.application.value)].copy()
        for f, c in self.feature_controls.items():
            row[f] = c.value
        return row

    def current_features(self) -> pd.DataFrame:
        """One-row frame of the scorecard inputs: the chosen application, edited, with the
        terms of the controls (:func:`riskkit.lending.model_input`)."""
        return model_input(
            self.current_applicant(), self.current_application(), self.features, self.columns
        )

    # -------------------------------------------------------------- recompute
    def update(self) -> None:
        """Score the current application and refresh every value widget."""
        try:
            a, rc, notes = self._assess()
        except (ValidationError, ValueError, KeyError) as exc:
            self._show_error(exc)
            return
        self.assessment = a
        self.error_out.value = "".join(
            f"<div class='rk-note' style='color:#9a6700'>Note: {html.escape(n)}</div>"
            for n in notes
        )
        self.score_out.value = _score_html(a, self.cutoff, self.model_version)
        self.reasons_out.value = _reasons_html(rc, self.n_reasons)
        self.limit_out.value = _limit_html(a)
        self.installment_out.value = _affordability_html(a, self.policy)
        self.loss_out.value = _loss_html(a)
        self.recommendation_out.value = _recommendation_html(a)

    def _assess(self) -> tuple[Assessment, pd.Series, list[str]]:
        """The assessment of the current terms, its reason codes and the warnings raised."""
        X = self.current_features()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            a = assess_with_model(
                self.current_application(),
                self.current_applicant(),
                self.model,
                features=self.features,
                policy=self.policy,
                master_scale=self.master_scale,
                cutoff=self.cutoff,
                model_version=self.model_version,
            )
            rc = self.model.reason_codes(X, self.n_reasons).iloc[0]
        return a, rc, sorted({str(c.message) for c in caught})

    def _show_error(self, exc: Exception) -> None:
        """No assessment: the error, every value widget empty."""
        self.assessment = None
        self.error_out.value = error_html(exc)
        for out in (
            self.score_out,
            self.limit_out,
            self.installment_out,
            self.loss_out,
            self.recommendation_out,
            self.reasons_out,
        ):
            out.value = ""


def _check_applications(applications) -> None:
    if not isinstance(applications, pd.DataFrame) or applications.empty:
        raise ValueError("applications must be a non-empty DataFrame (one row per application)")
    if not applications.index.is_unique:
        raise ValueError("applications index must be unique (it identifies an application)")


def _score_html(a: Assessment, cutoff: float | None, model_version: str | None) -> str:
    return kv_html(
        [
            ("Score", f"{a.score:.0f}"),
            ("PD (12 months)", pct(a.pd, 2)),
            ("Grade", str(a.grade)),
            ("Cut-off", "–" if cutoff is None else f"{cutoff:.0f}"),
            ("Model", model_version or "not registered"),
        ],
        "Score",
    )


def _reasons_html(rc: pd.Series, n_reasons: int) -> str:
    """The reason codes: points lost against each feature's best bin."""
    reasons = [
        (str(rc[f"reason_{k}"]), float(rc[f"points_lost_{k}"]))
        for k in range(1, n_reasons + 1)
        if f"reason_{k}" in rc.index and str(rc[f"reason_{k}"])
    ]
    items = "".join(f"<li>{html.escape(name)}: -{lost:.0f} points</li>" for name, lost in reasons)
    return (
        "<b>Reason codes</b> (points lost against each feature's best bin)"
        f"<ol class='rk-reason-codes'>{items or '<li>none: best bin everywhere</li>'}</ol>"
    )


def _limit_html(a: Assessment) -> str:
    return kv_html(
        [
            ("Guarantee structure limit", money(a.structure_limit)),
            ("Repayment capacity", money(a.capacity_limit)),
            ("Suggested limit", money(a.suggested_limit)),
            ("Requested", money(a.application.amount)),
            ("Exceeds limit", "yes" if a.exceeds_limit else "no"),
        ],
        "Limit",
    )


def _affordability_html(a: Assessment, policy) -> str:
    """Installment (or debt service for non-amortising loans) against income and the policy."""
    amortising = a.application.repayment_method in AMORTISING_METHODS
    return kv_html(
        [
            (
                "Monthly installment" if amortising else "Monthly debt service (total / term)",
                f"{a.installment:,.2f}",
            ),
            ("Principal at maturity", money(a.balloon)),
            (
                "Installment / income" if amortising else "Debt service / income",
                pct(a.installment_to_income),
            ),
            (
                "Policy maximum",
                pct(policy["limits"]["max_installment_to_income"], 0),
            ),
        ],
        "Affordability",
    )


def _loss_html(a: Assessment) -> str:
    return kv_html(
        [
            ("LGD", pct(a.lgd)),
            ("Expected loss", money(a.expected_loss)),
            ("Risk-based price floor", pct(a.price_floor, 2)),
            ("Offered rate", pct(a.application.annual_rate, 2)),
        ],
        "Loss and price",
    )


def _recommendation_html(a: Assessment) -> str:
    """The recommendation, its reasons and the counter-offer if any."""
    colour = _REC_COLOURS[a.recommendation]
    why = "".join(
        f"<li class='rk-{r.effect}'>[{r.effect}] {html.escape(r.text)}</li>" for r in a.reasons
    )
    return (
        f"<div style='font-size:1.2em;color:{colour}'><b>Recommendation: "
        f"<span class='rk-recommendation'>{a.recommendation}</span></b></div><ul>{why}</ul>"
        + _counter_offer_html(a.counter_offer)
    )


def _counter_offer_html(offer) -> str:
    """The counter-offer at the suggested limit, when the request breaches a hard rule."""
    if offer is None:
        return ""
    amortising = offer.application.repayment_method in AMORTISING_METHODS
    rows = [
        ("Amount", money(offer.application.amount)),
        ("Monthly installment" if amortising else "Monthly debt service", money(offer.installment)),
        ("Installment / income", pct(offer.installment_to_income)),
        ("PD (12 months)", pct(offer.pd, 2)),
        ("Expected loss", money(offer.expected_loss)),
        ("Recommendation", offer.recommendation),
    ]
    return "<div class='rk-counter-offer'>" + kv_html(rows, "Counter-offer") + "</div>"


def applicant_dashboard(
    model,
    applications: pd.DataFrame,
    *,
    policy=None,
    cutoff: float | None = None,
    columns: dict | None = None,
    n_reasons: int = 4,
    master_scale=None,
    model_version: str | None = None,
) -> ApplicantWhatIf:
    """Open the applicant what-if dashboard (one line in a notebook).

    Parameters
    ----------
    model : fitted scorecard
        :class:`riskkit.scoring.Scorecard` or anything with ``predict_proba``,
        ``credit_score`` and ``reason_codes``.
    applications : DataFrame
        One row per application (index = application id) with the scorecard's input columns;
        loan-term columns (``amount``, ``term_months``, ``annual_rate``, ``repayment_method``,
        ``guarantee_type``, ``monthly_income``, ...) prefill the controls. Columns with personal
        data are never shown.
    policy : Policy, mapping, path or None
        Limits, pricing and affordability rules (``limits:`` section).
    cutoff : float, optional
        Score cut-off; below it the recommendation is decline.
    columns : dict, optional
        Loan term -> column name when the sample names them differently.
    master_scale : riskkit.scoring.MasterScale, optional
        Rating grades; default the policy's ``scorecard.master_scale``.
    model_version : str, optional
        The registered version of ``model`` (the approved champion), shown with every score.

    Examples
    --------
    >>> from riskkit.widgets import applicant_dashboard     # doctest: +SKIP
    >>> applicant_dashboard(scorecard, sample)              # doctest: +SKIP
    """
    if any(c in applications.columns for c in PII_COLUMNS):
        applications = mask_frame(applications)
    return ApplicantWhatIf(
        model,
        applications,
        policy=policy,
        cutoff=cutoff,
        columns=columns,
        n_reasons=n_reasons,
        master_scale=master_scale,
        model_version=model_version,
    )
