"""New applications scored by the approved champion scorecard (the model registry), with the
same application-time features the scorecard was developed on.

* :func:`champion_scorecard`: the approved champion of a use in the store's model registry
  (:class:`riskkit.scoring.ModelRegistry`) and its label; a clear error when there is none
  (no approved model, no score: the route then sends the application to the committee).
* :func:`application_features`: the features of :func:`riskkit.scoring.application_sample`
  for applications not yet disbursed: the applicant's register record as at the application
  date (age, years in business brought forward, prior loans including those with this
  lender), the requested terms, ``payment_to_income`` from the contractual schedule,
  ``n_guarantors`` and ``loan_to_value`` (amount over the appraised value).
* :func:`score_applications`: PD, score, grade (master scale) and reason codes for a batch;
  the PD of each application is held at the largest PD its terms get at any smaller amount
  (asking for more never lowers the risk, as in :mod:`riskkit.lending.decision`).

Examples
--------
>>> from riskkit.lending.scoring import FEATURE_SOURCES
>>> FEATURE_SOURCES["payment_to_income"]
'contractual schedule of the terms asked over monthly income'
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..book import make_schedule
from ..book.keys import positions
from ..errors import Problem, ValidationError
from ..results import TableResult
from .applications import column_or

#: Where each application feature comes from (the register, the terms, the book).
FEATURE_SOURCES = {
    "age": "whole years from the date of birth to the application date",
    "years_in_business": "years in business at onboarding plus whole years since",
    "prior_loans": "prior loans at onboarding plus this lender's loans disbursed before",
    "payment_to_income": "contractual schedule of the terms asked over monthly income",
    "n_guarantors": "guarantors of the application (joint: the other households)",
    "loan_to_value": "amount asked over the appraised collateral value",
}
_FROM_REGISTER = ("segment", "gender", "education", "marital_status", "house_ownership", "region")
_FROM_TERMS = ("product", "repayment_method", "guarantee_type", "purpose", "branch")
#: Amount steps (as fractions of the amount asked) on which the PD is held non-decreasing.
AMOUNT_STEPS = np.geomspace(0.02, 1.0, 12)


def champion_scorecard(store, use: str = "application"):
    """``(scorecard, label)`` of the approved champion of ``use`` in the store's registry."""
    from ..scoring import ModelRegistry

    try:
        champion = ModelRegistry(store).champion(use)
    except (LookupError, ValueError) as exc:
        raise ValidationError(
            [Problem("model_registry", use, f"no approved champion scorecard: {exc}")],
            "scoring",
        ) from None
    return champion.scorecard(), champion.label


def _whole_years(start, end) -> np.ndarray:
    s, e = pd.DatetimeIndex(start), pd.DatetimeIndex(end)
    y = e.year - s.year - ((e.month < s.month) | ((e.month == s.month) & (e.day < s.day)))
    return np.where(pd.isna(s) | pd.isna(e), 0, np.nan_to_num(np.asarray(y, float))).astype(int)


def _earlier_loans(applications: pd.DataFrame, book) -> np.ndarray:
    """This lender's loans of each applicant disbursed before the application date."""
    if book is None or not len(book.loans):
        return np.zeros(len(applications), dtype=np.int64)
    loans = book.loans[["borrower_id", "disbursement_date"]]
    mine = loans[loans["borrower_id"].isin(applications["borrower_id"]).to_numpy(dtype=bool)]
    j = applications[["borrower_id", "application_date"]].reset_index().merge(
        mine.astype({"borrower_id": object}), how="left",
        left_on=applications["borrower_id"].astype(object).to_numpy(), right_on="borrower_id",
    )  # fmt: skip
    before = (j["disbursement_date"] < j["application_date"]).to_numpy(dtype=bool)
    return np.bincount(j["index"].to_numpy()[before], minlength=len(applications))


def _contract_payment(a: pd.DataFrame) -> np.ndarray:
    """Average contractual monthly payment of the terms asked."""
    loans = pd.DataFrame(
        {
            "loan_id": np.arange(len(a)),
            "amount": a["amount"].to_numpy(dtype=float),
            "annual_rate": a["annual_rate"].to_numpy(dtype=float),
            "term_months": a["term_months"].to_numpy(dtype=np.int64),
            "repayment_method": a["repayment_method"].astype(str).to_numpy(),
            "disbursement_date": a["application_date"].to_numpy(),
        }
    )
    s = make_schedule(loans)
    total = np.bincount(s["loan_id"].to_numpy(), weights=(s["principal_due"] + s["interest_due"])
                        .to_numpy(), minlength=len(a))  # fmt: skip
    return total / a["term_months"].to_numpy(dtype=float)


