"""One application assessed: limits, affordability, expected loss, price floor and a
recommendation with every reason (DOMAIN.md s.2, s.3 and s.7).

Hard rules come first. A request above the suggested limit (the smaller of the guarantee
structure's limit and the repayment capacity, i.e. installment/income above the policy maximum)
is **decline as requested** with a counter-offer at the suggested limit, never "approve with
conditions"; admission failures passed in ``extra_reasons`` decline. Then the risk rules (PD
above ``limits.max_pd`` or a score below the cut-off: decline), then the conditions (reprice to
the risk-based floor). Recommendations, worst first: ``decline``, ``decline as requested``,
``approve with conditions``, ``approve``.

:func:`assess_with_model` takes the PD from a scorecard (the approved champion) for the
requested terms, holding it non-decreasing in the amount: asking for more never lowers the PD
or the expected loss unless the policy names a model feature allowed to say why
(``limits.pd_may_fall_with_amount``).

Examples
--------
>>> from riskkit.lending import Application, assess_application
>>> app = Application(amount=300_000, term_months=12, annual_rate=0.12,
...                   repayment_method="annuity", guarantee_type="guaranteed",
...                   monthly_income=60_000)
>>> a = assess_application(app, pd_=0.05)
>>> a.suggested_limit, round(a.installment, 2), a.recommendation
(337000.0, 26654.64, 'approve')
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from ..policy import Policy, load_policy
from .affordability import capacity_limit, monthly_debt_service
from .limits import credit_limit, suggested_limit
from .pricing import expected_loss, loss_given_default, price_floor
from .terms import Application, check_terms, lending_limits

#: Recommendations, worst first.
RECOMMENDATIONS = ("decline", "decline as requested", "approve with conditions", "approve")
#: Reason effects: ``hard`` = a hard rule breached by the request (decline as requested).
EFFECTS = ("ok", "condition", "hard", "decline")


@dataclass(frozen=True)
class Reason:
    """One finding behind a recommendation: ``effect`` is ok, condition, hard (a hard rule
    the request breaches: decline as requested) or decline."""

    code: str
    effect: str
    text: str


@dataclass(frozen=True)
class Assessment:
    """Everything the committee sees for one application; see :func:`assess_application`."""

    application: Application
    pd: float
    lgd: float
    structure_limit: float
    capacity_limit: float
    suggested_limit: float
    exceeds_limit: bool
    installment: float
    balloon: float
    installment_to_income: float
    expected_loss: float
    price_floor: float
    recommendation: str
    reasons: tuple[Reason, ...] = field(default_factory=tuple)
    score: float | None = None
    grade: str | None = None
    counter_offer: Assessment | None = None
    model_version: str | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["reasons"] = [asdict(r) for r in self.reasons]
        d["counter_offer"] = None if self.counter_offer is None else self.counter_offer.to_dict()
        return d

    def __repr__(self) -> str:
        why = "; ".join(r.text for r in self.reasons if r.effect != "ok") or "all checks pass"
        offer = ""
        if self.counter_offer is not None:
            c = self.counter_offer
            offer = f"; counter-offer {c.application.amount:,.0f} ({c.recommendation})"
        return (
            f"Assessment({self.recommendation}: amount {self.application.amount:,.0f}, "
            f"limit {self.suggested_limit:,.0f}, PD {self.pd:.2%}, "
            f"installment/income {self.installment_to_income:.1%}, "
            f"EL {self.expected_loss:,.0f}, floor {self.price_floor:.2%} - {why}{offer})"
        )

    def _repr_html_(self) -> str:
        rows = [
            ("Recommendation", self.recommendation),
            ("PD (12 months)", f"{self.pd:.2%}"),
            ("Suggested limit", f"{self.suggested_limit:,.0f}"),
            ("Installment / income", f"{self.installment_to_income:.1%}"),
            ("Expected loss", f"{self.expected_loss:,.0f}"),
            ("Price floor", f"{self.price_floor:.2%}"),
        ]
        body = "".join(
            f"<tr><th style='text-align:left'>{k}</th><td>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        items = "".join(f"<li>[{r.effect}] {html.escape(r.text)}</li>" for r in self.reasons)
        offer = ""
        if self.counter_offer is not None:
            offer = f"<p><b>Counter-offer</b></p>{self.counter_offer._repr_html_()}"
        return f"<table>{body}</table><ul>{items}</ul>{offer}"


def assess_application(
    app: Application,
    pd_: float,
    *,
    score: float | None = None,
    grade: str | None = None,
    cutoff: float | None = None,
    policy=None,
    extra_reasons=(),
    counter_pd: float | None = None,
    model_version: str | None = None,
) -> Assessment:
    """Limit, affordability, expected loss, price floor and recommendation for one application.

    Parameters
    ----------
    app : Application
    pd_ : float
        12-month probability of default (from the approved champion scorecard).
    score, grade : optional
        Scorecard points and master-scale grade, shown and (score) checked against ``cutoff``.
    cutoff : float, optional
        Minimum score; below it the recommendation is decline.
    policy : Policy, mapping, path or None
    extra_reasons : sequence of Reason
        Findings of other rules (e.g. admission) added to the assessment; their effect counts.
    counter_pd : float, optional
        PD at the counter-offer's amount (default ``pd_``: a smaller amount never raises it).
    model_version : str, optional
        The scorecard version the PD comes from, shown with the decision.

    Returns
    -------
    Assessment
        ``recommendation`` (see the module docstring) and every check in ``reasons``. A request
        above the suggested limit carries ``counter_offer``: the same terms at the suggested
        limit, assessed in turn.

    Examples
    --------
    800,000 over 12 months at 12% on 12,000 a month: the installment (71,079) is 592% of
    income against a 50% maximum, which carries 6,000 a month x 11.2551 = 67,530:

    >>> big = Application(800_000, 12, 0.12, "annuity", "joint", monthly_income=12_000)
    >>> a = assess_application(big, pd_=0.05)
    >>> a.recommendation, a.suggested_limit, a.counter_offer.application.amount
    ('decline as requested', 67000.0, 67000.0)
    >>> a.counter_offer.recommendation, round(a.counter_offer.installment_to_income, 4)
    ('approve', 0.4961)
    """
    p = load_policy(policy) if not isinstance(policy, Policy) else policy
    lim = lending_limits(p)
    _check_application(app, pd_)
    f = _figures(app, pd_, p)
    reasons = (
        list(extra_reasons)
        + _risk_reasons(pd_, score, cutoff, lim)
        + _structure_reasons(app, f.structure_limit, lim)
        + _capacity_reasons(app, f, lim)
        + _price_reasons(app.annual_rate, f.price_floor, float(p["regulator"]["max_annual_rate"]))
    )
    rec = recommendation(reasons)
    offer = None
    if rec == "decline as requested" and f.suggested_limit > 0:
        offer = assess_application(
            replace(app, amount=f.suggested_limit),
            pd_ if counter_pd is None else counter_pd,
            grade=grade,
            cutoff=None,
            policy=p,
            model_version=model_version,
        )
    return Assessment(
        application=app,
        pd=float(pd_),
        lgd=f.lgd,
        structure_limit=f.structure_limit,
        capacity_limit=f.capacity_limit,
        suggested_limit=f.suggested_limit,
        exceeds_limit=bool(app.amount > f.suggested_limit + 1e-9),
        installment=f.installment,
        balloon=f.balloon,
        installment_to_income=f.installment_to_income,
        expected_loss=f.expected_loss,
        price_floor=f.price_floor,
        recommendation=rec,
        reasons=tuple(reasons),
        score=None if score is None else float(score),
        grade=grade,
        counter_offer=offer,
        model_version=model_version,
    )


def recommendation(reasons) -> str:
    """``decline`` if any reason declines, ``decline as requested`` if the request breaches a
    hard rule (``hard``), ``approve with conditions`` if any sets a condition, else
    ``approve``."""
    effects = {r.effect for r in reasons}
    unknown = effects - set(EFFECTS)
    if unknown:
        raise ValueError(f"unknown reason effect(s) {sorted(unknown)}; allowed: {EFFECTS}")
    if "decline" in effects:
        return "decline"
    if "hard" in effects:
        return "decline as requested"
    if "condition" in effects:
        return "approve with conditions"
    return "approve"


def _check_application(app: Application, pd_: float) -> None:
    check_terms(
        "application",
        np.array([app.application_id]),
        amount=app.amount,
        term=app.term_months,
        rate=app.annual_rate,
        method=app.repayment_method,
        guarantee=app.guarantee_type,
        collateral_value=app.collateral_value,
        households=app.households,
        income=app.monthly_income,
        other_debt=app.other_debt_service,
        pd_=pd_,
    )


@dataclass(frozen=True)
class _Figures:
    structure_limit: float
    capacity_limit: float
    suggested_limit: float
    installment: float
    balloon: float
    installment_to_income: float
    lgd: float
    expected_loss: float
    price_floor: float


def _figures(app: Application, pd_: float, p: Policy) -> _Figures:
    """The numbers of one application: limits, debt service, LGD, expected loss, price floor."""
    ids = np.array([app.application_id])
    struct = float(
        credit_limit(app.guarantee_type, app.collateral_value, app.households, p, ids=ids)[0]
    )
    cap = float(
        capacity_limit(
            app.monthly_income,
            app.term_months,
            app.annual_rate,
            app.repayment_method,
            app.other_debt_service,
            p,
            ids=ids,
        )[0]
    )
    ds = monthly_debt_service(
        app.amount, app.term_months, app.annual_rate, app.repayment_method, ids=ids
    ).iloc[0]
    installment = float(ds["installment"])
    lgd = float(loss_given_default(app.guarantee_type, app.amount, app.collateral_value, p)[0])
    return _Figures(
        structure_limit=struct,
        capacity_limit=cap,
        suggested_limit=float(suggested_limit(struct, cap, p)[0]),
        installment=installment,
        balloon=float(ds["balloon"]),
        installment_to_income=float((installment + app.other_debt_service) / app.monthly_income),
        lgd=lgd,
        expected_loss=float(expected_loss(pd_, lgd, app.amount)[0]),
        price_floor=float(price_floor(pd_, lgd, p)[0]),
    )


def _risk_reasons(pd_: float, score, cutoff, lim: dict) -> list[Reason]:
    max_pd = lim["max_pd"]
    out = [
        Reason("pd_above_max", "decline", f"PD {pd_:.2%} above policy maximum {max_pd:.0%}")
        if pd_ > max_pd
        else Reason("pd_ok", "ok", f"PD {pd_:.2%} within policy maximum {max_pd:.0%}")
    ]
    if cutoff is not None and score is not None:
        out.append(
            Reason("below_cutoff", "decline", f"score {score:.0f} below cut-off {cutoff:.0f}")
            if score < cutoff
            else Reason("cutoff_ok", "ok", f"score {score:.0f} at or above cut-off {cutoff:.0f}")
        )
    return out


def _structure_reasons(app: Application, struct: float, lim: dict) -> list[Reason]:
    g = app.guarantee_type
    if g == "joint" and app.households < lim["joint_min_households"]:
        return [
            Reason(
                "joint_too_small",
                "ok",
                f"joint group of {app.households} household(s) is below "
                f"{lim['joint_min_households']}: treated as one guarantor, "
                f"{lim['guaranteed']:,.0f} in total, not per person",
            )
        ]
    text = {
        "credit": f"pure credit: limit {lim['credit']:,.0f}",
        "guaranteed": f"one guarantor: {lim['guaranteed']:,.0f} in total, not per person",
        "joint": (
            f"joint guarantee of {app.households} households: {lim['joint_per_member']:,.0f} "
            f"for each member"
        ),
        "mortgage": (
            f"mortgage: {lim['collateral_ltv']:.0%} of appraised value "
            f"{app.collateral_value:,.0f} = {struct:,.0f}"
        ),
        "pledge": (
            f"pledge: {lim['pledge_ltv']:.0%} of appraised value "
            f"{app.collateral_value:,.0f} = {struct:,.0f}"
        ),
    }[g]
    return [Reason("structure_limit", "ok", text)]


def _capacity_reasons(app: Application, f: _Figures, lim: dict) -> list[Reason]:
    max_iti = lim["max_installment_to_income"]
    limit, iti = f.suggested_limit, f.installment_to_income
    if limit <= 0:
        out = [
            Reason(
                "no_capacity",
                "decline",
                f"income {app.monthly_income:,.0f} leaves no room for an installment within "
                f"{max_iti:.0%} of income",
            )
        ]
    elif iti > max_iti + 1e-12:
        out = [
            Reason(
                "installment_to_income_high",
                "hard",
                f"installment/income {iti:.1%} above the policy maximum {max_iti:.0%} (hard "
                f"rule): income carries at most {f.capacity_limit:,.0f}",
            )
        ]
    else:
        out = [
            Reason(
                "installment_to_income_ok",
                "ok",
                f"installment/income {iti:.1%} within {max_iti:.0%}",
            )
        ]
    if limit > 0:
        out.append(_amount_reason(app.amount, limit))
    if f.balloon > 0:
        out.append(
            Reason(
                "balloon",
                "ok",
                f"{f.balloon:,.0f} principal due at maturity ({app.repayment_method}): "
                "check the source of repayment",
            )
        )
    return out


def _amount_reason(amount: float, limit: float) -> Reason:
    if amount > limit + 1e-9:
        return Reason(
            "amount_above_limit",
            "hard",
            f"requested {amount:,.0f} exceeds the suggested limit {limit:,.0f} ({amount / limit:.1f}x; "
            f"hard rule): declined as requested, counter-offer {limit:,.0f}",
        )
    return Reason(
        "amount_within_limit", "ok", f"requested {amount:,.0f} within suggested limit {limit:,.0f}"
    )


def _price_reasons(rate: float, floor: float, cap: float) -> list[Reason]:
    """Reprice to the risk-based floor; a floor above the legal rate cap (policy
    ``regulator.max_annual_rate``) is a decline: no lawful price covers the risk."""
    if floor > cap + 1e-12:
        text = f"risk-based price floor {floor:.2%} above the legal rate cap {cap:.0%}: cannot be priced legally"
        return [Reason("floor_above_rate_cap", "decline", text)]
    if rate + 1e-12 < floor:
        return [
            Reason(
                "rate_below_floor",
                "condition",
                f"rate {rate:.2%} below risk-based floor {floor:.2%}: reprice",
            )
        ]
    return [
        Reason("rate_covers_floor", "ok", f"rate {rate:.2%} covers risk-based floor {floor:.2%}")
    ]


# ---------------------------------------------------------------------------------------------
# scorecard inputs that follow from the loan terms


def term_features(app: Application, n_guarantors: int | None = None, amounts=None) -> dict:
    """Application features implied by the terms, as :func:`riskkit.datasets.application_sample`
    defines them, so a what-if on the terms reaches the scorecard consistently.

    * ``payment_to_income``: average contractual monthly payment (total due over the term,
      from :func:`riskkit.book.make_schedule`) over monthly income;
    * ``loan_to_value``: amount over appraised collateral value (NaN without collateral);
    * ``n_guarantors``: 0 for pure credit and collateral, ``households - 1`` in a joint group
      (the other households guarantee), for one guarantor ``n_guarantors`` if given (>= 1),
      else 1.

    ``amounts``: an array of amounts to evaluate the same terms at (one schedule computation
    for all); the amount-driven features are then arrays.

    Examples
    --------
    >>> f = term_features(Application(12_000, 12, 0.12, "equal_principal", "joint",
    ...                               monthly_income=2_000, households=3))
    >>> round(f["payment_to_income"], 4), f["n_guarantors"]  # (12000 + 780) / 12 / 2000
    (0.5325, 2)
    >>> term_features(Application(12_000, 12, 0.12, "equal_principal", "credit",
    ...               monthly_income=2_000), amounts=[12_000, 6_000])["payment_to_income"]
    array([0.5325 , 0.26625])
    """
    amount = np.asarray(app.amount if amounts is None else amounts, dtype=float)
    ds = monthly_debt_service(
        amount, app.term_months, app.annual_rate, app.repayment_method,
        ids=np.full(max(amount.size, 1), app.application_id),
    )  # fmt: skip
    total = amount + ds["total_interest"].to_numpy().reshape(amount.shape)
    g = app.guarantee_type
    if g == "joint":
        ng = max(int(app.households) - 1, 0)
    elif g == "guaranteed":
        ng = max(int(n_guarantors or 1), 1)
    else:
        ng = 0
    nan = np.full(amount.shape, np.nan)
    pti = total / app.term_months / app.monthly_income if app.monthly_income > 0 else nan
    ltv = amount / app.collateral_value if app.collateral_value > 0 else nan
    if amounts is None:
        return {"payment_to_income": float(pti), "loan_to_value": float(ltv), "n_guarantors": ng}
    return {"payment_to_income": pti, "loan_to_value": ltv, "n_guarantors": ng}
