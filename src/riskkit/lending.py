"""Lending decisions for one application or a whole sample: credit limit by guarantee structure,
installment and installment-to-income, expected loss, risk-based price floor and a
recommendation with its reasons.

All rules are policy data (``limits:`` section of the policy YAML, DOMAIN.md s.2 and s.7):

* **Limit by guarantee structure** (seed 002): pure credit ``limits.credit``; one guarantor
  ``limits.guaranteed`` *in total* (borrower and guarantor do not each get it); a three-household
  joint guarantee ``limits.joint_per_member`` for *each* member (the applicant's own limit; the
  group may borrow ``households x`` that); a joint group with fewer than
  ``limits.joint_min_households`` households counts as a single guarantee; mortgage and pledge
  ``ltv x appraised value``.
* **Repayment capacity**: the largest amount whose monthly debt service keeps
  ``(debt service + other debts) / monthly income`` within ``limits.max_installment_to_income``.
* **Suggested limit** = the smaller of the two, rounded down to ``limits.limit_rounding``.
* **Monthly debt service** of a loan: its largest scheduled payment for amortising methods
  (annuity: the level installment; equal principal: the first, largest one); for interest-only
  and bullet loans the total payable spread evenly over the term (the principal due at maturity
  is reported separately as the balloon).
* **Expected loss** = PD x LGD x EAD with EAD the amount lent; LGD by guarantee type, and for
  mortgage/pledge ``max(lgd[type], lgd.credit x max(0, EAD - ltv x value) / EAD)``.
* **Price floor** (annual rate) = cost of funds + PD x LGD + operating cost + margin.

Examples
--------
>>> from riskkit.lending import Application, assess_application
>>> app = Application(amount=300_000, term_months=12, annual_rate=0.12,
...                   repayment_method="annuity", guarantee_type="guaranteed",
...                   monthly_income=60_000)
>>> a = assess_application(app, pd=0.05)
>>> a.suggested_limit, round(a.installment, 2), a.recommendation
(337000.0, 26654.64, 'approve')
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .book import make_schedule
from .book.enums import GuaranteeType, RepaymentMethod
from .book.schema import MAX_ANNUAL_RATE, MAX_LOAN_AMOUNT, MAX_TERM_MONTHS
from .errors import ProblemCollector
from .policy import Policy, load_policy

__all__ = [
    "Application",
    "Assessment",
    "Reason",
    "assess_application",
    "capacity_limit",
    "credit_limit",
    "cutoff_strategy",
    "term_features",
    "expected_loss",
    "loss_given_default",
    "monthly_debt_service",
    "price_floor",
    "suggested_limit",
    "GUARANTEE_LABELS",
]

#: Labels of the guarantee structures offered to the credit committee.
GUARANTEE_LABELS = {
    "credit": "none (pure credit)",
    "guaranteed": "one guarantor",
    "joint": "three-household joint guarantee",
    "mortgage": "collateral (mortgage)",
    "pledge": "pledge",
}

_AMORTISING = (RepaymentMethod.ANNUITY.value, RepaymentMethod.EQUAL_PRINCIPAL.value)


def _limits(policy) -> dict:
    p = load_policy(policy) if not isinstance(policy, Policy) else policy
    lim = p["limits"]
    for key in ("collateral_ltv", "pledge_ltv", "max_installment_to_income", "max_pd"):
        if not 0 <= lim[key] <= 1:
            raise ValueError(f"policy key limits.{key} must be in [0, 1], got {lim[key]}")
    for key, v in lim["lgd"].items():
        if not 0 <= v <= 1:
            raise ValueError(f"policy key limits.lgd.{key} must be in [0, 1], got {v}")
    if lim["limit_rounding"] <= 0:
        raise ValueError("policy key limits.limit_rounding must be > 0")
    return lim


def _arr(x, dtype=float) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=dtype))


def _str_arr(x) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=object)).astype(str)


def _check_inputs(
    what: str,
    ids,
    *,
    amount=None,
    term=None,
    rate=None,
    method=None,
    guarantee=None,
    collateral_value=None,
    households=None,
    income=None,
    other_debt=None,
    pd_=None,
) -> None:
    """Collect every bad input (column, application id, rule), then raise once."""
    errors = ProblemCollector(what)
    t = "application"

    def num(col, values, rule_mask, rule):
        v = _arr(values)
        errors.check(t, col, ~np.isfinite(v) | rule_mask(v), ids, rule)

    if amount is not None:
        num(
            "amount",
            amount,
            lambda v: (v <= 0) | (v > MAX_LOAN_AMOUNT),
            f"must be > 0 and <= {MAX_LOAN_AMOUNT:,.0f}",
        )
    if term is not None:
        v = _arr(term)
        errors.check(
            t,
            "term_months",
            ~np.isfinite(v) | (v < 1) | (v > MAX_TERM_MONTHS) | (v != np.round(v)),
            ids,
            f"must be a whole number of months in 1..{MAX_TERM_MONTHS}",
        )
    if rate is not None:
        num(
            "annual_rate",
            rate,
            lambda v: (v < 0) | (v > MAX_ANNUAL_RATE),
            f"must be a fraction in [0, {MAX_ANNUAL_RATE}] (0.12 = 12%)",
        )
    if method is not None:
        errors.check(
            t,
            "repayment_method",
            ~np.isin(_str_arr(method), RepaymentMethod.values()),
            ids,
            f"unknown value; allowed: {RepaymentMethod.values()}",
        )
    if guarantee is not None:
        errors.check(
            t,
            "guarantee_type",
            ~np.isin(_str_arr(guarantee), GuaranteeType.values()),
            ids,
            f"unknown value; allowed: {GuaranteeType.values()}",
        )
    if collateral_value is not None:
        num("collateral_value", collateral_value, lambda v: v < 0, "must be >= 0")
        if guarantee is not None:
            secured = np.isin(_str_arr(guarantee), ["mortgage", "pledge"])
            cv = np.broadcast_to(_arr(collateral_value), secured.shape)
            errors.check(
                t,
                "collateral_value",
                secured & ~(cv > 0),
                ids,
                "a mortgage or pledge needs the appraised value of the collateral (> 0)",
            )
    if households is not None:
        v = _arr(households)
        errors.check(
            t,
            "households",
            ~np.isfinite(v) | (v < 1) | (v != np.round(v)),
            ids,
            "must be a whole number >= 1",
        )
    if income is not None:
        num("monthly_income", income, lambda v: v <= 0, "must be > 0 (RMB a month)")
    if other_debt is not None:
        num("other_debt_service", other_debt, lambda v: v < 0, "must be >= 0")
    if pd_ is not None:
        num("pd", pd_, lambda v: (v < 0) | (v > 1), "must be a probability in [0, 1]")
    errors.raise_if_any()


def _ids(ids, n: int) -> np.ndarray:
    if ids is None:
        return np.arange(n)
    return np.asarray(ids)


def _n(*arrays) -> int:
    return int(np.broadcast_shapes(*(np.shape(np.atleast_1d(a)) for a in arrays))[0])


# ---------------------------------------------------------------------------------------------
# limits


def credit_limit(
    guarantee_type, collateral_value=0.0, households=3, policy=None, ids=None
) -> np.ndarray:
    """Credit limit of the applicant from the guarantee structure alone (DOMAIN.md s.2).

    Parameters
    ----------
    guarantee_type : str or array of str
        ``credit``, ``guaranteed`` (one guarantor), ``joint`` (joint-liability group),
        ``mortgage`` or ``pledge``.
    collateral_value : float or array
        Appraised value of the collateral/pledged asset (mortgage and pledge only).
    households : int or array
        Households in a joint-guarantee group; below ``limits.joint_min_households`` the group
        counts as a single guarantee (``limits.guaranteed`` in total).
    policy : Policy, mapping, path or None

    Returns
    -------
    ndarray of float
        The applicant's own limit (for a joint group: each member's limit).

    Examples
    --------
    >>> credit_limit(["credit", "guaranteed", "joint", "joint", "mortgage"],
    ...              [0, 0, 0, 0, 400_000], households=[1, 2, 3, 2, 1]).tolist()
    [100000.0, 500000.0, 500000.0, 500000.0, 280000.0]
    """
    lim = _limits(policy)
    g = _str_arr(guarantee_type)
    n = _n(g, collateral_value, households)
    g = np.broadcast_to(g, (n,))
    cv = np.broadcast_to(_arr(collateral_value), (n,))
    hh = np.broadcast_to(_arr(households), (n,))
    _check_inputs(
        "credit limit input",
        _ids(ids, n),
        guarantee=g,
        collateral_value=cv,
        households=hh,
    )
    joint_ok = hh >= lim["joint_min_households"]
    return np.select(
        [
            g == "credit",
            g == "guaranteed",
            (g == "joint") & joint_ok,
            g == "joint",
            g == "mortgage",
            g == "pledge",
        ],
        [
            float(lim["credit"]),
            float(lim["guaranteed"]),
            float(lim["joint_per_member"]),
            float(lim["guaranteed"]),
            lim["collateral_ltv"] * cv,
            lim["pledge_ltv"] * cv,
        ],
        default=np.nan,
    ).astype(float)


def monthly_debt_service(amount, term_months, annual_rate, repayment_method, ids=None):
    """Monthly debt service and balloon of loans, from their contractual schedule.

    Uses :func:`riskkit.book.make_schedule` (cent rounding included).

    Returns
    -------
    DataFrame
        ``installment`` (largest payment for annuity/equal principal; total payable / term for
        interest-only and bullet), ``first_payment``, ``total_interest``, ``balloon`` (principal
        due at maturity beyond the regular payments: the whole amount for interest-only and
        bullet, 0 otherwise), one row per loan in input order.

    Examples
    --------
    >>> monthly_debt_service(12_000, 12, 0.12, "equal_principal").iloc[0].tolist()
    [1120.0, 1120.0, 780.0, 0.0]
    """
    amount = _arr(amount)
    n = _n(amount, term_months, annual_rate, repayment_method)
    amount = np.broadcast_to(amount, (n,))
    term = np.broadcast_to(_arr(term_months), (n,))
    rate = np.broadcast_to(_arr(annual_rate), (n,))
    method = np.broadcast_to(_str_arr(repayment_method), (n,))
    ids = _ids(ids, n)
    _check_inputs("debt service input", ids, amount=amount, term=term, rate=rate, method=method)
    key = np.arange(n)
    sched = make_schedule(
        pd.DataFrame(
            {
                "loan_id": key,
                "amount": amount,
                "annual_rate": rate,
                "term_months": term.astype(np.int64),
                "repayment_method": pd.array(method, dtype="str"),
                "disbursement_date": pd.Timestamp("2000-01-01"),
            }
        )
    )
    pay = sched["principal_due"].to_numpy() + sched["interest_due"].to_numpy()
    g = sched.assign(payment=pay).groupby("loan_id", sort=True)
    largest = g["payment"].max().reindex(key).to_numpy()
    first = g["payment"].first().reindex(key).to_numpy()
    total = g["payment"].sum().reindex(key).to_numpy()
    interest = g["interest_due"].sum().reindex(key).to_numpy()
    amortising = np.isin(method, _AMORTISING)
    installment = np.where(amortising, largest, total / term)
    return pd.DataFrame(
        {
            "installment": np.round(installment, 2),
            "first_payment": first,
            "total_interest": np.round(interest, 2),
            "balloon": np.where(amortising, 0.0, amount),
        }
    )


def capacity_limit(
    monthly_income,
    term_months,
    annual_rate,
    repayment_method,
    other_debt_service=0.0,
    policy=None,
    ids=None,
) -> np.ndarray:
    """Largest amount the borrower's income carries (before rounding to the limit unit).

    With ``P = max_installment_to_income x income - other_debt_service`` (the payment room) and
    monthly rate ``r``: annuity ``P (1 - (1 + r)^-n) / r`` (``P n`` at zero rate); equal
    principal ``P / (1/n + r)`` (first installment binds); interest-only and bullet
    ``P n / (1 + r n)`` (total payable spread over the term). Never negative.

    Examples
    --------
    >>> round(float(capacity_limit(10_000, 12, 0.12, "equal_principal")[0]), 2)  # 5000/(1/12+.01)
    53571.43
    """
    lim = _limits(policy)
    income = _arr(monthly_income)
    n = _n(income, term_months, annual_rate, repayment_method, other_debt_service)
    income = np.broadcast_to(income, (n,))
    term = np.broadcast_to(_arr(term_months), (n,))
    rate = np.broadcast_to(_arr(annual_rate), (n,))
    method = np.broadcast_to(_str_arr(repayment_method), (n,))
    other = np.broadcast_to(_arr(other_debt_service), (n,))
    _check_inputs(
        "repayment capacity input",
        _ids(ids, n),
        term=term,
        rate=rate,
        method=method,
        income=income,
        other_debt=other,
    )
    room = np.maximum(lim["max_installment_to_income"] * income - other, 0.0)
    r = rate / 12.0
    with np.errstate(divide="ignore", invalid="ignore"):
        annuity = np.where(r > 0, room * -np.expm1(-term * np.log1p(r)) / r, room * term)
    eqp = room / (1.0 / term + r)
    flat = room * term / (1 + r * term)
    return np.select(
        [method == "annuity", method == "equal_principal"], [annuity, eqp], default=flat
    )


def suggested_limit(structure_limit, capacity, policy=None) -> np.ndarray:
    """``min(structure limit, capacity)`` rounded down to ``limits.limit_rounding``.

    Examples
    --------
    >>> suggested_limit([500_000, 100_000], [321_456.7, 250_000]).tolist()
    [321000.0, 100000.0]
    """
    unit = float(_limits(policy)["limit_rounding"])
    m = np.minimum(_arr(structure_limit), _arr(capacity))
    # a tiny tolerance keeps exact multiples (e.g. 100000.0000001 from float maths) intact
    return np.floor(m / unit + 1e-9) * unit


# ---------------------------------------------------------------------------------------------
# loss and price


def loss_given_default(guarantee_type, ead, collateral_value=0.0, policy=None, ids=None):
    """LGD by guarantee type; secured loans lose ``lgd.credit`` on the part above ``ltv x value``.

    Examples
    --------
    >>> loss_given_default(["credit", "joint", "mortgage", "mortgage"], 100_000,
    ...                    [0, 0, 50_000, 200_000]).round(4).tolist()
    [0.65, 0.4, 0.4225, 0.2]
    """
    lim = _limits(policy)
    g = _str_arr(guarantee_type)
    n = _n(g, ead, collateral_value)
    g = np.broadcast_to(g, (n,))
    ead = np.broadcast_to(_arr(ead), (n,))
    cv = np.broadcast_to(_arr(collateral_value), (n,))
    _check_inputs("LGD input", _ids(ids, n), amount=ead, guarantee=g, collateral_value=cv)
    lgd = lim["lgd"]
    base = np.select(
        [g == k for k in GuaranteeType.values()],
        [float(lgd[k]) for k in GuaranteeType.values()],
        default=np.nan,
    )
    ltv = np.where(g == "pledge", lim["pledge_ltv"], lim["collateral_ltv"])
    unsecured = lgd["credit"] * np.maximum(ead - ltv * cv, 0.0) / ead
    secured = np.isin(g, ["mortgage", "pledge"])
    return np.where(secured, np.maximum(base, unsecured), base)


def expected_loss(pd_, lgd, ead) -> np.ndarray:
    """Expected loss ``PD x LGD x EAD`` (RMB).

    Examples
    --------
    >>> expected_loss([0.05, 0.1], [0.45, 0.65], [200_000, 50_000]).round(2).tolist()
    [4500.0, 3250.0]
    """
    p, g, e = _arr(pd_), _arr(lgd), _arr(ead)
    n = _n(p, g, e)
    _check_inputs("expected loss input", np.arange(n), pd_=np.broadcast_to(p, (n,)))
    return p * g * e


def price_floor(pd_, lgd, policy=None) -> np.ndarray:
    """Risk-based annual rate floor: cost of funds + PD x LGD + operating cost + margin.

    Examples
    --------
    >>> price_floor(0.05, 0.45).round(4).tolist()  # 0.045 + 0.0225 + 0.03 + 0.02
    [0.1175]
    """
    lim = _limits(policy)
    p = _arr(pd_)
    _check_inputs("price floor input", np.arange(p.size), pd_=p)
    return lim["cost_of_funds"] + p * _arr(lgd) + lim["operating_cost"] + lim["margin"]


# ---------------------------------------------------------------------------------------------
# one application


@dataclass(frozen=True)
class Application:
    """The terms a credit committee looks at for one applicant.

    ``guarantee_type`` is one of ``credit, guaranteed, joint, mortgage, pledge``;
    ``collateral_value`` the appraised value (mortgage/pledge); ``households`` the size of a
    joint-guarantee group; ``other_debt_service`` the applicant's other monthly debt payments.
    """

    amount: float
    term_months: int
    annual_rate: float
    repayment_method: str = "annuity"
    guarantee_type: str = "credit"
    monthly_income: float = 0.0
    collateral_value: float = 0.0
    households: int = 3
    other_debt_service: float = 0.0
    application_id: str = "application"


@dataclass(frozen=True)
class Reason:
    """One finding behind a recommendation: ``effect`` is ok, condition or decline."""

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

    def to_dict(self) -> dict:
        d = asdict(self)
        d["reasons"] = [asdict(r) for r in self.reasons]
        return d

    def __repr__(self) -> str:
        why = "; ".join(r.text for r in self.reasons if r.effect != "ok") or "all checks pass"
        return (
            f"Assessment({self.recommendation}: amount {self.application.amount:,.0f}, "
            f"limit {self.suggested_limit:,.0f}, PD {self.pd:.2%}, "
            f"installment/income {self.installment_to_income:.1%}, "
            f"EL {self.expected_loss:,.0f}, floor {self.price_floor:.2%} - {why})"
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
        return f"<table>{body}</table><ul>{items}</ul>"


def assess_application(
    app: Application,
    pd: float,
    *,
    score: float | None = None,
    grade: str | None = None,
    cutoff: float | None = None,
    policy=None,
) -> Assessment:
    """Limit, affordability, expected loss, price floor and recommendation for one application.

    Parameters
    ----------
    app : Application
    pd : float
        12-month probability of default from the scorecard.
    score, grade : optional
        Scorecard points and master-scale grade, shown and (score) checked against ``cutoff``.
    cutoff : float, optional
        Minimum score; below it the recommendation is decline.
    policy : Policy, mapping, path or None

    Returns
    -------
    Assessment
        ``recommendation`` is ``decline`` if any rule says decline (PD above
        ``limits.max_pd``, score below the cut-off, no repayment capacity at all),
        ``approve with conditions`` if the amount must come down to the suggested limit or the
        rate up to the price floor, else ``approve``. ``reasons`` lists every check.
    """
    p = load_policy(policy) if not isinstance(policy, Policy) else policy
    lim = _limits(p)
    ids = np.array([app.application_id])
    _check_inputs(
        "application",
        ids,
        amount=app.amount,
        term=app.term_months,
        rate=app.annual_rate,
        method=app.repayment_method,
        guarantee=app.guarantee_type,
        collateral_value=app.collateral_value,
        households=app.households,
        income=app.monthly_income,
        other_debt=app.other_debt_service,
        pd_=pd,
    )
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
    limit = float(suggested_limit(struct, cap, p)[0])
    ds = monthly_debt_service(
        app.amount, app.term_months, app.annual_rate, app.repayment_method, ids=ids
    ).iloc[0]
    installment = float(ds["installment"])
    iti = (installment + app.other_debt_service) / app.monthly_income
    lgd = float(loss_given_default(app.guarantee_type, app.amount, app.collateral_value, p)[0])
    el = float(expected_loss(pd, lgd, app.amount)[0])
    floor = float(price_floor(pd, lgd, p)[0])

    reasons: list[Reason] = []
    # risk
    if pd > lim["max_pd"]:
        reasons.append(
            Reason(
                "pd_above_max", "decline", f"PD {pd:.2%} above policy maximum {lim['max_pd']:.0%}"
            )
        )
    else:
        reasons.append(
            Reason("pd_ok", "ok", f"PD {pd:.2%} within policy maximum {lim['max_pd']:.0%}")
        )
    if cutoff is not None and score is not None:
        if score < cutoff:
            reasons.append(
                Reason("below_cutoff", "decline", f"score {score:.0f} below cut-off {cutoff:.0f}")
            )
        else:
            reasons.append(
                Reason("cutoff_ok", "ok", f"score {score:.0f} at or above cut-off {cutoff:.0f}")
            )
    # guarantee structure
    g = app.guarantee_type
    if g == "joint" and app.households < lim["joint_min_households"]:
        reasons.append(
            Reason(
                "joint_too_small",
                "condition",
                f"joint group of {app.households} household(s) is below "
                f"{lim['joint_min_households']}: treated as one guarantor, "
                f"{lim['guaranteed']:,.0f} in total, not per person",
            )
        )
    structure_text = {
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
    if not (g == "joint" and app.households < lim["joint_min_households"]):
        reasons.append(Reason("structure_limit", "ok", structure_text))
    # capacity
    max_iti = lim["max_installment_to_income"]
    if limit <= 0:
        reasons.append(
            Reason(
                "no_capacity",
                "decline",
                f"income {app.monthly_income:,.0f} leaves no room for an installment within "
                f"{max_iti:.0%} of income",
            )
        )
    elif iti > max_iti + 1e-12:
        reasons.append(
            Reason(
                "installment_to_income_high",
                "condition",
                f"installment/income {iti:.1%} above {max_iti:.0%}: income carries at most "
                f"{cap:,.0f}",
            )
        )
    else:
        reasons.append(
            Reason(
                "installment_to_income_ok",
                "ok",
                f"installment/income {iti:.1%} within {max_iti:.0%}",
            )
        )
    exceeds = app.amount > limit + 1e-9
    if limit > 0 and exceeds:
        reasons.append(
            Reason(
                "amount_above_limit",
                "condition",
                f"requested {app.amount:,.0f} exceeds suggested limit {limit:,.0f}: "
                f"reduce the amount to {limit:,.0f}",
            )
        )
    elif limit > 0:
        reasons.append(
            Reason(
                "amount_within_limit",
                "ok",
                f"requested {app.amount:,.0f} within suggested limit {limit:,.0f}",
            )
        )
    if ds["balloon"] > 0:
        reasons.append(
            Reason(
                "balloon",
                "ok",
                f"{ds['balloon']:,.0f} principal due at maturity ({app.repayment_method}): "
                "check the source of repayment",
            )
        )
    # price
    if app.annual_rate + 1e-12 < floor:
        reasons.append(
            Reason(
                "rate_below_floor",
                "condition",
                f"rate {app.annual_rate:.2%} below risk-based floor {floor:.2%}: reprice",
            )
        )
    else:
        reasons.append(
            Reason(
                "rate_covers_floor",
                "ok",
                f"rate {app.annual_rate:.2%} covers risk-based floor {floor:.2%}",
            )
        )
    effects = {r.effect for r in reasons}
    if "decline" in effects:
        rec = "decline"
    elif "condition" in effects:
        rec = "approve with conditions"
    else:
        rec = "approve"
    return Assessment(
        application=app,
        pd=float(pd),
        lgd=lgd,
        structure_limit=struct,
        capacity_limit=cap,
        suggested_limit=limit,
        exceeds_limit=bool(exceeds),
        installment=installment,
        balloon=float(ds["balloon"]),
        installment_to_income=float(iti),
        expected_loss=el,
        price_floor=floor,
        recommendation=rec,
        reasons=tuple(reasons),
        score=None if score is None else float(score),
        grade=grade,
    )


# ---------------------------------------------------------------------------------------------
# score cut-off strategy


def cutoff_strategy(score, pd_, ead, lgd, bad=None, cutoffs=None) -> pd.DataFrame:
    """Approval rate, bad rates, expected loss and volume for each score cut-off.

    An application is approved when ``score >= cutoff``.

    Parameters
    ----------
    score, pd_, ead, lgd : array-like, one value per application
        Credit score, 12-month PD, exposure (amount) and LGD.
    bad : array-like of 0/1, optional
        Observed outcome; adds ``observed_bad_rate``.
    cutoffs : array-like, optional
        Default: every distinct score.

    Returns
    -------
    DataFrame indexed by ``cutoff``
        ``approved`` (count), ``approval_rate``, ``volume`` (sum of EAD approved),
        ``expected_bad_rate`` (mean PD of the approved), ``observed_bad_rate``,
        ``expected_loss`` (sum of PD x LGD x EAD approved) and ``loss_rate`` (EL / volume).

    Examples
    --------
    >>> t = cutoff_strategy([500, 550, 600, 650], [0.3, 0.2, 0.1, 0.05],
    ...                     [10_000, 20_000, 30_000, 40_000], 0.5, bad=[1, 0, 1, 0],
    ...                     cutoffs=[550])
    >>> t.loc[550, ["approved", "approval_rate", "volume", "expected_loss"]].tolist()
    [3.0, 0.75, 90000.0, 4500.0]
    """
    s = _arr(score)
    n = s.size
    p = np.broadcast_to(_arr(pd_), (n,))
    e = np.broadcast_to(_arr(ead), (n,))
    g = np.broadcast_to(_arr(lgd), (n,))
    ids = np.arange(n)
    errors = ProblemCollector("cut-off input")
    errors.check("sample", "score", ~np.isfinite(s), ids, "must be a finite number")
    errors.check("sample", "pd", ~((p >= 0) & (p <= 1)), ids, "must be a probability in [0, 1]")
    errors.check("sample", "ead", ~(e >= 0), ids, "must be >= 0")
    errors.check("sample", "lgd", ~((g >= 0) & (g <= 1)), ids, "must be in [0, 1]")
    if bad is not None:
        b = _arr(bad)
        errors.check("sample", "bad", ~np.isin(b, [0, 1]), ids, "must be 0 or 1")
    errors.raise_if_any()
    order = np.argsort(-s, kind="stable")
    s_desc = s[order]
    c = np.unique(s) if cutoffs is None else _arr(cutoffs)
    # approved count for cut-off c: scores >= c, i.e. position in the descending order
    k = np.searchsorted(-s_desc, -c, side="right")

    def cum(v):
        return np.concatenate([[0.0], np.cumsum(v[order])])[k]

    approved = k.astype(float)
    volume = cum(e)
    el = cum(p * g * e)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame(
            {
                "approved": approved,
                "approval_rate": approved / n if n else np.nan,
                "volume": volume,
                "expected_bad_rate": np.where(k > 0, cum(p) / approved, np.nan),
                "expected_loss": el,
                "loss_rate": np.where(volume > 0, el / volume, np.nan),
            },
            index=pd.Index(c, name="cutoff"),
        )
        if bad is not None:
            out["observed_bad_rate"] = np.where(k > 0, cum(_arr(bad)) / approved, np.nan)
    return out


# ---------------------------------------------------------------------------------------------
# scorecard inputs that follow from the loan terms


def term_features(app: Application, n_guarantors: int | None = None) -> dict:
    """Application features implied by the terms, as :func:`riskkit.datasets.application_sample`
    defines them, so a what-if on the terms reaches the scorecard consistently.

    * ``payment_to_income``: average contractual monthly payment (total due over the term,
      from :func:`riskkit.book.make_schedule`) over monthly income;
    * ``loan_to_value``: amount over appraised collateral value (NaN without collateral);
    * ``n_guarantors``: 0 for pure credit and collateral, ``households - 1`` in a joint group
      (the other households guarantee), for one guarantor ``n_guarantors`` if given (>= 1),
      else 1.

    Examples
    --------
    >>> f = term_features(Application(12_000, 12, 0.12, "equal_principal", "joint",
    ...                               monthly_income=2_000, households=3))
    >>> round(f["payment_to_income"], 4), f["n_guarantors"]  # (12000 + 780) / 12 / 2000
    (0.5325, 2)
    """
    ds = monthly_debt_service(
        app.amount, app.term_months, app.annual_rate, app.repayment_method,
        ids=[app.application_id],
    ).iloc[0]  # fmt: skip
    total = app.amount + float(ds["total_interest"])
    g = app.guarantee_type
    if g == "joint":
        ng = max(int(app.households) - 1, 0)
    elif g == "guaranteed":
        ng = max(int(n_guarantors or 1), 1)
    else:
        ng = 0
    return {
        "payment_to_income": total / app.term_months / app.monthly_income
        if app.monthly_income > 0
        else float("nan"),
        "loan_to_value": app.amount / app.collateral_value
        if app.collateral_value > 0
        else float("nan"),
        "n_guarantors": ng,
    }