def application_features(applications: pd.DataFrame, customers: pd.DataFrame, book=None):
    """Application-time features of applications (index ``application_id``), as
    :func:`riskkit.scoring.application_sample` defines them for loans (see the module
    docstring); applicants must be in ``customers`` (the register)."""
    a = applications.reset_index(drop=True)
    pos = positions(customers["borrower_id"], a["borrower_id"])
    if (pos < 0).any():
        raise ValidationError(
            [Problem("applications", "borrower_id", "applicant not in the customer register")],
            "application features",
        )
    c = customers.iloc[pos].reset_index(drop=True)
    day = a["application_date"].to_numpy()
    out = pd.DataFrame(index=pd.Index(a["application_id"].to_numpy(), name="application_id"))
    for col in _FROM_REGISTER:
        out[col] = c[col].to_numpy() if col in c else None
    for col in _FROM_TERMS:
        out[col] = a[col].to_numpy()
    out["age"] = _whole_years(c["birth_date"].to_numpy(), day)
    since = _whole_years(c["onboarding_date"].to_numpy(), day) if "onboarding_date" in c else 0
    out["years_in_business"] = column_or(c, "years_in_business", 0).astype(np.int64) + np.maximum(
        since, 0
    )
    out["monthly_income"] = c["monthly_income"].to_numpy(dtype=float)
    out["household_size"] = column_or(c, "household_size", 1).astype(np.int64)
    prior = column_or(c, "prior_loans", 0).astype(np.int64)
    out["prior_loans"] = prior + _earlier_loans(a, book)
    out["prior_delinquency"] = column_or(c, "prior_delinquency", 0).astype(np.int64)
    for col in ("amount", "annual_rate"):
        out[col] = a[col].to_numpy(dtype=float)
    out["term_months"] = a["term_months"].to_numpy(dtype=np.int64)
    out["payment_to_income"] = _contract_payment(a) / out["monthly_income"].to_numpy()
    out["n_guarantors"] = column_or(a, "n_guarantors", 0).astype(np.int64)
    value = column_or(a, "collateral_value", np.nan).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["loan_to_value"] = np.where(value > 0, out["amount"].to_numpy() / value, np.nan)
    return out


@dataclass
class ApplicationScores(TableResult):
    """Scores of applications by one scorecard (:func:`score_applications`).

    ``table`` (index ``application_id``): ``score``, ``pd`` (held for the amount),
    ``pd_model`` (the model's at the amount asked), ``grade``, ``reason_1..n`` and
    ``points_lost_1..n``; ``model`` names the scorecard version.
    """

    table: pd.DataFrame
    model: str

    def to_frame(self) -> pd.DataFrame:
        return self.table.reset_index()

    def __repr__(self) -> str:
        t = self.table
        return (
            f"ApplicationScores({len(t):,} applications by {self.model}: mean PD "
            f"{t['pd'].mean():.2%}, grades {t['grade'].value_counts().sort_index().to_dict()})"
        )

    def _repr_html_(self) -> str:
        return f"<div><b>{html.escape(repr(self))}</b>{self.table.head(20).to_html()}</div>"


def _held_pd(model, X: pd.DataFrame, feats: list[str], a: pd.DataFrame, customers, book):
    """The largest PD of the same terms at smaller amounts (a grid), vectorised."""
    if "amount" not in feats and "payment_to_income" not in feats and "loan_to_value" not in feats:
        return model.predict_proba(X)[:, 1]
    k = len(AMOUNT_STEPS)
    grid = a.loc[a.index.repeat(k)].reset_index(drop=True)
    grid["amount"] = np.maximum(np.round(np.tile(AMOUNT_STEPS, len(a)) * np.repeat(
        a["amount"].to_numpy(dtype=float), k), -2), 100.0)  # fmt: skip
    grid["application_id"] = np.arange(len(grid)).astype(str)
    G = application_features(grid, customers, book)[feats]
    return model.predict_proba(G)[:, 1].reshape(len(a), k).max(axis=1)


def score_applications(
    model, applications, customers, book=None, *, label: str = "", master_scale=None,
    n_reasons: int = 3, policy=None,
) -> ApplicationScores:  # fmt: skip
    """Score, PD and grade of each application by ``model`` (the champion scorecard).

    The PD is never lower than the model's PD for the same terms at a smaller amount (held on
    a grid of :data:`AMOUNT_STEPS` of the amount asked); the grade is the master scale's
    (policy ``scorecard.master_scale``) of that PD.
    """
    from ..scoring import MasterScale

    a = applications.reset_index(drop=True)
    feats = [str(f) for f in model.feature_names_in_]
    X = application_features(a, customers, book)[feats]
    own = model.predict_proba(X)[:, 1]
    held = np.maximum(own, _held_pd(model, X, feats, a, customers, book))
    ms = master_scale if master_scale is not None else MasterScale(policy=policy)
    table = pd.DataFrame(
        {
            "score": np.asarray(model.credit_score(X), dtype=float),
            "pd": held,
            "pd_model": own,
            "grade": np.asarray(ms.assign(held), dtype=object),
        },
        index=X.index,
    )
    rc = model.reason_codes(X, n_reasons)
    rc.index = X.index
    return ApplicationScores(table.join(rc), label or type(model).__name__)
