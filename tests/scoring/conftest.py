"""Fixtures for the scoring tests: German credit and small generated applicant data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[2] / "data" / "german_credit.csv"


def german():
    df = pd.read_csv(DATA)
    y = (df.pop("creditability") == "bad").astype(np.int64)
    return df, y


def make_applicants(n=4000, seed=0, missing=0.05, special=0.03):
    """Numeric (monotone and U-shaped), categorical, missing and special -999 values."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(8, 0.5, n)
    age = rng.uniform(18, 70, n)
    util = rng.uniform(0, 1, n)
    segment = rng.choice(["trader", "farmer", "consumer", "micro_enterprise"], n)
    seg_eff = pd.Series(segment).map(
        {"trader": 0.0, "farmer": 0.6, "consumer": -0.4, "micro_enterprise": 0.3}
    )
    lo = (
        -2.0
        - 0.8 * (np.log(income) - 8) / 0.5
        + 2.5 * (util - 0.5) ** 2 * 4
        - 0.02 * (age - 40)
        + seg_eff.to_numpy()
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-lo))).astype(np.int64)
    X = pd.DataFrame(
        {
            "income": income,
            "age": np.round(age),
            "utilisation": util,
            "segment": pd.array(segment, dtype="str"),
            "noise": rng.normal(size=n),
        }
    )
    for c in ("income", "utilisation"):
        m = rng.random(n) < missing
        X.loc[m, c] = np.nan
        s = rng.random(n) < special
        X.loc[s & ~m, c] = -999.0
    return X, pd.Series(y, name="bad")


@pytest.fixture(scope="session")
def german_data():
    return german()


@pytest.fixture(scope="session")
def applicants():
    return make_applicants()
