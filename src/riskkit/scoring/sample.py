"""Application-time features and an observed ``bad`` outcome, for scorecard development."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..book import delinquency_history, make_schedule
from ..errors import ProblemCollector

#: Categorical application features.
CATEGORICAL_FEATURES = (
    "segment",
    "gender",
    "education",
    "marital_status",
    "house_ownership",
    "region",
    "product",
    "repayment_method",
    "guarantee_type",
    "purpose",
    "branch",
)
#: Numeric application features (``loan_to_value`` is missing for loans without collateral).
NUMERIC_FEATURES = (
    "age",
    "years_in_business",
    "monthly_income",
    "household_size",
    "prior_loans",
    "prior_delinquency",
    "amount",
    "term_months",
    "annual_rate",
    "payment_to_income",
    "n_guarantors",
    "loan_to_value",
)
APPLICATION_FEATURES = CATEGORICAL_FEATURES + NUMERIC_FEATURES
_BORROWER_NEEDS = (
    "borrower_id",
    "segment",
    "gender",
    "birth_date",
    "education",
    "marital_status",
    "years_in_business",
    "monthly_income",
    "household_size",
    "house_ownership",
    "prior_loans",
    "prior_delinquency",
    "region",
    "onboarding_date",
)


def feature_columns(sample: pd.DataFrame, target: str = "bad", exclude=()) -> list[str]:
    """Columns of a scoring sample a scorecard may use as features, in sample order.

    Never a feature: the ``target``, identifiers (``loan_id``, ``borrower_id``, any column
    ending in ``_id``), personal data (:data:`riskkit.privacy.PII_COLUMNS`), dates (datetime
    columns) and the ``exclude`` columns (e.g. an application-date column kept as text).

    Examples
    --------
    >>> df = pd.DataFrame({"loan_id": ["L1"], "phone": ["13812345678"], "age": [40],
    ...                    "disbursement_date": pd.to_datetime(["2026-01-05"]), "bad": [0]})
    >>> feature_columns(df)
    ['age']
    """
    from ..privacy import PII_COLUMNS

    skip = {target, *PII_COLUMNS, *exclude}
    return [
        c
        for c in sample.columns
        if c not in skip
        and not str(c).endswith("_id")
        and not pd.api.types.is_datetime64_any_dtype(sample[c])
    ]


def application_sample(book, horizon_months: int = 12, bad_missed: int = 3) -> pd.DataFrame:
    """One row per loan whose outcome window is fully observed: features known at
    disbursement and the observed outcome ``bad``.

    Parameters
    ----------
    book : LoanBook
        With ``as_of_date`` and a borrowers table carrying the attributes of
        :func:`make_microloan_book` (recorded at onboarding).
    horizon_months : int, default 12
        Outcome window after disbursement. Only loans disbursed at least this many months
        before ``book.as_of_date`` are included.
    bad_missed : int, default 3
        ``bad`` = 1 if at any month-end within the window the loan had at least this many
        consecutive missed periods (3 = special mention or worse in the quantitative rule).

    Returns
    -------
    DataFrame
        Indexed by ``loan_id``, with

        * the features of :data:`APPLICATION_FEATURES`: borrower attributes as at the application
          (``age`` from the birth date, ``years_in_business`` and ``prior_loans`` brought forward
          from onboarding with the borrower's earlier loans in the book), loan terms,
          ``payment_to_income`` (average contractual monthly payment over monthly income, from the
          contract, not the current schedule), ``n_guarantors`` and ``loan_to_value`` (amount over
          the collateral appraised on or before disbursement; missing without collateral). No
          personal data (name, ID number, phone) and nothing observed after disbursement;
        * ``disbursement_date``, to split development and out-of-time samples;
        * ``bad`` (0/1), derived with :func:`riskkit.book.delinquency_history` from schedule and
          payments (month-end snapshots), not from any generator variable.

    Examples
    --------
    >>> from riskkit.datasets import make_microloan_book
    >>> from riskkit.scoring import application_sample
    >>> book = make_microloan_book(n_loans=500, months=24, seed=3)
    >>> s = application_sample(book)
    >>> bool(s["bad"].isin([0, 1]).all()), "name" in s.columns
    (True, False)
    """
    errors = ProblemCollector("application sample input")
    if book.as_of_date is None:
        raise ValueError("the book has no as_of_date: the outcome window cannot be checked")
    if int(horizon_months) < 1 or int(bad_missed) < 1:
        raise ValueError("horizon_months and bad_missed must be at least 1")
    for c in _BORROWER_NEEDS:
        if c not in book.borrowers.columns:
            errors.add("borrowers", c, "required column is missing for application_sample")
    errors.raise_if_any()
    as_of = book.as_of_date
    loans = book.loans
    end = loans["disbursement_date"] + pd.DateOffset(months=int(horizon_months))
    eligible = (end <= as_of).to_numpy()
    sub = book.subset(loans.loc[eligible, "loan_id"]) if not eligible.all() else book
    L = sub.loans.reset_index(drop=True)
    bor = sub.borrowers.drop_duplicates("borrower_id").set_index("borrower_id")
    b = bor.reindex(L["borrower_id"])
    missing = b["segment"].isna().to_numpy()
    errors.check("loans", "borrower_id", missing, L["loan_id"], "unknown borrower")
    errors.raise_if_any()
    disb = L["disbursement_date"]

    out = pd.DataFrame(index=pd.Index(L["loan_id"].to_numpy(), name="loan_id"))
    for c in ("segment", "gender", "education", "marital_status", "house_ownership", "region"):
        out[c] = b[c].to_numpy()
    for c in ("product", "repayment_method", "guarantee_type", "purpose", "branch"):
        out[c] = L[c].to_numpy()
    out["age"] = _whole_years(b["birth_date"].to_numpy(), disb.to_numpy())
    since = _whole_years(b["onboarding_date"].to_numpy(), disb.to_numpy())
    out["years_in_business"] = b["years_in_business"].to_numpy(np.int64) + np.maximum(since, 0)
    out["monthly_income"] = b["monthly_income"].to_numpy(float)
    out["household_size"] = b["household_size"].to_numpy(np.int64)
    # loans of the same borrower in the book disbursed before this one (whole book, not
    # only the sample: earlier loans are known at application time)
    allb = loans[["borrower_id", "disbursement_date", "loan_id"]]
    allb = allb.sort_values(["borrower_id", "disbursement_date", "loan_id"], kind="stable")
    earlier = pd.Series(
        allb.groupby("borrower_id", sort=False).cumcount().to_numpy(), index=allb["loan_id"]
    )
    out["prior_loans"] = b["prior_loans"].to_numpy(np.int64) + earlier.reindex(
        L["loan_id"]
    ).to_numpy(np.int64)
    out["prior_delinquency"] = b["prior_delinquency"].to_numpy(np.int64)
    for c in ("amount", "annual_rate"):
        out[c] = L[c].to_numpy(float)
    out["term_months"] = L["term_months"].to_numpy(np.int64)
    contract = make_schedule(L)  # the contract at disbursement, not the current schedule
    total_due = (
        (contract["principal_due"] + contract["interest_due"])
        .groupby(contract["loan_id"], sort=False)
        .sum()
        .reindex(L["loan_id"])
        .to_numpy()
    )
    out["payment_to_income"] = total_due / L["term_months"].to_numpy() / out["monthly_income"]
    g = sub.guarantors
    out["n_guarantors"] = (
        g.groupby("loan_id").size().reindex(L["loan_id"], fill_value=0).to_numpy(np.int64)
    )
    col = sub.collateral
    if len(col):
        d0 = col["loan_id"].map(L.set_index("loan_id")["disbursement_date"])
        at_disb = col[(col["valuation_date"] <= d0).to_numpy(dtype=bool, na_value=False)]
        latest = at_disb.sort_values("valuation_date").drop_duplicates(
            ["collateral_id"], keep="last"
        )
        value = latest.groupby("loan_id")["appraised_value"].sum()
        v = value.reindex(L["loan_id"]).to_numpy(float)
    else:
        v = np.full(len(L), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["loan_to_value"] = np.where(v > 0, L["amount"].to_numpy(float) / v, np.nan)
    out["disbursement_date"] = disb.to_numpy()
    out["bad"] = _bad_flag(sub, horizon_months, bad_missed).reindex(out.index).to_numpy(np.int64)
    return out[[*APPLICATION_FEATURES, "disbursement_date", "bad"]]


def _whole_years(start, end) -> np.ndarray:
    s = pd.DatetimeIndex(start)
    e = pd.DatetimeIndex(end)
    years = e.year - s.year - ((e.month < s.month) | ((e.month == s.month) & (e.day < s.day)))
    return np.asarray(years, dtype=np.int64)


def _bad_flag(book, horizon_months: int, bad_missed: int) -> pd.Series:
    """1 if a month-end snapshot within the window shows >= ``bad_missed`` missed periods."""
    L = book.loans
    if not len(L):
        return pd.Series(dtype=np.int64)
    first = L["disbursement_date"].min()
    last = (L["disbursement_date"] + pd.DateOffset(months=int(horizon_months))).max()
    dates = pd.date_range(first.normalize() + pd.offsets.MonthEnd(0), last, freq="ME")
    h = delinquency_history(book, dates, columns=["missed_periods"])
    d0 = h["loan_id"].map(L.set_index("loan_id")["disbursement_date"])
    end = d0 + pd.DateOffset(months=int(horizon_months))
    # the month-end snapshots inside each loan's window
    inside = (h["as_of"] > d0) & (h["as_of"] <= end)
    worst = h.loc[inside.to_numpy(), "missed_periods"].groupby(h.loc[inside.to_numpy(), "loan_id"])
    worst = worst.max().reindex(L["loan_id"], fill_value=0).to_numpy()
    return pd.Series((worst >= bad_missed).astype(np.int64), index=L["loan_id"].to_numpy())
