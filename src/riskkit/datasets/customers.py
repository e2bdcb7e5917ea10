"""Customer-register fields of the synthetic borrowers (客户档案, seed 000 arts. 5-9).

:func:`add_register_fields` completes a borrowers table of
:func:`~riskkit.datasets.make_microloan_book` with what admission looks at, drawn from its own
random stream (the book's other tables do not change with it):

* ``civil_capacity`` (full), ``id_type`` (resident ID) and the ID's expiry: a resident ID card
  issued at 16-25 is valid 10 years, at 26-45 20 years, from 46 for life (``id_long_term``);
  the card on file was valid at onboarding, and about a third of those that expired since were
  not renewed in the register;
* ``income_source`` by segment and ``income_verified_date`` / ``credit_report_date`` (checked
  in the weeks before the customer's latest loan);
* the credit record: ``worst_delinquency_days`` (0 without past delinquency, else growing with
  the number of delinquent episodes) and ``overdue_elsewhere`` (RMB overdue at other lenders
  at the last credit report; rare);
* ``residence_status`` / ``residence_since`` and ``business_start_date`` (from
  ``years_in_business``; none for consumers).

Examples
--------
>>> from riskkit.datasets import make_microloan_book
>>> b = make_microloan_book(n_loans=200, months=12, seed=0).borrowers
>>> sorted(set(b["income_source"]))[:2], b["civil_capacity"].unique().tolist()
(['business', 'farming'], ['full'])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Validity of a resident ID card by age at issue (Resident Identity Card Law art. 5).
ID_VALIDITY_YEARS = ((16, 10), (26, 20))  # from 46: long-term


def _days(values) -> np.ndarray:
    return np.asarray(values, dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)


def _to_dates(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]")


def add_register_fields(
    borrowers: pd.DataFrame, loans: pd.DataFrame, seed: int, as_of
) -> pd.DataFrame:
    """``borrowers`` with the customer-register fields added (see the module docstring).

    Needs ``borrower_id, segment, birth_date, onboarding_date, years_in_business,
    prior_delinquency`` and the loans (for each customer's latest loan date).
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(13,)))
    n = len(borrowers)
    a = _days([pd.Timestamp(as_of)])[0]
    birth = _days(borrowers["birth_date"])
    onboard = _days(borrowers["onboarding_date"])
    last = (
        loans.groupby("borrower_id", sort=False)["disbursement_date"]
        .max()
        .reindex(borrowers["borrower_id"])
    )
    latest = np.where(last.notna().to_numpy(), _days(last.fillna(pd.Timestamp(as_of))), onboard)
    seg = borrowers["segment"].to_numpy(dtype=object)
    out = borrowers.copy()
    out["civil_capacity"] = "full"
    out["id_type"] = "resident_id"
    expiry, long_term = _id_expiry(rng, birth, onboard, a)
    out["id_expiry_date"] = pd.Series(_to_dates(expiry)).where(~long_term).to_numpy()
    out["id_long_term"] = long_term
    out["income_source"] = _income_source(rng, seg, (onboard - birth) / 365.25)
    out["income_verified_date"] = _to_dates(latest - rng.integers(1, 30, n))
    out["credit_report_date"] = _to_dates(latest - rng.integers(1, 20, n))
    out["worst_delinquency_days"] = _worst_delinquency(
        rng, borrowers["prior_delinquency"].to_numpy(np.int64)
    )
    overdue = rng.random(n) < 0.012
    out["overdue_elsewhere"] = np.where(overdue, np.round(rng.uniform(500, 20_000, n), -2), 0.0)
    _residence(rng, out, seg, birth, onboard)
    yib = borrowers["years_in_business"].to_numpy(np.int64)
    start = onboard - (yib * 365.25).astype(np.int64) - rng.integers(0, 365, n)
    start = np.maximum(start, birth + 16 * 366)
    out["business_start_date"] = _to_dates(start)
    out.loc[seg == "consumer", "business_start_date"] = pd.NaT
    return out


def _validity(age_at_issue: np.ndarray) -> np.ndarray:
    """Years a resident ID card issued at that age is valid (inf: long-term)."""
    (a1, y1), (a2, y2) = ID_VALIDITY_YEARS
    return np.select([age_at_issue < a2, age_at_issue < 46], [float(y1), float(y2)], np.inf)


def _id_expiry(rng, birth, onboard, a) -> tuple[np.ndarray, np.ndarray]:
    """Expiry day of the ID card on file (valid at onboarding) and whether it is long-term."""
    n = len(birth)
    age_on = (onboard - birth) / 365.25
    issued = np.maximum(age_on - rng.uniform(0, 10, n), 16.0)
    expired_by_onboarding = issued + _validity(issued) < age_on
    issued = np.where(expired_by_onboarding, age_on - rng.uniform(0, 1, n), issued)
    years = _validity(issued)
    # two thirds of the cards that expired since onboarding were renewed in the register
    renewed = np.isfinite(years) & (birth + (issued + years) * 365.25 < a)
    renewed &= rng.random(n) < 2 / 3
    issued = np.where(renewed, issued + np.where(np.isfinite(years), years, 0), issued)
    years = _validity(issued)
    long_term = ~np.isfinite(years)
    exp = birth + ((issued + np.where(long_term, 0, years)) * 365.25).astype(np.int64)
    return exp, long_term


def _income_source(rng, seg: np.ndarray, age: np.ndarray) -> np.ndarray:
    u = rng.random(len(seg))
    consumer = np.where(age > 55, np.where(u < 0.5, "pension", "salary"), "salary")
    consumer = np.where(u > 0.93, "rental", consumer)
    business = np.where(u < 0.97, "business", "rental")
    return np.select(
        [seg == "farmer", seg == "consumer"],
        [np.where(u < 0.95, "farming", "business"), consumer],
        default=business,
    ).astype(object)


def _worst_delinquency(rng, episodes: np.ndarray) -> np.ndarray:
    """Worst days past due in the credit history: 0 without a delinquent episode."""
    n = len(episodes)
    base = rng.choice([15, 45, 75, 120, 200], n, p=[0.55, 0.25, 0.12, 0.06, 0.02])
    worst = base + 15 * np.maximum(episodes - 1, 0) + rng.integers(0, 15, n)
    return np.where(episodes > 0, worst, 0).astype(np.int64)


def _residence(rng, out: pd.DataFrame, seg, birth, onboard) -> None:
    n = len(out)
    p_local = np.where(seg == "consumer", 0.72, 0.86)
    u = rng.random(n)
    status = np.where(
        u < p_local, "local_hukou", np.where(u < 0.985, "local_resident", "non_local")
    )
    since = np.where(
        status == "local_hukou",
        birth,
        onboard - (rng.uniform(0.5, 12, n) * 365.25).astype(np.int64),
    )
    out["residence_status"] = status.astype(object)
    out["residence_since"] = _to_dates(np.maximum(since, birth))
