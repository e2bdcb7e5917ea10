"""Application-time features and an observed ``bad`` outcome, for scorecard development."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..book import delinquency_history, make_schedule
from ..book.schedule import add_months
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
    columns), what is observed after disbursement (:data:`OUTCOME_COLUMNS`) and the
    ``exclude`` columns (e.g. an application-date column kept as text).

    Examples
    --------
    >>> df = pd.DataFrame({"loan_id": ["L1"], "phone": ["13812345678"], "age": [40],
    ...                    "disbursement_date": pd.to_datetime(["2026-01-05"]), "bad": [0]})
    >>> feature_columns(df)
    ['age']
    """
    from ..privacy import PII_COLUMNS

    skip = {target, *PII_COLUMNS, *OUTCOME_COLUMNS, *exclude}
    return [
        c
        for c in sample.columns
        if c not in skip
        and not str(c).endswith("_id")
        and not pd.api.types.is_datetime64_any_dtype(sample[c])
    ]


#: Performance-window rules of :class:`OutcomeDefinition`.
WINDOW_RULES = ("fixed", "to_maturity")


@dataclass(frozen=True)
class OutcomeDefinition:
    """What "bad" means for scorecard development (policy ``scorecard.outcome``).

    A loan is **bad** when, at any month-end of its performance window, it is at least
    ``bad_days_past_due`` days past due or has at least ``bad_missed_periods`` consecutive
    missed periods (whichever comes first); **indeterminate** when it is not bad but its worst
    days past due reached ``indeterminate_days_past_due``; **good** otherwise.

    The performance window (``window_rule``):

    * ``"fixed"`` (default): from disbursement to ``window_months`` months after it, rounded
      up to a month-end, for every loan whatever its term, so the PD is a ``window_months``
      PD and no term is observed longer than another. A loan maturing inside the window is
      observed to the window end: a balance unpaid at maturity keeps ageing in days past due.
      The default, 15 months, is the longest bullet term (12) plus ``bad_days_past_due``: a
      12-month window would make every 12-month bullet good (its only installment falls due
      in the window's last month and cannot be 90 days late by its end).
    * ``"to_maturity"``: the later of the fixed window and ``bad_days_past_due`` days after
      contractual maturity (rounded up to a month-end). Longer terms are then observed longer
      (a 24-month loan about 28 months) and look riskier for that reason alone; kept only to
      reproduce earlier models, not for a 12-month PD.

    A loan whose window is not complete at the as-of date is **immature**. Indeterminate and
    immature loans are excluded from development and counted.

    Examples
    --------
    >>> d = OutcomeDefinition.from_policy()
    >>> d.bad_days_past_due, d.bad_missed_periods, d.window_months, d.window_rule
    (90, 3, 15, 'fixed')
    """

    window_months: int = 15
    bad_days_past_due: int = 90
    bad_missed_periods: int | None = 3  # 0 or None: days past due only
    indeterminate_days_past_due: int | None = 30  # 0 or None: no indeterminate band
    window_rule: str = "fixed"  # "fixed" or "to_maturity"

    def __post_init__(self):
        if self.window_rule not in WINDOW_RULES:
            raise ValueError(f"window_rule must be one of {WINDOW_RULES}, got {self.window_rule!r}")
        if int(self.window_months) < 1 or int(self.bad_days_past_due) < 1:
            raise ValueError("window_months and bad_days_past_due must be at least 1")
        if self.bad_missed_periods is not None and int(self.bad_missed_periods) < 0:
            raise ValueError("bad_missed_periods must be >= 0 (0: days past due only)")
        ind = self.indeterminate_days_past_due
        if ind and not 0 < int(ind) < int(self.bad_days_past_due):
            raise ValueError("indeterminate_days_past_due must lie below the bad days (0: none)")

    @classmethod
    def from_policy(cls, policy=None, **overrides) -> OutcomeDefinition:
        """The policy's ``scorecard.outcome`` section, with ``overrides`` (None = keep)."""
        from ..policy import load_policy

        o = dict(load_policy(policy)["scorecard"]["outcome"])
        o.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**o)

    def describe(self) -> str:
        """One sentence for reports."""
        missed = (
            f" or {self.bad_missed_periods}+ consecutive missed periods"
            if self.bad_missed_periods
            else ""
        )
        ind = self.indeterminate_days_past_due
        ind_text = (
            f"; worst {ind}-{self.bad_days_past_due - 1} days past due is indeterminate"
            if ind
            else ""
        )
        if self.window_rule == "fixed":
            window = (
                f"within {self.window_months} months of disbursement for every loan (a loan "
                "maturing earlier is observed to the same date, an unpaid balance ageing in "
                "days past due)"
            )
        else:
            window = (
                f"within the later of {self.window_months} months of disbursement and "
                f"{self.bad_days_past_due} days after maturity (longer terms are observed "
                "longer)"
            )
        return (
            f"bad = ever {self.bad_days_past_due}+ days past due{missed} at a month-end "
            f"{window}{ind_text}; indeterminate and immature applications are excluded"
        )

    def window_lengths(self, term_months) -> np.ndarray:
        """Nominal window length in months for loans of ``term_months`` (before rounding up
        to a month-end).

        Examples
        --------
        >>> OutcomeDefinition().window_lengths([6, 24]).tolist()
        [15, 15]
        >>> OutcomeDefinition(window_rule="to_maturity").window_lengths([6, 24]).tolist()
        [15, 27]
        """
        t = np.asarray(term_months, dtype=np.int64)
        fixed = np.full(t.shape, int(self.window_months), dtype=np.int64)
        if self.window_rule == "fixed":
            return fixed
        late = t + -(-int(self.bad_days_past_due) // 30)
        return np.maximum(fixed, late)

    def as_dict(self) -> dict:
        """The definition as plain data (``X.attrs["outcome_window"]``)."""
        from dataclasses import asdict

        return asdict(self)


#: Outcome labels of :func:`outcome_table`.
OUTCOMES = ("good", "bad", "indeterminate", "immature")
#: Columns of :func:`application_sample` observed after disbursement: never features.
OUTCOME_COLUMNS = ("window_end", "outcome", "bad")


def application_sample(
    book,
    horizon_months: int | None = None,
    bad_missed: int | None = None,
    *,
    outcome: OutcomeDefinition | None = None,
    policy=None,
    keep_excluded: bool = False,
) -> pd.DataFrame:
    """One row per loan with a known outcome: features known at disbursement and ``bad``.

    Parameters
    ----------
    book : LoanBook
        With ``as_of_date`` and a borrowers table carrying the attributes of
        :func:`make_microloan_book` (recorded at onboarding).
    horizon_months, bad_missed : int, optional
        Override the policy's ``window_months`` and ``bad_missed_periods``.
    outcome : OutcomeDefinition, optional
        The outcome definition; default the policy's ``scorecard.outcome`` (see
        :class:`OutcomeDefinition`: bad = ever 90+ days past due or 3+ consecutive missed
        periods within 15 months of disbursement for every loan, a matured unpaid balance
        counted by its days past due).
    policy : path, mapping or Policy, optional
    keep_excluded : bool
        Keep indeterminate and immature loans too (``bad`` is then missing for them).

    Returns
    -------
    DataFrame
        Indexed by ``loan_id``, with

        * the features of :data:`APPLICATION_FEATURES`: borrower attributes as at the
          application (``age`` from the birth date, ``years_in_business`` and ``prior_loans``
          brought forward from onboarding with the borrower's earlier loans in the book), loan
          terms, ``payment_to_income`` (average contractual monthly payment over monthly
          income, from the contract, not the current schedule), ``n_guarantors`` and
          ``loan_to_value`` (amount over the collateral appraised on or before disbursement;
          missing without collateral). No personal data (name, ID number, phone) and nothing
          observed after disbursement;
        * ``disbursement_date``, to split development and out-of-time samples;
        * ``outcome`` (good, bad, indeterminate, immature), ``window_end`` and ``bad`` (0/1),
          derived with :func:`riskkit.book.delinquency_history` from schedule and payments
          (month-end snapshots), not from any generator variable.

    ``attrs["outcome_counts"]`` counts every loan of the book by outcome and
    ``attrs["outcome_definition"]`` describes the definition.

    Examples
    --------
    >>> from riskkit.datasets import make_microloan_book
    >>> from riskkit.scoring import application_sample
    >>> book = make_microloan_book(n_loans=500, months=24, seed=3)
    >>> s = application_sample(book)
    >>> bool(s["bad"].isin([0, 1]).all()), "name" in s.columns
    (True, False)
    >>> sorted(s.attrs["outcome_counts"])
    ['bad', 'good', 'immature', 'indeterminate']
    """
    definition = outcome or OutcomeDefinition.from_policy(
        policy, window_months=horizon_months, bad_missed_periods=bad_missed
    )
    _check_sample_input(book)
    out = application_features(book)
    labels = outcome_table(book, definition)
    out["window_end"] = labels["window_end"].reindex(out.index).to_numpy()
    out["outcome"] = labels["outcome"].reindex(out.index).to_numpy()
    counts = out["outcome"].value_counts().reindex(list(OUTCOMES), fill_value=0)
    known = out["outcome"].isin(["good", "bad"]).to_numpy()
    if not keep_excluded:
        out = out[known].copy()
    out["bad"] = (out["outcome"] == "bad").astype(np.int64)
    if keep_excluded:
        out["bad"] = out["bad"].where(out["outcome"].isin(["good", "bad"]))
    out = out[[*APPLICATION_FEATURES, "disbursement_date", "window_end", "outcome", "bad"]]
    out.attrs["outcome_counts"] = {k: int(v) for k, v in counts.items()}
    out.attrs["outcome_definition"] = definition.describe()
    out.attrs["outcome_window"] = definition.as_dict()
    return out


def _check_sample_input(book) -> None:
    errors = ProblemCollector("application sample input")
    if book.as_of_date is None:
        raise ValueError("the book has no as_of_date: the outcome window cannot be checked")
    for c in _BORROWER_NEEDS:
        if c not in book.borrowers.columns:
            errors.add("borrowers", c, "required column is missing for application_sample")
    errors.raise_if_any()


def application_features(book) -> pd.DataFrame:
    """The application-time features (:data:`APPLICATION_FEATURES`) of every loan of ``book``
    and its ``disbursement_date``, indexed by ``loan_id`` (see :func:`application_sample`)."""
    errors = ProblemCollector("application sample input")
    loans = book.loans
    L = loans.reset_index(drop=True)
    bor = book.borrowers.drop_duplicates("borrower_id").set_index("borrower_id")
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
    out["prior_loans"] = b["prior_loans"].to_numpy(np.int64) + _earlier_loans(loans, L)
    out["prior_delinquency"] = b["prior_delinquency"].to_numpy(np.int64)
    for c in ("amount", "annual_rate"):
        out[c] = L[c].to_numpy(float)
    out["term_months"] = L["term_months"].to_numpy(np.int64)
    out["payment_to_income"] = _contract_payment(L) / out["monthly_income"]
    g = book.guarantors
    out["n_guarantors"] = (
        g.groupby("loan_id").size().reindex(L["loan_id"], fill_value=0).to_numpy(np.int64)
    )
    out["loan_to_value"] = _loan_to_value(book.collateral, L)
    out["disbursement_date"] = disb.to_numpy()
    return out


def _earlier_loans(loans, L) -> np.ndarray:
    """Loans of the same borrower in the book disbursed before each loan (known at
    application time)."""
    allb = loans[["borrower_id", "disbursement_date", "loan_id"]]
    allb = allb.sort_values(["borrower_id", "disbursement_date", "loan_id"], kind="stable")
    earlier = pd.Series(
        allb.groupby("borrower_id", sort=False).cumcount().to_numpy(), index=allb["loan_id"]
    )
    return earlier.reindex(L["loan_id"]).to_numpy(np.int64)


def _contract_payment(L) -> np.ndarray:
    """Average contractual monthly payment (the contract at disbursement, not the current
    schedule)."""
    contract = make_schedule(L)
    total_due = (
        (contract["principal_due"] + contract["interest_due"])
        .groupby(contract["loan_id"], sort=False)
        .sum()
        .reindex(L["loan_id"])
        .to_numpy()
    )
    return total_due / L["term_months"].to_numpy()


def _loan_to_value(col, L) -> np.ndarray:
    if not len(col):
        return np.full(len(L), np.nan)
    d0 = col["loan_id"].map(L.set_index("loan_id")["disbursement_date"])
    at_disb = col[(col["valuation_date"] <= d0).to_numpy(dtype=bool, na_value=False)]
    latest = at_disb.sort_values("valuation_date").drop_duplicates(["collateral_id"], keep="last")
    value = latest.groupby("loan_id")["appraised_value"].sum()
    v = value.reindex(L["loan_id"]).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(v > 0, L["amount"].to_numpy(float) / v, np.nan)


def window_ends(loans: pd.DataFrame, definition: OutcomeDefinition) -> pd.Series:
    """Each loan's performance-window end, rounded up to a month-end (indexed by ``loan_id``).

    ``window_months`` after disbursement for every loan (``window_rule="fixed"``), or the
    later of that and ``bad_days_past_due`` days after contractual maturity
    (``"to_maturity"``).

    Examples
    --------
    >>> loans = pd.DataFrame({"loan_id": ["A", "B"], "term_months": [6, 24],
    ...                       "disbursement_date": pd.to_datetime(["2025-01-15"] * 2)})
    >>> [str(d.date()) for d in window_ends(loans, OutcomeDefinition())]
    ['2026-04-30', '2026-04-30']
    >>> rule = OutcomeDefinition(window_rule="to_maturity")
    >>> [str(d.date()) for d in window_ends(loans, rule)]
    ['2026-04-30', '2027-04-30']
    """
    d0 = loans["disbursement_date"]
    end = _add_months(d0, np.full(len(d0), int(definition.window_months)))
    if definition.window_rule == "to_maturity":
        late = _add_months(d0, loans["term_months"].to_numpy()) + pd.to_timedelta(
            int(definition.bad_days_past_due), "D"
        )
        end = end.where(end >= late, late)
    return pd.Series((end + pd.offsets.MonthEnd(0)).to_numpy(), index=loans["loan_id"].to_numpy())


def _add_months(dates: pd.Series, months) -> pd.Series:
    """Dates plus whole months, vectorised (day clipped to the month's length)."""
    days = add_months(dates.to_numpy().astype("datetime64[D]"), np.asarray(months))
    return pd.Series(days, index=dates.index).astype("datetime64[ns]")


def outcome_table(book, definition: OutcomeDefinition) -> pd.DataFrame:
    """Per loan: ``window_end``, worst days past due and missed periods in the window and the
    ``outcome`` (good, bad, indeterminate, immature) of :class:`OutcomeDefinition`."""
    L = book.loans
    ends = window_ends(L, definition)
    idx = pd.Index(L["loan_id"].to_numpy(), name="loan_id")
    out = pd.DataFrame({"window_end": ends.to_numpy()}, index=idx)
    as_of = pd.Timestamp(book.as_of_date)
    worst = _worst_in_window(book, ends.clip(upper=as_of))
    out["worst_days_past_due"] = worst["days_past_due"].reindex(idx, fill_value=0).to_numpy()
    out["worst_missed_periods"] = worst["missed_periods"].reindex(idx, fill_value=0).to_numpy()
    bad = out["worst_days_past_due"] >= definition.bad_days_past_due
    if definition.bad_missed_periods:
        bad |= out["worst_missed_periods"] >= definition.bad_missed_periods
    ind = definition.indeterminate_days_past_due
    indeterminate = ~bad & (out["worst_days_past_due"] >= ind) if ind else bad & False
    mature = out["window_end"] <= as_of
    # an incomplete window hides the goods: every loan of it is immature, bad or not
    out["outcome"] = np.select(
        [~mature, bad, indeterminate], ["immature", "bad", "indeterminate"], default="good"
    )
    return out


def _worst_in_window(book, ends: pd.Series) -> pd.DataFrame:
    """Worst days past due and consecutive missed periods at the month-ends of each loan's
    window (disbursement, end] (vectorised over the loan-month panel)."""
    L = book.loans
    if not len(L):
        return pd.DataFrame(columns=["days_past_due", "missed_periods"])
    first = L["disbursement_date"].min().normalize() + pd.offsets.MonthEnd(0)
    dates = pd.date_range(first, ends.max(), freq="ME")
    cols = ["missed_periods", "days_past_due"]
    h = delinquency_history(book, dates, columns=cols)
    d0 = h["loan_id"].map(L.set_index("loan_id")["disbursement_date"])
    inside = ((h["as_of"] > d0) & (h["as_of"] <= h["loan_id"].map(ends))).to_numpy()
    return h.loc[inside].groupby("loan_id")[cols].max()


def _whole_years(start, end) -> np.ndarray:
    s = pd.DatetimeIndex(start)
    e = pd.DatetimeIndex(end)
    years = e.year - s.year - ((e.month < s.month) | ((e.month == s.month) & (e.day < s.day)))
    return np.asarray(years, dtype=np.int64)
