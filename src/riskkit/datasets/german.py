"""The UCI Statlog German Credit data (Hofmann 1994) with readable category values.

Source: Hans Hofmann, *Statlog (German Credit Data)*, UCI Machine Learning Repository, 1994,
https://doi.org/10.24432/C5NC77, licensed CC BY 4.0. riskkit ships the 1,000 applications with
the attribute codes (A11, A34, ...) replaced by their documented meanings.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ProblemCollector

FILE_NAME = "german_credit.csv"

#: Numeric attributes (all others are categorical with readable values).
NUMERIC_COLUMNS = (
    "duration_in_month",
    "credit_amount",
    "installment_rate_in_percentage_of_disposable_income",
    "present_residence_since",
    "age_in_years",
    "number_of_existing_credits_at_this_bank",
    "number_of_people_being_liable_to_provide_maintenance_for",
)
CATEGORICAL_COLUMNS = (
    "status_of_existing_checking_account",
    "credit_history",
    "purpose",
    "savings_account_and_bonds",
    "present_employment_since",
    "personal_status_and_sex",
    "other_debtors_or_guarantors",
    "property",
    "other_installment_plans",
    "housing",
    "job",
    "telephone",
    "foreign_worker",
)
#: The 20 attributes in the order of the UCI documentation.
FEATURE_COLUMNS = (
    "status_of_existing_checking_account",
    "duration_in_month",
    "credit_history",
    "purpose",
    "credit_amount",
    "savings_account_and_bonds",
    "present_employment_since",
    "installment_rate_in_percentage_of_disposable_income",
    "personal_status_and_sex",
    "other_debtors_or_guarantors",
    "present_residence_since",
    "property",
    "age_in_years",
    "other_installment_plans",
    "housing",
    "number_of_existing_credits_at_this_bank",
    "job",
    "number_of_people_being_liable_to_provide_maintenance_for",
    "telephone",
    "foreign_worker",
)
TARGET = "creditability"


def german_credit_path() -> Path:
    """Where the shipped CSV is: inside the installed package, else ``<repo>/data``."""
    try:
        p = resources.files("riskkit.datasets").joinpath("data", FILE_NAME)
        if p.is_file():
            return Path(str(p))
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - odd installs
        pass
    repo = Path(__file__).resolve().parents[3] / "data" / FILE_NAME
    if repo.is_file():
        return repo
    raise FileNotFoundError(
        f"{FILE_NAME} not found in the riskkit package (riskkit/datasets/data/) nor at {repo}"
    )


def load_german_credit(as_frame: bool = True, return_X_y: bool = False):
    """Load the German Credit data: 1,000 applications, 20 attributes, good/bad outcome.

    Parameters
    ----------
    as_frame : bool, default True
        Return pandas objects (numeric attributes as int64, categorical ones as text with
        their readable UCI meanings). With ``as_frame=False`` arrays are returned.
    return_X_y : bool, default False
        Return ``(X, y)``: the 20 attributes and ``y`` = 1 for a bad credit, 0 for good.

    Returns
    -------
    DataFrame
        With ``as_frame=True`` and ``return_X_y=False``: the 20 attributes, ``creditability``
        ("good" / "bad") and ``bad`` (1 for bad, 0 for good). 700 good, 300 bad.
    (X, y)
        With ``return_X_y=True``: DataFrame and Series ``bad`` (or two arrays).
    sklearn.utils.Bunch
        With ``as_frame=False`` and ``return_X_y=False``: ``data`` (object array),
        ``target`` (0/1), ``feature_names``, ``target_names`` and ``DESCR``.

    Notes
    -----
    Source: H. Hofmann (1994), Statlog (German Credit Data), UCI Machine Learning Repository,
    https://doi.org/10.24432/C5NC77, CC BY 4.0. The UCI cost matrix rates classifying a bad
    customer as good five times worse than the reverse.

    Examples
    --------
    >>> from riskkit.datasets import load_german_credit
    >>> df = load_german_credit()
    >>> df.shape, int(df["bad"].sum())
    ((1000, 22), 300)
    >>> X, y = load_german_credit(return_X_y=True)
    >>> X.shape, float(y.mean())
    ((1000, 20), 0.3)
    """
    path = german_credit_path()
    dtypes = {c: "str" for c in CATEGORICAL_COLUMNS + (TARGET,)}
    dtypes.update({c: "int64" for c in NUMERIC_COLUMNS})
    raw = pd.read_csv(path, dtype="str", keep_default_na=False, na_values=[])
    errors = ProblemCollector(f"dataset {path.name}")
    expected = FEATURE_COLUMNS + (TARGET,)
    errors.require(path.name, raw, expected)
    errors.raise_if_any()
    rows = pd.Series(np.arange(1, len(raw) + 1), dtype="int64")
    df = pd.DataFrame(index=raw.index)
    for c in expected:
        s = raw[c]
        errors.check(path.name, c, (s.str.strip() == "").to_numpy(), rows, "missing value")
        if c in NUMERIC_COLUMNS:
            num = pd.to_numeric(s, errors="coerce")
            bad = num.isna() | (num != np.floor(num))
            errors.check(path.name, c, bad.to_numpy(), rows, "not an integer (row number shown)")
            df[c] = num.fillna(0).astype("int64")
        else:
            df[c] = s.astype("str")
    errors.check(
        path.name,
        TARGET,
        ~df[TARGET].isin(["good", "bad"]).to_numpy(),
        rows,
        "must be 'good' or 'bad'",
    )
    errors.raise_if_any()
    y = pd.Series((df[TARGET] == "bad").astype("int64"), name="bad")
    X = df[list(FEATURE_COLUMNS)]
    if return_X_y:
        return (X, y) if as_frame else (X.to_numpy(dtype=object), y.to_numpy())
    if as_frame:
        return df.assign(bad=y)
    from sklearn.utils import Bunch

    return Bunch(
        data=X.to_numpy(dtype=object),
        target=y.to_numpy(),
        feature_names=list(FEATURE_COLUMNS),
        target_names=["good", "bad"],
        DESCR=__doc__,
    )
