"""A synthetic application sample with a known logistic default model and a drift."""

from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic_applications(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(8, 0.5, n)
    age = rng.integers(20, 65, n).astype(float)
    segment = rng.choice(["trader", "farmer", "consumer"], n)
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 730, n), "D")
    lo = (
        -2.3
        - 0.9 * (np.log(income) - 8)
        + 0.03 * (40 - age)
        + np.where(segment == "farmer", 0.6, 0)
    )
    bad = (rng.random(n) < 1 / (1 + np.exp(-lo))).astype(int)
    income = np.where(dates > pd.Timestamp("2025-06-30"), income * 1.6, income)  # drift
    return pd.DataFrame(
        {
            "application_date": dates,
            "income": income,
            "age": age,
            "segment": segment,
            "bad": bad,
            "phone": [f"1391234{i % 10000:04d}" for i in range(n)],
        }
    )
