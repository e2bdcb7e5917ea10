"""A synthetic but realistic microloan book (DOMAIN.md s.1-5), deterministic per seed.

The generator draws borrowers and loans, builds the contractual schedules with
:func:`riskkit.book.make_schedule`, then simulates repayment behaviour month by month (a loop
over calendar months, vectorised over loans). Delinquency in the output is *not* stored: it is
derived from schedule and payments by :mod:`riskkit.book.delinquency` like for a real extract.

Behaviour model (per loan and due installment)
----------------------------------------------
The log-odds of missing an installment are ``base + risk + macro[month] + season + shock +
spiral[streak]`` where ``risk`` is the loan's latent default propensity (a linear function of
borrower and loan attributes plus an unobserved part), ``macro`` an AR(1) economic factor,
``season`` a harvest effect for farm loans, ``shock`` the effect of events (income drop, illness,
disaster, a defaulting joint-guarantee partner) and ``spiral`` raises the odds with each
consecutive missed installment. A borrower in arrears may cure (pay all arrears), pay only the
current installment, pay part of it, or miss again. Performing borrowers sometimes prepay the
whole balance (the schedule is then closed at that installment, as a lender's system does).
After long arrears the lender enforces the guarantee or collateral (``enforcement_started``);
recoveries arrive as lump-sum payments, or recovery is exhausted (loss). A few borrowers die or
go missing (``death_or_missing``); heirs repay some of those loans.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from ..book import LoanBook, make_schedule
from . import synthetic_pii
from . import workout_behaviour as workout
from .customers import add_register_fields

SEGMENTS = ("trader", "micro_enterprise", "farmer", "consumer")
EDUCATION = ("primary", "junior_high", "senior_high", "vocational", "bachelor_or_above")
MARITAL = ("single", "married", "divorced", "widowed")
HOUSING = ("own", "own_mortgaged", "rent", "with_family")
REGIONS = ("城区", "城郊", "东部乡镇", "南部平原", "西部山区")
BRANCHES = ("城关支行", "城郊支行", "东部支行", "南部支行", "西部支行")
PRODUCTS = {
    "trader": "business_loan",
    "micro_enterprise": "business_loan",
    "farmer": "agri_loan",
    "consumer": "consumer_loan",
}
PURPOSES = {
    "trader": ("stock purchase", "working capital", "shop renovation", "equipment"),
    "micro_enterprise": ("working capital", "equipment", "raw materials", "expansion"),
    "farmer": ("seeds and fertiliser", "livestock", "farm machinery", "greenhouse"),
    "consumer": ("home renovation", "education", "medical", "vehicle", "wedding"),
}
#: months of the main harvests (wheat in June, autumn crops in September-October)
HARVEST_MONTHS = (6, 9, 10)
LEAN_MONTHS = (3, 4, 5)
N_OFFICERS = 30
TOL = 1.0  # RMB; matches the default delinquency tolerance
#: weight of the observable attributes and spread of the unobserved character in the latent
#: propensity (tuned so that a logistic scorecard reaches an AUC of about 0.75)
OBSERVED_WEIGHT = 0.6
UNOBSERVED_SD = 1.3

# ------------------------------------------------------------------ borrower parameters
#: book structure: joint-guarantee (三户联保) triples as a share of loans (x 3), second loans
#: of earlier borrowers as a share of the other loans
BOOK_STRUCTURE: dict[str, Any] = {"joint_group_share": 0.05, "repeat_share": 0.06}
#: segment shares of borrowers, and of joint-guarantee groups (no consumer groups)
SEGMENT_SHARES = {"trader": 0.34, "micro_enterprise": 0.16, "farmer": 0.32, "consumer": 0.18}
JOINT_SEGMENT_SHARES = {"trader": 0.45, "micro_enterprise": 0.1, "farmer": 0.45}
#: region shares (by :data:`REGIONS`); farmers drawn to the town (城区) move to a rural region
REGION_SHARES = {"城区": 0.28, "城郊": 0.2, "东部乡镇": 0.18, "南部平原": 0.18, "西部山区": 0.16}
#: per segment: share of men, mean age (sd 9, 20-65), scale of the gamma-distributed years in
#: business (shape 2), median monthly income (RMB), mean number of prior loans
BORROWER_PROFILE: dict[str, Any] = {
    "male_share": {"trader": 0.66, "micro_enterprise": 0.66, "farmer": 0.66, "consumer": 0.5},
    "age_mean": {"trader": 40, "micro_enterprise": 42, "farmer": 46, "consumer": 34},
    "years_in_business_scale": {
        "trader": 3.5, "micro_enterprise": 3.5, "farmer": 8.0, "consumer": 3.5,
    },
    "income_median": {"trader": 8500, "micro_enterprise": 15000, "farmer": 4800, "consumer": 6500},
    "prior_loans_mean": {"trader": 1.4, "micro_enterprise": 1.4, "farmer": 1.4, "consumer": 0.9},
}  # fmt: skip
#: education shares per segment (by :data:`EDUCATION`)
EDUCATION_SHARES = {
    "trader": [0.12, 0.38, 0.3, 0.12, 0.08],
    "micro_enterprise": [0.05, 0.25, 0.3, 0.2, 0.2],
    "farmer": [0.3, 0.48, 0.17, 0.04, 0.01],
    "consumer": [0.04, 0.2, 0.3, 0.2, 0.26],
}
#: housing shares per segment (by :data:`HOUSING`)
HOUSING_SHARES = {
    "trader": [0.45, 0.2, 0.28, 0.07],
    "micro_enterprise": [0.45, 0.3, 0.18, 0.07],
    "farmer": [0.85, 0.03, 0.04, 0.08],
    "consumer": [0.25, 0.25, 0.32, 0.18],
}
#: borrower part of the latent propensity (log-odds) by attribute level
BORROWER_RISK: dict[str, Any] = {
    "education": {
        "primary": 0.45, "junior_high": 0.2, "senior_high": 0.0, "vocational": -0.1,
        "bachelor_or_above": -0.45,
    },
    "marital_status": {"single": 0.2, "married": -0.2, "divorced": 0.45, "widowed": 0.1},
    "house_ownership": {"own": -0.25, "own_mortgaged": 0.0, "rent": 0.4, "with_family": 0.15},
    "region": {"城区": 0.0, "城郊": 0.05, "东部乡镇": 0.1, "南部平原": 0.0, "西部山区": 0.35},
    "segment": {"trader": 0.0, "micro_enterprise": -0.1, "farmer": 0.1, "consumer": 0.25},
}  # fmt: skip

# ------------------------------------------------------------------ loan parameters
#: guarantee-type shares per segment (joint-guarantee group loans are ``joint``)
GUARANTEE_SHARES = {
    "credit": {"trader": 0.38, "micro_enterprise": 0.22, "farmer": 0.5, "consumer": 0.7},
    "guaranteed": {"trader": 0.3, "micro_enterprise": 0.3, "farmer": 0.33, "consumer": 0.25},
    "mortgage": {"trader": 0.22, "micro_enterprise": 0.33, "farmer": 0.14, "consumer": 0.0},
    "pledge": {"trader": 0.1, "micro_enterprise": 0.15, "farmer": 0.03, "consumer": 0.05},
}
#: amount = monthly income x multiple (median per segment, lognormal sd 0.45; x 1.5 for a
#: secured business loan), rounded to 1,000 and capped
AMOUNT: dict[str, Any] = {
    "income_multiple": {"trader": 5.0, "micro_enterprise": 6.0, "farmer": 6.0, "consumer": 3.0},
    "secured_business_factor": 1.5,
    "min": 3_000.0,
    "cap": 100_000.0,
    "cap_secured_business": 500_000.0,
    "cap_pledge": 300_000.0,
}
TERM_MONTHS = (3, 6, 9, 12, 18, 24, 36)
#: term shares per segment (by :data:`TERM_MONTHS`)
TERM_SHARES = {
    "trader": [0.08, 0.2, 0.07, 0.35, 0.1, 0.15, 0.05],
    "micro_enterprise": [0.02, 0.08, 0.05, 0.35, 0.15, 0.25, 0.1],
    "farmer": [0.02, 0.15, 0.2, 0.45, 0.1, 0.06, 0.02],
    "consumer": [0.04, 0.16, 0.05, 0.35, 0.1, 0.2, 0.1],
}
#: repayment-method shares per segment (a bullet loan above 12 months is interest-only)
METHOD_SHARES = {
    "annuity": {"trader": 0.45, "micro_enterprise": 0.4, "farmer": 0.3, "consumer": 0.8},
    "equal_principal": {"trader": 0.2, "micro_enterprise": 0.3, "farmer": 0.1, "consumer": 0.2},
    "interest_only": {"trader": 0.25, "micro_enterprise": 0.25, "farmer": 0.3, "consumer": 0.0},
    "bullet": {"trader": 0.1, "micro_enterprise": 0.05, "farmer": 0.3, "consumer": 0.0},
}
#: annual rate = base + margin by guarantee + slope x clipped observable risk + noise,
#: clipped and rounded to 0.05%
PRICING: dict[str, Any] = {
    "base": 0.075,
    "margin": {"credit": 0.06, "guaranteed": 0.04, "joint": 0.035, "mortgage": 0.02,
               "pledge": 0.01},
    "risk_slope": 0.02,
    "noise_sd": 0.008,
    "min": 0.045,
    "max": 0.24,
    "step": 0.0005,
}  # fmt: skip
#: loan part of the latent propensity (log-odds): by guarantee type; payment-to-income above
#: 0.35 (x 1.2, observed weight); officers differ (sd 0.15)
LOAN_RISK: dict[str, Any] = {
    "guarantee": {"credit": 0.0, "guaranteed": -0.15, "joint": -0.25, "mortgage": -0.45,
                  "pledge": -0.6},
    "pti_slope": 1.2,
    "officer_sd": 0.15,
}  # fmt: skip
#: disbursements grow by 2% a month; farm loans favour February-April (x 2.5)
DISBURSEMENT: dict[str, Any] = {
    "monthly_growth": 1.02,
    "farm_months": (2, 3, 4),
    "farm_weight": 2.5,
}


def _pick(rng, options, probs, n):
    p = np.asarray(probs, dtype=float)
    return np.asarray(options)[rng.choice(len(options), size=n, p=p / p.sum())]


def _pick_rows(rng, options, probs_rows):
    """One choice per row from row-specific probabilities (vectorised inverse CDF)."""
    p = np.asarray(probs_rows, dtype=float)
    p = p / p.sum(axis=1, keepdims=True)
    u = rng.random(len(p))[:, None]
    idx = (u > np.cumsum(p, axis=1)).sum(axis=1)
    return np.asarray(options)[np.minimum(idx, len(options) - 1)]


def _by_segment(seg, table):
    """Row-wise parameter rows from a ``{segment: row}`` table."""
    out = np.zeros((len(seg), len(next(iter(table.values())))))
    for s, row in table.items():
        out[seg == s] = row
    return out


def _segment_value(seg, table: dict) -> np.ndarray:
    """Row-wise parameter from a ``{segment: value}`` table."""
    return _by_segment(seg, {s: [v] for s, v in table.items()})[:, 0]


def _shares_by_segment(seg, table: dict) -> np.ndarray:
    """Row-wise shares from an ``{option: {segment: share}}`` table (options as columns)."""
    return _by_segment(seg, {s: [table[o][s] for o in table] for s in SEGMENTS})


def _levels(table: dict) -> np.ndarray:
    """The values of a ``{level: value}`` table, to index by level position."""
    return np.array(list(table.values()))


def _ids(prefix: str, numbers, width: int) -> np.ndarray:
    """``prefix`` + zero-padded numbers, e.g. ``L0000001`` (empty input gives an empty array)."""
    num = np.asarray(numbers, dtype=np.int64)
    if not len(num):
        return np.zeros(0, dtype=f"U{len(prefix) + width}")
    return np.char.add(prefix, np.char.zfill(num.astype(f"U{width}"), width))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _month_index(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype="datetime64[D]").astype("datetime64[M]").astype(np.int64)


def make_microloan_book(
    n_loans: int = 20_000, months: int = 36, seed: int = 0, as_of="2026-10-31"
) -> LoanBook:
    """Generate a realistic microloan book.

    Parameters
    ----------
    n_loans : int, default 20000
        Number of loans (joint-guarantee groups are whole triples, so the count is exact).
    months : int, default 36
        Loans are disbursed throughout the ``months`` months before ``as_of``; repayment
        behaviour is simulated up to ``as_of``.
    seed : int, default 0
        Same seed, same tables.
    as_of : date-like, default "2026-10-31"
        Extract date (``book.as_of_date``); no payment or event after it.

    Returns
    -------
    LoanBook
        Validated, with tables

        * ``loans``: segment-specific products, amounts (mostly <= 100,000; guaranteed, joint
          and mortgage business loans up to 500,000), terms 3-36 months, all four repayment
          methods and five guarantee types, 30 officers in 5 branches;
        * ``borrowers``: ``segment``, synthetic PII (``name``, ``id_number`` with a valid
          GB 11643 check character, ``phone``), ``gender``, ``birth_date``, ``education``,
          ``marital_status``, ``years_in_business``, ``monthly_income``, ``household_size``,
          ``house_ownership``, ``prior_loans``, ``prior_delinquency``, ``region`` (all as
          recorded at onboarding = the borrower's first loan, ``onboarding_date``) and the
          customer-register fields (ID expiry, income source and verification, credit record,
          residence, business start: :func:`riskkit.datasets.customers.add_register_fields`);
        * ``guarantors``: natural-person and company guarantors; three-household joint
          guarantees (三户联保) where each loan is guaranteed by the other two borrowers of the
          group (same ``group_id``);
        * ``collateral``: real estate, machinery, vehicles, deposits, receivables, equity, with
          periodic revaluations (machinery depreciates; some values fall below the balance);
        * ``schedule`` (from :func:`~riskkit.book.make_schedule`, closed early for prepaid
          loans) and ``payments``;
        * ``signals``: qualitative events with ``source="data"``.

    Notes
    -----
    Most loans are normal at ``as_of``; special mention is a few percent and NPL
    (substandard + doubtful + loss) roughly 2-6% of the outstanding balance. The latent
    propensity is driven by observable attributes, so a logistic scorecard on
    :func:`application_sample` reaches an AUC of about 0.7-0.8. 100,000 loans over 36 months
    take a few seconds (``python -m benchmarks.bench_microloan``).

    Examples
    --------
    >>> from riskkit.datasets import make_microloan_book
    >>> book = make_microloan_book(n_loans=300, months=12, seed=1)
    >>> book.n_loans, str(book.as_of_date.date())
    (300, '2026-10-31')
    """
    if int(n_loans) < 1 or int(months) < 1:
        raise ValueError("n_loans and months must be at least 1")
    n, months = int(n_loans), int(months)
    as_of_ts = pd.Timestamp(as_of).normalize()
    a_day = np.datetime64(as_of_ts.date(), "D")
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]
    r_bor, r_loan, r_pii, r_sim, r_col, r_guar, r_sig, r_mac = streams

    bor = _draw_borrowers(r_bor, n)
    ln = _draw_loans(r_loan, bor, n, months, a_day)
    id_number = _borrower_numbers(ln.borrower, bor.count)
    bor_ids = _ids("B", (id_number + 1), 7)  # by borrower index
    loan_ids = _ids("L", np.arange(1, n + 1), 7)
    loans = _loans_table(ln, loan_ids, bor_ids)
    borrowers, first_disb = _borrowers_table(r_pii, bor, ln, bor_ids, id_number)
    guarantors = _guarantors(r_guar, loan_ids, ln.guarantee, ln.group, bor_ids[ln.borrower])
    schedule = make_schedule(loans)
    items = _collateral_items(r_col, loans)
    sim = _simulate(
        r_sim,
        r_mac,
        r_sig,
        loans=loans,
        schedule=schedule,
        risk=ln.risk,
        seg=ln.segment,
        group=ln.group,
        age=bor.age[ln.borrower]
        + (ln.disbursement - first_disb[ln.borrower]).astype(np.int64) // 365,
        region=bor.region[ln.borrower],
        a_day=a_day,
        collateral=_sale_collateral(items, n),
    )
    schedule = sim["schedule"]
    collateral, col_signals = _collateral(r_col, items, loans, schedule, sim["closed_day"], a_day)
    tables = {
        "loans": loans,
        "schedule": schedule,
        "payments": sim["payments"],
        "borrowers": add_register_fields(borrowers, loans, seed, as_of_ts),
        "guarantors": guarantors,
        "collateral": collateral,
        "signals": _all_signals(sim["signals"], col_signals),
        "recovery_status": sim["recovery_status"],
    }
    return LoanBook(as_of_date=as_of_ts, **{k: _text_as_str(v) for k, v in tables.items()})


def _all_signals(behaviour: pd.DataFrame, collateral: pd.DataFrame) -> pd.DataFrame:
    """Signals of the repayment behaviour and of revaluations, by date and loan."""
    signals = pd.concat([behaviour, collateral], ignore_index=True)
    signals = signals.sort_values(["signal_date", "loan_id"], kind="stable").reset_index(drop=True)
    signals = signals.astype({"loan_id": "str", "signal": "str", "source": "str", "note": "str"})
    signals["signal_date"] = signals["signal_date"].astype("datetime64[ns]")
    return signals


# ---------------------------------------------------------------------- borrowers
@dataclass
class _Borrowers:
    """Borrowers as drawn (row = borrower index; the first ``n_joint`` form the groups)."""

    count: int
    n_groups: int
    n_joint: int
    n_repeat: int
    group: np.ndarray  # joint-guarantee group or -1
    segment: np.ndarray
    region: np.ndarray  # position in REGIONS
    male: np.ndarray
    age: np.ndarray
    education: np.ndarray  # position in EDUCATION
    marital: np.ndarray  # position in MARITAL
    years_in_business: np.ndarray
    income: np.ndarray
    income_median: np.ndarray
    household: np.ndarray
    housing: np.ndarray  # position in HOUSING
    unobserved: np.ndarray  # character, not in any column
    prior_loans: np.ndarray
    prior_delinquency: np.ndarray
    risk_observed: np.ndarray = field(default_factory=lambda: np.zeros(0))
    risk: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _draw_borrowers(r, n: int) -> _Borrowers:
    """Borrowers of ``n`` loans: groups and repeat loans, profile, finances, latent risk."""
    n_groups = int(round(BOOK_STRUCTURE["joint_group_share"] * n))  # 三户联保 triples
    n_joint = 3 * n_groups
    n_repeat = int(round(BOOK_STRUCTURE["repeat_share"] * (n - n_joint)))
    nb = n - n_repeat
    group = np.full(nb, -1)
    group[:n_joint] = np.repeat(np.arange(n_groups), 3)
    seg, region, male, age = _demographics(r, nb, n_groups, n_joint)
    edu = _pick_rows(r, np.arange(5), _by_segment(seg, EDUCATION_SHARES))
    mar = _pick_rows(r, np.arange(4), _marital_shares(age))
    b = _Borrowers(
        count=nb, n_groups=n_groups, n_joint=n_joint, n_repeat=n_repeat, group=group,
        segment=seg, region=region, male=male, age=age, education=edu, marital=mar,
        **_finances(r, seg, age, edu, mar),
    )  # fmt: skip
    b.risk_observed, b.risk = _borrower_risk(r, b)
    return b


def _demographics(r, nb: int, n_groups: int, n_joint: int):
    """Segment, region (position), gender and age; a group's members are neighbours."""
    seg = _pick(r, SEGMENTS, [SEGMENT_SHARES[s] for s in SEGMENTS], nb)
    gseg = _pick(r, tuple(JOINT_SEGMENT_SHARES), tuple(JOINT_SEGMENT_SHARES.values()), n_groups)
    seg[:n_joint] = np.repeat(gseg, 3)
    region = r.choice(5, nb, p=list(REGION_SHARES.values()))
    rural = seg == "farmer"
    region = np.where(rural & (region == 0), r.integers(2, 5, nb), region)
    region[:n_joint] = np.repeat(region[:n_joint:3], 3)  # neighbours
    male = r.random(nb) < _segment_value(seg, BORROWER_PROFILE["male_share"])
    age_mu = _segment_value(seg, BORROWER_PROFILE["age_mean"])
    age = np.clip(np.round(r.normal(age_mu, 9.0)), 20, 65).astype(np.int64)
    return seg, region, male, age


def _marital_shares(age: np.ndarray) -> np.ndarray:
    """Marital-status shares by age (single falls, widowed rises with age)."""
    return np.column_stack(
        [
            np.clip(0.9 - 0.035 * (age - 20), 0.03, 0.9),
            np.full(len(age), 0.8),
            np.full(len(age), 0.07),
            np.clip(0.006 * (age - 40), 0.0, 0.2),
        ]
    )


def _finances(r, seg, age, edu, mar) -> dict[str, np.ndarray]:
    """Years in business, income (and its segment median), household, housing, character,
    prior loans and prior delinquency."""
    prof = BORROWER_PROFILE
    yib = np.minimum(
        np.round(r.gamma(2.0, _segment_value(seg, prof["years_in_business_scale"]))),
        np.maximum(age - 18, 0),
    ).astype(np.int64)
    inc_med = _segment_value(seg, prof["income_median"])
    income = inc_med * np.exp(0.12 * (edu - 1.5) + 0.015 * np.minimum(yib, 15))
    income = np.round(income * np.exp(r.normal(0, 0.45, len(seg))), -2).clip(1500, None)
    hh = np.clip(1 + r.poisson(np.where(mar == 0, 0.6, 2.4)), 1, 8).astype(np.int64)
    hou = _pick_rows(r, np.arange(4), _by_segment(seg, HOUSING_SHARES))
    unobserved = r.normal(0.0, 1.0, len(seg))
    prior_loans = r.poisson(_segment_value(seg, prof["prior_loans_mean"]), len(seg))
    prior_loans = prior_loans.astype(np.int64)
    prior_delinq = r.poisson(np.exp(-1.9 + 0.75 * unobserved + 0.15 * prior_loans)).astype(np.int64)
    return {
        "years_in_business": yib,
        "income": income,
        "income_median": inc_med,
        "household": hh,
        "housing": hou,
        "unobserved": unobserved,
        "prior_loans": prior_loans,
        "prior_delinquency": prior_delinq,
    }


def _borrower_risk(r, b: _Borrowers) -> tuple[np.ndarray, np.ndarray]:
    """Latent propensity (log-odds), borrower part: what the lender can see, and that
    weighted plus character (neighbours in a group share some fortune)."""
    w = BORROWER_RISK
    observed = (
        0.025 * np.abs(b.age - 42) ** 1.2 / 3.0
        + _levels(w["education"])[b.education]
        + _levels(w["marital_status"])[b.marital]
        - 0.06 * np.minimum(b.years_in_business, 10)
        - 0.75 * np.log(b.income / b.income_median)
        + 0.12 * np.maximum(b.household - 3, 0)
        + _levels(w["house_ownership"])[b.housing]
        + 0.15 * np.maximum(b.prior_loans - 3, 0)
        + 0.45 * np.minimum(b.prior_delinquency, 3)
        + _levels(w["region"])[b.region]
        + _segment_value(b.segment, w["segment"])
    )
    risk = OBSERVED_WEIGHT * observed + UNOBSERVED_SD * b.unobserved
    if b.n_groups:
        risk[: b.n_joint] += np.repeat(r.normal(0, 0.4, b.n_groups), 3)
    return observed, risk


# ---------------------------------------------------------------------- loans
@dataclass
class _Loans:
    """Loans as drawn; after :meth:`by_disbursement`, in the order of their ids."""

    borrower: np.ndarray  # borrower index
    segment: np.ndarray
    group: np.ndarray
    disbursement: np.ndarray  # datetime64[D]
    guarantee: np.ndarray
    amount: np.ndarray
    term: np.ndarray
    method: np.ndarray
    rate: np.ndarray
    risk: np.ndarray  # latent default propensity (log-odds)
    officer: np.ndarray  # officer index
    purpose: np.ndarray

    def by_disbursement(self) -> _Loans:
        """Sorted by disbursement date (ties in drawing order): loan ids follow it."""
        order = np.lexsort((np.arange(len(self.borrower)), self.disbursement))
        return _Loans(**{f.name: getattr(self, f.name)[order] for f in fields(self)})


def _draw_loans(r, bor: _Borrowers, n: int, months: int, a_day) -> _Loans:
    """Loans of the borrowers: dates, guarantee, amount, term, method, officer, price, risk."""
    b_of = _borrower_of_loans(r, bor)
    seg, group = bor.segment[b_of], bor.group[b_of]
    disb = _disbursement_dates(r, seg, group >= 0, b_of, bor.count, months, a_day)
    gtype = _guarantee_types(r, seg, group >= 0)
    income = bor.income[b_of]
    amount = _amounts(r, seg, gtype, income)
    term, method = _terms_and_methods(r, seg)
    officer_i, officer_eff = _officers(r, bor.region[b_of])
    pti = _payment_to_income(amount, term, method, income)
    rate = _rates(r, gtype, bor.risk_observed[b_of])
    risk = (
        bor.risk[b_of]
        + OBSERVED_WEIGHT * LOAN_RISK["pti_slope"] * np.clip(pti - 0.35, -0.3, 1.5)
        + pd.Series(gtype).map(LOAN_RISK["guarantee"]).to_numpy(float)
        + officer_eff[officer_i]
    )
    purpose = _purposes(r, seg)
    loans = _Loans(
        borrower=b_of, segment=seg, group=group, disbursement=disb, guarantee=gtype,
        amount=amount, term=term, method=method, rate=rate, risk=risk, officer=officer_i,
        purpose=purpose,
    )  # fmt: skip
    return loans.by_disbursement()


def _borrower_of_loans(r, bor: _Borrowers) -> np.ndarray:
    """Each borrower's first loan, then repeat loans of borrowers outside the groups."""
    nb, n_joint, n_repeat = bor.count, bor.n_joint, bor.n_repeat
    return np.r_[np.arange(nb), r.integers(n_joint, nb, n_repeat) if nb > n_joint else
                 r.integers(0, nb, n_repeat)]  # fmt: skip


def _disbursement_dates(r, seg, joint, b_of, nb: int, months: int, a_day) -> np.ndarray:
    """Disbursement days in the ``months`` months up to ``a_day``: the book grows over time,
    farm loans favour spring, a joint group signs together, a repeat loan follows the first."""
    n = len(seg)
    p = DISBURSEMENT
    start_m = _month_index(np.array([a_day]))[0] - months + 1  # first month of the window
    mon = np.arange(months)
    cal = (start_m + mon) % 12 + 1
    w_all = p["monthly_growth"] ** mon
    w_farm = w_all * np.where(np.isin(cal, p["farm_months"]), p["farm_weight"], 1.0)
    m_off = np.where(
        seg == "farmer",
        r.choice(months, n, p=w_farm / w_farm.sum()),
        r.choice(months, n, p=w_all / w_all.sum()),
    )
    m_start = (start_m + m_off).astype("datetime64[M]").astype("datetime64[D]")
    m_len = (
        (start_m + m_off + 1).astype("datetime64[M]").astype("datetime64[D]") - m_start
    ).astype(np.int64)
    disb = m_start + (r.random(n) * m_len).astype(np.int64).astype("timedelta64[D]")
    disb = np.minimum(disb, a_day)
    if joint.any():  # a joint group signs together
        first = np.flatnonzero(joint)[::3]
        disb[joint] = np.repeat(disb[first], 3)
    rep = np.arange(n) >= nb
    disb[rep] = np.maximum(disb[rep], np.minimum(disb[b_of[rep]] + 30, a_day))
    return disb


def _guarantee_types(r, seg, joint) -> np.ndarray:
    """Guarantee type per loan (object array); loans of joint-guarantee groups are ``joint``."""
    gtype = _pick_rows(
        r, np.array(list(GUARANTEE_SHARES)), _shares_by_segment(seg, GUARANTEE_SHARES)
    )
    return np.where(joint, "joint", gtype).astype(object)


def _amounts(r, seg, gtype, income) -> np.ndarray:
    """Amount: income x a lognormal multiple, rounded to 1,000, between the floor and caps."""
    p = AMOUNT
    secured_business = (gtype != "credit") & (seg != "consumer")
    mult = (
        _segment_value(seg, p["income_multiple"])
        * np.exp(r.normal(0, 0.45, len(seg)))
        * np.where(secured_business, p["secured_business_factor"], 1.0)
    )
    raw_amt = income * mult
    cap = np.where(secured_business, p["cap_secured_business"], p["cap"])
    cap = np.where(gtype == "pledge", np.minimum(cap, p["cap_pledge"]), cap)
    return np.clip(np.round(raw_amt, -3), p["min"], cap)


def _terms_and_methods(r, seg) -> tuple[np.ndarray, np.ndarray]:
    """Term in months and repayment method (no bullet above 12 months: interest-only)."""
    term = _pick_rows(r, np.array(TERM_MONTHS), _by_segment(seg, TERM_SHARES)).astype(np.int64)
    method = _pick_rows(r, np.array(list(METHOD_SHARES)), _shares_by_segment(seg, METHOD_SHARES))
    method = np.where((method == "bullet") & (term > 12), "interest_only", method)
    return term, method


def _officers(r, region) -> tuple[np.ndarray, np.ndarray]:
    """Officer index per loan (officers of the borrower's region) and each officer's effect."""
    per_branch = N_OFFICERS // 5
    officer_i = np.asarray(region) * per_branch + r.integers(0, per_branch, len(region))
    return officer_i, r.normal(0, LOAN_RISK["officer_sd"], N_OFFICERS)


def _payment_to_income(amount, term, method, income) -> np.ndarray:
    """Rough monthly burden over income (interest only: 1.2% of the amount a month)."""
    inst_guess = amount / term * (1 + 0.01 * term)
    burden = np.where(np.isin(method, ["interest_only", "bullet"]), amount * 0.012, inst_guess)
    return burden / income


def _rates(r, gtype, risk_observed) -> np.ndarray:
    """Annual rate: base + guarantee margin + risk slope x what the lender sees + noise."""
    p = PRICING
    rate = (
        p["base"]
        + pd.Series(gtype).map(p["margin"]).to_numpy(float)
        + p["risk_slope"] * np.clip(risk_observed, -1.5, 2.5)
        + r.normal(0, p["noise_sd"], len(gtype))
    )
    return np.round(np.clip(rate, p["min"], p["max"]) / p["step"]) * p["step"]


def _purposes(r, seg) -> np.ndarray:
    """Loan purpose, uniform over the segment's purposes."""
    purpose = np.empty(len(seg), dtype=object)
    for s in SEGMENTS:
        m = seg == s
        purpose[m] = _pick(r, PURPOSES[s], np.ones(len(PURPOSES[s])), int(m.sum()))
    return purpose


def _borrower_numbers(borrower: np.ndarray, nb: int) -> np.ndarray:
    """0-based id number of each borrower index: ids follow the order of first loans."""
    _, uniq = pd.factorize(borrower)
    inv_b = np.empty(nb, dtype=np.int64)
    inv_b[uniq] = np.arange(nb)
    return inv_b


def _loans_table(ln: _Loans, loan_ids, bor_ids) -> pd.DataFrame:
    """The ``loans`` table (``bor_ids`` by borrower index)."""
    loans = pd.DataFrame(
        {
            "loan_id": loan_ids,
            "borrower_id": bor_ids[ln.borrower],
            "product": pd.Series(ln.segment).map(PRODUCTS).to_numpy(str),
            "amount": ln.amount,
            "disbursement_date": ln.disbursement.astype("datetime64[ns]"),
            "term_months": ln.term,
            "annual_rate": ln.rate,
            "repayment_method": ln.method.astype(str),
            "guarantee_type": ln.guarantee.astype(str),
            "purpose": ln.purpose.astype(str),
            "officer_id": _ids("O", (ln.officer + 1), 2),
            "branch": np.asarray(BRANCHES)[ln.officer // (N_OFFICERS // 5)],
        }
    )
    return loans


def _borrowers_table(r, bor: _Borrowers, ln: _Loans, bor_ids, id_number) -> tuple:
    """The ``borrowers`` table (as recorded at onboarding = the first loan, with synthetic
    PII) in the order of borrower ids, and each borrower's onboarding day."""
    n, nb = len(ln.borrower), bor.count
    first_loan = np.full(nb, n, dtype=np.int64)
    np.minimum.at(first_loan, ln.borrower, np.arange(n))
    first_disb = ln.disbursement[first_loan]
    birth = (
        first_disb
        - (bor.age * 365.25).astype(np.int64).astype("timedelta64[D]")
        - r.integers(0, 365, nb).astype("timedelta64[D]")
    )
    area = np.asarray(synthetic_pii.AREA_CODES)[bor.region]
    borrowers = pd.DataFrame(
        {
            "borrower_id": bor_ids,
            "segment": bor.segment,
            "name": synthetic_pii.chinese_names(r, bor.male),
            "gender": np.where(bor.male, "male", "female"),
            "id_number": synthetic_pii.id_numbers(r, area, birth, bor.male),
            "phone": synthetic_pii.mobile_numbers(r, nb),
            "birth_date": birth.astype("datetime64[ns]"),
            "education": np.asarray(EDUCATION)[bor.education],
            "marital_status": np.asarray(MARITAL)[bor.marital],
            "years_in_business": bor.years_in_business,
            "monthly_income": bor.income,
            "household_size": bor.household,
            "house_ownership": np.asarray(HOUSING)[bor.housing],
            "prior_loans": bor.prior_loans,
            "prior_delinquency": bor.prior_delinquency,
            "region": np.asarray(REGIONS)[bor.region],
            "onboarding_date": first_disb.astype("datetime64[ns]"),
        }
    )
    # row k of the table = borrower with id k+1
    bor_order = np.argsort(id_number)
    return borrowers.iloc[bor_order].reset_index(drop=True), first_disb


def _text_as_str(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns as pandas' ``str`` dtype (empty numpy string arrays arrive as object)."""
    obj = [c for c in df.columns if pd.api.types.is_object_dtype(df[c].dtype)]
    return df.astype(dict.fromkeys(obj, "str")) if obj else df


def _guarantors(rng, loan_ids, gtype, group, borrower_ids) -> pd.DataFrame:
    n = len(loan_ids)
    # guaranteed loans: one or two guarantors, natural persons or (a few) companies
    g = np.flatnonzero(gtype == "guaranteed")
    k = np.where(rng.random(len(g)) < 0.3, 2, 1)
    rows = np.repeat(g, k)
    company = rng.random(len(rows)) < 0.12
    gid = np.where(
        company,
        _ids("C", np.arange(1, len(rows) + 1), 7),
        _ids("P", np.arange(1, len(rows) + 1), 7),
    )
    single = pd.DataFrame(
        {
            "loan_id": loan_ids[rows],
            "guarantor_id": gid,
            "kind": np.where(company, "company", "person"),
            "group_id": pd.array([pd.NA] * len(rows), dtype="str"),
        }
    )
    # three-household joint guarantees: each loan guaranteed by the other two households
    j = np.flatnonzero(group >= 0)
    gj = group[j]
    order = np.lexsort((j, gj))
    j, gj = j[order], gj[order]
    if len(j) % 3:
        raise AssertionError("joint-guarantee groups must be triples")
    trip = j.reshape(-1, 3)
    me = np.repeat(trip, 2, axis=0).reshape(-1)
    others = np.stack([trip[:, [1, 2]], trip[:, [0, 2]], trip[:, [0, 1]]], axis=1).reshape(-1)
    gnum = np.repeat(np.arange(1, len(trip) + 1), 6)
    # group ids numbered by the first loan of each group
    joint_df = pd.DataFrame(
        {
            "loan_id": loan_ids[me],
            "guarantor_id": borrower_ids[others],
            "kind": "person",
            "group_id": _ids("JG", gnum, 6),
        }
    )
    out = pd.concat([single, joint_df], ignore_index=True)
    pos = pd.Index(loan_ids).get_indexer(out["loan_id"])
    out = out.iloc[np.lexsort((out["guarantor_id"].to_numpy(str), pos))].reset_index(drop=True)
    out["group_id"] = out["group_id"].astype("str")
    assert len(out) <= 3 * n
    return out


def _simulate(
    r, r_mac, r_sig, *, loans, schedule, risk, seg, group, age, region, a_day, collateral
):
    """Month-by-month repayment behaviour; returns payments, signals, recovery status and the
    closed schedule. What happens after default is in :mod:`.workout_behaviour`."""
    n = len(loans)
    a = int(a_day.astype(np.int64))
    n_per = schedule.groupby("loan_id", sort=False).size().to_numpy()
    T = int(n_per.max())
    # dense schedule (rows of make_schedule are sorted by loan, period)
    col = schedule["period"].to_numpy() - 1
    row = np.repeat(np.arange(n), n_per)
    due_day = np.full((n, T), np.iinfo(np.int64).max // 2, dtype=np.int64)
    due_day[row, col] = schedule["due_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    due_amt = np.zeros((n, T))
    due_amt[row, col] = (schedule["principal_due"] + schedule["interest_due"]).to_numpy()
    prin = np.zeros((n, T))
    prin[row, col] = schedule["principal_due"].to_numpy()
    cumdue = np.cumsum(due_amt, axis=1)
    cumdue[due_amt == 0] = np.inf  # beyond the last period
    cumprin = np.cumsum(prin, axis=1)
    exposure = balloon_exposure(loans, prin)
    first_m = _month_index(due_day[:, 0])
    disb_day = loans["disbursement_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    amount = loans["amount"].to_numpy(float)
    method = loans["repayment_method"].to_numpy(str)
    gtype = loans["guarantee_type"].to_numpy(str)
    secured = gtype != "credit"
    farmer = seg == "farmer"

    a_m = _month_index(np.array([a_day]))[0]
    m0 = int(first_m.min())
    n_m = int(a_m - m0 + 1)
    # macro factor: AR(1) with one downturn
    macro = np.zeros(max(n_m, 1))
    eps = r_mac.normal(0, 0.12, len(macro))
    for t in range(1, len(macro)):
        macro[t] = 0.75 * macro[t - 1] + eps[t]
    dip = r_mac.integers(0, max(len(macro) - 6, 1))
    macro[dip : dip + 6] += np.array([0.2, 0.4, 0.5, 0.4, 0.25, 0.1])[: len(macro[dip : dip + 6])]
    disaster_m = r_mac.integers(0, max(len(macro), 1))
    disaster_region = r_mac.integers(2, 5)

    cum_paid = np.zeros(n)
    closed = np.zeros(n, dtype=bool)
    closed_day = np.full(n, np.iinfo(np.int64).max // 2, dtype=np.int64)
    close_k = np.full(n, -1)
    shock = np.zeros(n)
    dead = np.zeros(n, dtype=bool)
    dead_m = np.full(n, -1)
    wo = workout.Workout.start(n)
    had3 = np.zeros(n, dtype=bool)
    signalled: dict[str, np.ndarray] = {}  # code -> bool array: some signals happen once per loan
    pays, sigs = [], []
    base = -3.9
    spiral = np.array([0.0, 2.3, 2.7, 2.5])
    cure_prob = np.array([0.0, 0.6, 0.45, 0.25])
    gmembers = None
    if (group >= 0).any():
        j = np.flatnonzero(group >= 0)
        j = j[np.lexsort((j, group[j]))]
        gmembers = j.reshape(-1, 3)
        gpos = np.full(group.max() + 1, -1)
        gpos[group[j[::3]]] = np.arange(len(gmembers))

    def signal(idx, day, code, note):
        idx = np.asarray(idx)
        day = np.broadcast_to(np.asarray(day, dtype=np.int64), idx.shape)
        ok = (day <= a) & (day >= disb_day[idx])
        if ok.any():
            sigs.append((idx[ok], day[ok], code, note))

    def once(code, idx):
        seen = signalled.setdefault(code, np.zeros(n, dtype=bool))
        idx = idx[~seen[idx]]
        seen[idx] = True
        return idx

    def pay(idx, day, amt, source=None):
        amt = np.round(amt, 2)
        ok = (day <= a) & (amt > 0)
        src = np.zeros(len(idx), np.int8) if source is None else np.asarray(source, np.int8)
        pays.append((idx[ok], day[ok], amt[ok], src[ok]))
        cum_paid[idx[ok]] += amt[ok]
        return ok

    def claim_of(idx):
        """What loans ``idx`` owe now: arrears and interest due so far plus principal to come."""
        kk = np.clip(k[idx], 0, T - 1)
        in_t = k[idx] < n_per[idx]
        owed = np.where(
            in_t,
            cumdue[idx, kk] - cum_paid[idx] + (amount[idx] - cumprin[idx, kk]),
            cumdue[idx, n_per[idx] - 1] - cum_paid[idx],
        )
        return np.maximum(owed, 0.0)

    def close(idx, day, k):
        """Loans ``idx`` paid in full on ``day`` (a schedule still running closes now)."""
        closed[idx] = True
        closed_day[idx] = day
        in_t = k[idx] < n_per[idx]
        close_k[idx[in_t]] = np.maximum(k[idx[in_t]], 0)

    for t in range(n_m):
        c = m0 + t
        cm = int(c % 12 + 1)
        k = c - first_m  # period due this month (0-based)
        live = ~closed & (k >= 0)
        in_term = live & (k < n_per)
        A = np.flatnonzero(in_term)
        kA = k[A]
        dday = due_day[A, kA]
        A, kA, dday = A[dday <= a], kA[dday <= a], dday[dday <= a]
        cov = (cumdue[A] <= (cum_paid[A] + TOL)[:, None]).sum(axis=1)
        streak = np.maximum(kA - cov, 0)
        due_now = due_amt[A, kA]
        cum_prev = np.where(kA > 0, cumdue[A, np.maximum(kA - 1, 0)], 0.0)
        cum_prev = np.where(np.isfinite(cum_prev), cum_prev, 0.0)
        arrears = np.maximum(cum_prev - cum_paid[A], 0.0)
        season = np.where(
            farmer[A], np.where(np.isin(cm, HARVEST_MONTHS), -0.6, 0.0) + np.where(
                np.isin(cm, LEAN_MONTHS), 0.5, 0.0), 0.0
        )  # fmt: skip
        logit = base + risk[A] + macro[t] + season + shock[A] + spiral[np.minimum(streak, 3)]
        p_miss = np.where(dead[A], 0.97, -np.expm1(exposure[A, kA] * np.log1p(-_sigmoid(logit))))
        u = r.random(len(A))
        miss = u < p_miss
        partial = miss & (r.random(len(A)) < np.where(streak == 0, 0.35, 0.2))
        ok_pay = ~miss
        can_prepay = (method[A] != "bullet") & (kA < n_per[A] - 1) & (streak == 0)
        prepay = ok_pay & can_prepay & (r.random(len(A)) < 0.012 * np.exp(-0.3 * risk[A]))
        # a borrower under enforcement rarely cures; once recovery is exhausted, never
        cure_w = np.where(wo.exhausted[A], 0.0, np.where(wo.enforcing[A], 0.4, 1.0))
        cure = (
            ok_pay & (streak > 0) & (r.random(len(A)) < cure_w * cure_prob[np.minimum(streak, 3)])
        )
        remaining = amount[A] - cumprin[A, kA]
        amt = np.where(ok_pay, due_now, 0.0)
        amt = np.where(cure | prepay, arrears + due_now, amt)
        amt = np.where(prepay, amt + remaining, amt)
        amt = np.where(partial, due_now * r.uniform(0.2, 0.8, len(A)), amt)
        lag = np.where(
            prepay,
            -r.integers(0, 10, len(A)),
            np.where(
                cure | partial,
                r.integers(0, 12, len(A)),
                np.where(
                    r.random(len(A)) < 0.85, -r.integers(0, 4, len(A)), r.integers(1, 6, len(A))
                ),
            ),
        )
        pday = np.maximum(dday + lag, disb_day[A] + 1)
        pday_a = pday
        ok = pay(A, pday, amt)
        done = prepay & ok
        closed[A[done]] = True
        closed_day[A[done]] = pday[done]
        close_k[A[done]] = kA[done]
        # a loan that paid its last installment with no arrears left is closed
        last = (kA == n_per[A] - 1) & ok & ok_pay & (cure | (streak == 0))
        closed[A[last & ~done]] = True
        closed_day[A[last & ~done]] = pday[last & ~done]
        new_streak = np.where(miss, streak + 1, np.where(cure | prepay, 0, streak))

        # after maturity: collection of what is left
        P = np.flatnonzero(live & (k >= n_per) & ~closed)
        if len(P):
            lastk = n_per[P] - 1
            owed = cumdue[P, lastk] - cum_paid[P]
            P, lastk, owed = P[owed > TOL], lastk[owed > TOL], owed[owed > TOL]
            pday = due_day[P, lastk] + 30 * (k[P] - lastk) + r.integers(0, 10, len(P))
            lg = base + risk[P] + macro[t] + shock[P] + 3.0
            # once enforced a payoff is rarer; once recovery is exhausted, none (the missed
            # balloon is already sized by balloon_exposure: no extra decay past maturity)
            late = np.where(wo.exhausted[P], 0.0, np.where(wo.enforcing[P], 0.4, 1.0))
            cure_p = ~dead[P] & (r.random(len(P)) < 0.25 * (1 - _sigmoid(lg - 1.0)) * late)
            part_p = ~cure_p & ~dead[P] & (r.random(len(P)) < 0.15 * np.sqrt(late))
            amt_p = np.where(cure_p, owed, np.where(part_p, owed * r.uniform(0.05, 0.3, len(P)), 0))
            okp = pay(P, pday, amt_p)
            fin = cure_p & okp
            closed[P[fin]] = True
            closed_day[P[fin]] = pday[fin]

        # workout: collection, enforcement, recoveries, exhaustion (riskkit.datasets.workout_behaviour)
        month_start = _month_start_day(c)
        in_arrears = A[(new_streak >= 4) & ~closed[A]]
        if len(P):
            in_arrears = np.r_[in_arrears, P[~closed[P] & (k[P] - n_per[P] >= 2)]]
        wo.open_collection(in_arrears, t, min(month_start + 27, a))
        cured = (streak > 0) & (new_streak == 0) & ~closed[A]
        wo.cure(A[cured], np.minimum(pday_a[cured], a))
        E = A[(new_streak >= 6) & ~closed[A]]
        if len(P):
            E = np.r_[E, P[~closed[P] & (k[P] - n_per[P] >= 4)]]
        E = E[wo.is_("collection")[E]]
        E = E[r.random(len(E)) < np.where(secured[E], 0.5, 0.35)]
        eday = min(month_start + 20, a)
        workout.enforce(
            wo, r, E, t, eday, gtype=gtype, dead=dead, claim=claim_of(E), collateral=collateral
        )
        signal(
            E, eday, "enforcement_started", "guarantor / collateral called on; legal action filed"
        )
        R, rday, ramt, rsrc = workout.channel_payments(wo, r, t, month_start, claim_of)
        owed = claim_of(R)
        okr = pay(R, rday, ramt, rsrc)
        close(R[okr & (ramt >= owed - TOL)], rday[okr & (ramt >= owed - TOL)], k)
        workout.status_after_payments(wo, t, min(month_start + 27, a), closed)

        # events ------------------------------------------------------------
        L = np.flatnonzero(live & ~closed & ~dead)
        if len(L):
            eday = np.minimum(_month_start_day(c) + r_sig.integers(0, 28, len(L)), a)
            u = r_sig.random((len(L), 8))
            mac = np.exp(1.5 * macro[t])
            d_h = 0.00012 * np.exp(0.07 * (age[L] - 45))
            died = np.isin(L, once("death_or_missing", L[u[:, 0] < d_h]))
            dead[L[died]] = True
            dead_m[L[died]] = t
            heir = died & (r_sig.random(len(L)) < 0.5)
            dead[L[heir]] = False  # an heir takes over the repayments
            signal(
                L[died & heir],
                eday[died & heir],
                "death_or_missing",
                "borrower died; heir continues repayment",
            )
            signal(
                L[died & ~heir],
                eday[died & ~heir],
                "death_or_missing",
                "borrower died or missing; no heir repaying",
            )
            inc = u[:, 1] < 0.0006 * mac * np.exp(0.4 * risk[L])
            shock[L[inc]] += 1.8
            signal(L[inc], eday[inc], "income_drop", "business turnover fell sharply")
            ill = u[:, 2] < 0.0003 * np.exp(0.05 * (age[L] - 45))
            shock[L[ill]] += 1.0
            signal(L[ill], eday[ill], "health_worsened", "serious illness in the family")
            mis = once("fund_misuse", L[u[:, 3] < 0.0001])
            shock[mis] += 1.0
            signal(
                mis,
                eday[np.searchsorted(L, mis)],
                "fund_misuse",
                "loan used outside the contracted purpose",
            )
            doc = once("documents_missing", L[u[:, 4] < 0.00008])
            signal(
                doc,
                eday[np.searchsorted(L, doc)],
                "documents_missing",
                "contract annex missing from the file",
            )
            st_L = np.zeros(len(L), dtype=np.int64)
            pos = np.searchsorted(A, L)
            inA = (pos < len(A)) & (A[np.minimum(pos, len(A) - 1)] == L) if len(A) else pos < 0
            st_L[inA] = new_streak[pos[inA]]
            cc = once("contact_changes", L[u[:, 5] < 0.00015 + 0.05 * (st_L >= 2)])
            signal(
                cc,
                eday[np.searchsorted(L, cc)],
                "contact_changes",
                "phone and address changed, not reachable",
            )
            sanc = once("sanctioned", L[u[:, 6] < 0.00003])
            shock[sanc] += 1.5
            signal(sanc, eday[np.searchsorted(L, sanc)], "sanctioned", "administrative penalty")
            if t == disaster_m:
                hit = farmer[L] & (region[L] == disaster_region) & (u[:, 7] < 0.06)
                shock[L[hit]] += 2.0
                signal(
                    L[hit],
                    eday[hit],
                    "property_destroyed",
                    "crops and greenhouse destroyed by flood",
                )
            gd = (gtype[L] == "guaranteed") & (u[:, 7] < 0.0002 * mac)
            gdi = once("guarantor_downgrade", L[gd])
            signal(
                gdi,
                eday[np.searchsorted(L, gdi)],
                "guarantor_downgrade",
                "guarantor's business closed",
            )
            # joint liability: a member in serious arrears strains the other two households
            newly = L[(st_L >= 3) & ~had3[L]]
            had3[newly] = True
            if gmembers is not None:
                jn = newly[group[newly] >= 0]
                if len(jn):
                    mates = gmembers[gpos[group[jn]]]
                    mates = mates[mates != jn[:, None]].reshape(-1, 2).reshape(-1)
                    mates = mates[~closed[mates]]
                    shock[mates] += 0.7
                    down = once("guarantor_downgrade", mates[r_sig.random(len(mates)) < 0.4])
                    signal(
                        down,
                        np.minimum(_month_start_day(c) + 27, a),
                        "guarantor_downgrade",
                        "joint-guarantee partner in arrears",
                    )
        shock *= 0.93  # shocks fade

    payments = _payments_frame(pays, loans["loan_id"].to_numpy())
    signals = _signals_frame(sigs, loans["loan_id"].to_numpy())
    # close the schedule of loans paid off early at their payoff installment
    pk = np.flatnonzero(close_k >= 0)
    if len(pk):
        per = schedule["period"].to_numpy()
        lk = np.full(n, np.iinfo(np.int64).max)
        lk[pk] = close_k[pk] + 1  # 1-based payoff period
        lkr = lk[row]
        keep = per <= lkr
        extra = np.zeros(n)
        extra[pk] = amount[pk] - cumprin[pk, close_k[pk]]
        pr = schedule["principal_due"].to_numpy().copy()
        at = per == lkr
        pr[at] = np.round(pr[at] + extra[row[at]], 2)
        schedule = schedule.assign(principal_due=pr)[keep].reset_index(drop=True)
    return {
        "payments": payments,
        "signals": signals,
        "schedule": schedule,
        "closed_day": closed_day,
        "recovery_status": wo.frame(loans["loan_id"].to_numpy(), as_of=a),
    }


def balloon_exposure(loans: pd.DataFrame, prin: np.ndarray) -> np.ndarray:
    """Months of repayment risk each installment carries (loans x periods).

    A regular installment carries one month: it is missed with the monthly probability ``p``.
    The installment that repays the principal of a bullet or interest-only loan at maturity
    carries the months whose principal it repays, ``term x principal due / amount``, and is
    missed with ``1 - (1 - p)^months``: a borrower who could not have paid twelve monthly
    installments cannot pay them all at once either, so the structure does not hide the risk.
    """
    amount = loans["amount"].to_numpy(float)
    balloon = np.isin(loans["repayment_method"].to_numpy(str), ["bullet", "interest_only"])
    term = loans["term_months"].to_numpy(float)
    months = np.maximum(term[:, None] * prin / amount[:, None], 1.0)
    return np.where(balloon[:, None], months, 1.0)


def _month_start_day(m: int) -> int:
    return int(np.datetime64(int(m), "M").astype("datetime64[D]").astype(np.int64))


def _payments_frame(pays, loan_ids) -> pd.DataFrame:
    if pays:
        idx = np.concatenate([p[0] for p in pays])
        day = np.concatenate([p[1] for p in pays])
        amt = np.concatenate([p[2] for p in pays])
        src = np.concatenate([p[3] for p in pays])
    else:
        idx, day, amt = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        src = np.zeros(0, np.int8)
    order = np.lexsort((idx, day))
    return pd.DataFrame(
        {
            "loan_id": loan_ids[idx[order]],
            "payment_date": day[order].astype("datetime64[D]").astype("datetime64[ns]"),
            "amount": amt[order],
            "source": np.asarray(workout.SOURCES)[src[order]],
        }
    )


def _signals_frame(sigs, loan_ids) -> pd.DataFrame:
    cols: dict[str, list] = {"loan_id": [], "signal_date": [], "signal": [], "note": []}
    for idx, day, code, note in sigs:
        cols["loan_id"].append(loan_ids[idx])
        cols["signal_date"].append(day)
        cols["signal"].append(np.full(len(idx), code))
        cols["note"].append(np.full(len(idx), note))
    if not sigs:
        return pd.DataFrame(
            {
                "loan_id": pd.Series(dtype="str"),
                "signal_date": pd.Series(dtype="datetime64[ns]"),
                "signal": pd.Series(dtype="str"),
                "source": pd.Series(dtype="str"),
                "note": pd.Series(dtype="str"),
            }
        )
    return pd.DataFrame(
        {
            "loan_id": np.concatenate(cols["loan_id"]),
            "signal_date": np.concatenate(cols["signal_date"])
            .astype("datetime64[D]")
            .astype("datetime64[ns]"),
            "signal": np.concatenate(cols["signal"]),
            "source": "data",
            "note": np.concatenate(cols["note"]),
        }
    )


def _collateral_items(r, loans) -> dict:
    """One collateral item per mortgage and pledge loan: type and value at origination."""
    gtype = loans["guarantee_type"].to_numpy(str)
    amount = loans["amount"].to_numpy(float)
    disb = loans["disbursement_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    mort = np.flatnonzero(gtype == "mortgage")
    pled = np.flatnonzero(gtype == "pledge")
    ctype = np.r_[
        _pick(r, ("real_estate", "machinery", "vehicle"), (0.6, 0.28, 0.12), len(mort)),
        _pick(r, ("deposit", "receivables", "equity"), (0.5, 0.35, 0.15), len(pled)),
    ]
    li = np.r_[mort, pled]
    order = np.argsort(li, kind="stable")
    li, ctype = li[order], ctype[order]
    m = len(li)
    ltv = np.select(
        [ctype == "real_estate", ctype == "machinery", ctype == "vehicle", ctype == "deposit"],
        [r.uniform(0.4, 0.7, m), r.uniform(0.55, 0.85, m), r.uniform(0.5, 0.8, m),
         r.uniform(0.85, 0.95, m)],
        r.uniform(0.5, 0.8, m),
    )  # fmt: skip
    value = np.round(amount[li] / ltv, -2)
    day0 = disb[li] - r.integers(3, 20, m)
    return {"li": li, "ctype": ctype, "value": value, "day0": day0}


def _sale_collateral(items: dict, n: int) -> workout.Collateral:
    """Per loan: the collateral enforcement can sell (type and value at origination)."""
    ctype = np.full(n, "", dtype=object)
    value = np.zeros(n)
    ctype[items["li"]] = items["ctype"]
    value[items["li"]] = items["value"]
    return workout.Collateral(ctype=ctype, value=value)


def _collateral(r, items, loans, schedule, closed_day, a_day):
    """Collateral items of mortgage and pledge loans with periodic revaluations."""
    a = int(a_day.astype(np.int64))
    amount = loans["amount"].to_numpy(float)
    disb = loans["disbursement_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    loan_ids = loans["loan_id"].to_numpy()
    li, ctype, value, day0 = items["li"], items["ctype"], items["value"], items["day0"]
    m = len(li)
    step = np.select(
        [ctype == "machinery", ctype == "receivables", ctype == "deposit"], [6, 6, 0], 12
    )  # months between revaluations
    drift = np.select(
        [ctype == "machinery", ctype == "vehicle", ctype == "real_estate", ctype == "equity"],
        [-0.12, -0.08, -0.01, -0.02],
        0.0,
    )  # per 6 months
    vol = np.select([ctype == "real_estate", ctype == "equity"], [0.06, 0.2], 0.08)
    # scheduled balance by date, to flag values falling toward or below the balance
    per_loan = schedule.groupby("loan_id", sort=False)
    ids, vals, dates, lidx = [], [], [], []
    cid = _ids("K", np.arange(1, m + 1), 7)
    v = value.copy()
    ids.append(cid)
    types = [ctype]
    vals.append(v.copy())
    dates.append(day0)
    lidx.append(li)
    low_sig_idx, low_sig_day = [], []
    sched_day = schedule["due_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    sched_code = pd.Index(loan_ids).get_indexer(schedule["loan_id"])
    cum_prin = per_loan["principal_due"].cumsum().to_numpy()
    for j in range(1, 7):
        live = step > 0
        d = disb[li] + (30.44 * step * j).astype(np.int64) + r.integers(-5, 6, m)
        live &= (d <= a) & (d < closed_day[li])
        shock = r.normal(drift * step / 6, vol * np.sqrt(np.maximum(step, 1) / 6), m)
        v = np.where(live, np.round(v * np.exp(shock), -2), v)
        if not live.any():
            continue
        ids.append(cid[live])
        types.append(ctype[live])
        vals.append(v[live])
        dates.append(d[live])
        lidx.append(li[live])
        # scheduled principal still owed at d (payments aside)
        sel = np.flatnonzero(live)
        key_s = sched_code.astype(np.int64) * 10**6 + (sched_day - disb.min() + 100)
        key_q = li[sel].astype(np.int64) * 10**6 + (d[sel] - disb.min() + 100)
        pos = np.searchsorted(key_s, key_q, side="right") - 1
        same = (pos >= 0) & (sched_code[np.maximum(pos, 0)] == li[sel])
        paid_prin = np.where(same, cum_prin[np.maximum(pos, 0)], 0.0)
        bal = amount[li[sel]] - paid_prin
        low = (v[sel] < 1.1 * bal) & (bal > 0)
        low_sig_idx.append(li[sel][low])
        low_sig_day.append(d[sel][low])
    coll = pd.DataFrame(
        {
            "collateral_id": np.concatenate(ids),
            "loan_id": loan_ids[np.concatenate(lidx)],
            "collateral_type": np.concatenate(types),
            "appraised_value": np.concatenate(vals),
            "valuation_date": np.concatenate(dates)
            .astype("datetime64[D]")
            .astype("datetime64[ns]"),
        }
    )
    coll = coll.sort_values(["collateral_id", "valuation_date"], kind="stable").reset_index(
        drop=True
    )
    li_low = np.concatenate(low_sig_idx) if low_sig_idx else np.zeros(0, np.int64)
    d_low = np.concatenate(low_sig_day) if low_sig_day else np.zeros(0, np.int64)
    first = pd.Series(d_low).groupby(li_low).min() if len(li_low) else pd.Series(dtype=np.int64)
    sig = pd.DataFrame(
        {
            "loan_id": loan_ids[first.index.to_numpy(dtype=np.int64)],
            "signal_date": first.to_numpy(dtype=np.int64)
            .astype("datetime64[D]")
            .astype("datetime64[ns]"),
            "signal": "collateral_value_low",
            "source": "data",
            "note": "revaluation: collateral value close to or below the outstanding principal",
        }
    )
    return coll, sig
