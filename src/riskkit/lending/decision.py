"""Decisions with the scorecard's PD: the model's input for the terms asked, a PD that never
falls because the amount rises, and the assessment with its counter-offer.

* :func:`model_input`: one row of scorecard inputs for an applicant and loan terms; terms the
  scorecard uses as features (``amount``, ``monthly_income``, ...) take the requested values
  and the derived features (``payment_to_income``, ``loan_to_value``, ``n_guarantors``) are
  recomputed from them (:func:`~riskkit.lending.assessment.term_features`).
* :func:`amount_monotone_pd`: the model's PD at the requested terms, held at the largest PD the
  same terms get at any smaller amount (every interval of amounts where the model's inputs are
  constant: the bin edges of ``amount``, ``payment_to_income`` and ``loan_to_value`` mapped to
  amounts, plus a grid from 1,000 up): asking for more never lowers the PD or the expected
  loss, unless the policy lists a model feature allowed to say why
  (``limits.pd_may_fall_with_amount``). :func:`amount_monotone_risk` holds the score the same
  way, so a larger amount cannot lift a score over the cut-off.
* :func:`assess_with_model`: :func:`~riskkit.lending.assessment.assess_application` with
  that PD, score and grade, the counter-offer's PD from the model at its amount, and the
  model version.

Examples
--------
>>> import numpy as np
>>> class ByAmount:  # a stand-in scorecard whose PD falls as the amount grows
...     feature_names_in_ = np.array(["amount", "segment"], dtype=object)
...     def predict_proba(self, X):
...         p = np.where(X["amount"].to_numpy() < 50_000, 0.15, 0.08)
...         return np.column_stack([1 - p, p])
>>> from riskkit.lending import Application
>>> app = Application(800_000, 12, 0.12, "annuity", "joint", monthly_income=12_000)
>>> pd_, why = amount_monotone_pd(ByAmount(), {"segment": "trader"}, app)
>>> float(pd_), why.code
(0.15, 'pd_held_for_amount')
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..policy import Policy, load_policy
from .assessment import Assessment, Reason, assess_application, term_features
from .terms import Application

#: Loan terms that are also application features of the sample (riskkit.scoring.sample).
TERM_COLUMNS = {
    "amount": "amount",
    "term_months": "term_months",
    "annual_rate": "annual_rate",
    "repayment_method": "repayment_method",
    "guarantee_type": "guarantee_type",
    "monthly_income": "monthly_income",
}
#: Scorecard inputs derived from the terms (:func:`~riskkit.lending.assessment.term_features`).
DERIVED_FEATURES = ("payment_to_income", "loan_to_value", "n_guarantors")
#: Amounts on which the PD is held non-decreasing (plus the model's amount bin edges).
AMOUNT_GRID = 64


def model_features(model) -> list[str]:
    """The input columns a fitted scorecard reads (``feature_names_in_``)."""
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        raise TypeError(f"{type(model).__name__} has no feature_names_in_: fit it on a DataFrame")
    return [str(c) for c in names]


def model_input(applicant, app: Application, features, columns: Mapping | None = None):
    """One-row frame of scorecard inputs: ``applicant``'s attributes with the terms of ``app``.

    ``applicant``: a mapping or Series of application features (the row of an application
    sample); ``columns`` maps a term (``amount``, ...) to its column name when they differ.
    Derived features are recomputed from the terms; a feature neither given nor derived is an
    error naming it.
    """
    row = dict(applicant.items() if isinstance(applicant, pd.Series) else applicant)
    cols = {**TERM_COLUMNS, **(columns or {})}
    for term, col in cols.items():
        if col in features:
            row[col] = getattr(app, term)
    derived = [f for f in DERIVED_FEATURES if f in features]
    if derived:
        ng = row.get("n_guarantors")
        implied = term_features(app, None if ng is None or pd.isna(ng) else int(ng))
        row.update({f: implied[f] for f in derived})
    missing = [f for f in features if f not in row]
    if missing:
        raise KeyError(f"applicant lacks the scorecard inputs {missing}")
    frame = pd.DataFrame({f: [row[f]] for f in features}, index=[app.application_id])
    return frame.astype({f: float for f in features if _is_number(row[f])})


def inputs_at_amounts(applicant, app: Application, features, amounts) -> pd.DataFrame:
    """:func:`model_input` for the terms of ``app`` at each of ``amounts`` (one row each):
    ``amount`` and the derived features that move with it recomputed, vectorised."""
    amounts = np.asarray(amounts, dtype=float)
    base = model_input(applicant, app, features)
    X = base.loc[base.index.repeat(len(amounts))]
    if "amount" in features:
        X["amount"] = amounts
    derived = [f for f in ("payment_to_income", "loan_to_value") if f in features]
    if derived:
        implied = term_features(app, amounts=amounts)
        for f in derived:
            X[f] = implied[f]
    return X


def _is_number(v) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


#: Model inputs that move in proportion to the amount when the other terms stay fixed.
AMOUNT_DRIVEN = ("amount", "payment_to_income", "loan_to_value")


def amount_breakpoints(model, applicant, app: Application, features) -> np.ndarray:
    """Amounts up to ``app.amount`` where an input that moves with the amount crosses one of
    its bin edges in ``model``: ``amount`` itself, and ``payment_to_income`` and
    ``loan_to_value``, which are proportional to the amount for fixed other terms (their
    edge ``e`` is crossed at ``amount x e / value``). Between two breakpoints every input of
    the model, and so its PD and score, is constant."""
    binnings = getattr(getattr(model, "binning_", None), "binnings_", {})
    row = model_input(applicant, app, features).iloc[0]
    out = []
    for f in AMOUNT_DRIVEN:
        edges = getattr(binnings.get(f), "splits_", None)
        value = row.get(f)
        if edges is None or value is None or not np.isfinite(value) or value <= 0:
            continue
        out.append(app.amount * np.asarray(edges, dtype=float) / float(value))
    b = np.concatenate(out) if out else np.zeros(0)
    return np.unique(b[(b > 0) & (b < app.amount)])


def _amount_grid(model, applicant, app: Application, features) -> np.ndarray:
    """Amounts to evaluate: a geometric grid from 1,000 (for models without bins), every
    breakpoint and the middle of every interval between breakpoints (where the PD is
    constant), and the amount asked."""
    top = max(app.amount, 1_000.0)
    grid = np.geomspace(min(1_000.0, top), top, AMOUNT_GRID)
    b = np.unique(np.r_[grid[0], amount_breakpoints(model, applicant, app, features), top])
    grid = np.r_[grid, b, (b[:-1] + b[1:]) / 2]
    return np.unique(np.r_[grid[grid <= app.amount], app.amount])


def amount_monotone_pd(model, applicant, app: Application, features=None, policy=None):
    """The PD used for ``app``: the model's PD at the requested terms, or the largest PD the
    same terms get at a smaller amount when that is higher.

    Returns ``(pd, reason)``; ``reason`` says whether the PD was held and from which amount.
    :func:`amount_monotone_risk` also returns the score held the same way.
    """
    pd_, _, reason = amount_monotone_risk(model, applicant, app, features, policy)
    return pd_, reason


def amount_monotone_risk(model, applicant, app: Application, features=None, policy=None):
    """``(pd, score, reason)`` for ``app``: the PD of :func:`amount_monotone_pd` and the score
    held the same way (the lowest score of the same terms at any amount up to the one asked,
    so a larger amount cannot lift a score over the cut-off either). ``score`` is None for a
    model without ``credit_score``.

    Every interval of amounts where the model's inputs are constant is evaluated (bin edges of
    ``amount``, ``payment_to_income`` and ``loan_to_value`` mapped to amounts,
    :func:`amount_breakpoints`), so no narrow bin between grid points is missed.
    """
    p = load_policy(policy) if not isinstance(policy, Policy) else policy
    features = model_features(model) if features is None else list(features)
    allowed = sorted(set(p["limits"]["pd_may_fall_with_amount"]) & set(features))
    if allowed:
        X = model_input(applicant, app, features)
        own = float(model.predict_proba(X)[0, 1])
        why = f"PD {own:.2%} from the model (policy lets {allowed} lower it with the amount)"
        return own, _score(model, X, 0), Reason("pd_model", "ok", why)
    grid = _amount_grid(model, applicant, app, features)
    X = inputs_at_amounts(applicant, app, features, grid)
    pds = model.predict_proba(X)[:, 1]
    own, k = float(pds[-1]), int(np.argmax(pds))  # the grid ends at the amount asked
    score = _score(model, X, None)
    if pds[k] > own + 1e-12:
        return (
            float(pds[k]),
            score,
            Reason(
                "pd_held_for_amount",
                "ok",
                f"model PD {own:.2%} at {app.amount:,.0f} is below its {pds[k]:.2%} at "
                f"{grid[k]:,.0f}: a larger amount does not lower the risk, {pds[k]:.2%} is used",
            ),
        )
    return own, score, Reason("pd_model", "ok", f"PD {own:.2%} from the model")


def _score(model, X: pd.DataFrame, row: int | None) -> float | None:
    """The model's score of ``X``'s row ``row``, or its lowest over all rows (None)."""
    if not hasattr(model, "credit_score"):
        return None
    s = np.asarray(model.credit_score(X), dtype=float)
    return float(s[row] if row is not None else s.min())


def assess_with_model(
    app: Application,
    applicant,
    model,
    *,
    features=None,
    policy=None,
    master_scale=None,
    cutoff: float | None = None,
    model_version: str | None = None,
    extra_reasons=(),
) -> Assessment:
    """Assess ``app`` for ``applicant`` with the PD of ``model`` (the approved champion).

    The PD and the score (checked against ``cutoff``) are :func:`amount_monotone_risk`'s, the
    grade the PD's; the counter-offer's PD is the model's (held the same way) at the suggested
    limit. ``master_scale`` defaults to the policy's.
    """
    from ..scoring import MasterScale

    p = load_policy(policy) if not isinstance(policy, Policy) else policy
    features = model_features(model) if features is None else list(features)
    pd_, score, why = amount_monotone_risk(model, applicant, app, features, p)
    ms = master_scale if master_scale is not None else MasterScale(policy=p)
    grade = str(ms.assign([pd_])[0])
    first = assess_application(
        app, pd_, score=score, grade=grade, cutoff=cutoff, policy=p,
        extra_reasons=(*extra_reasons, why), model_version=model_version,
    )  # fmt: skip
    if first.counter_offer is None:
        return first
    counter_app = first.counter_offer.application
    counter_pd, _ = amount_monotone_pd(model, applicant, counter_app, features, p)
    return assess_application(
        app, pd_, score=score, grade=grade, cutoff=cutoff, policy=p,
        extra_reasons=(*extra_reasons, why), counter_pd=counter_pd, model_version=model_version,
    )  # fmt: skip


def assess_with_champion(app: Application, applicant, store, *, use: str = "application", **kw):
    """:func:`assess_with_model` with the approved champion of ``use`` in the model registry of
    ``store`` (:class:`riskkit.scoring.ModelRegistry`); the decision names its version."""
    from ..scoring import ModelRegistry

    champion = ModelRegistry(store).champion(use)
    return assess_with_model(app, applicant, champion.scorecard(), model_version=champion.label,
                             **kw)  # fmt: skip
