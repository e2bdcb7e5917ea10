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

Structure
---------
One step per table or behaviour: :func:`_draw_borrowers` (demographics, finances, latent
risk), :func:`_draw_loans` (dates, guarantee, amount, term and method, officer, price),
the ``loans`` / ``borrowers`` / ``guarantors`` / ``collateral`` tables, and the month step of
:class:`_Simulation` (installments due, repayments, collection after maturity, workout,
events). The parameters are the module-level tables (``SEGMENT_SHARES``, ``BORROWER_RISK``,
``GUARANTEE_SHARES``, ``PRICING``, ``REPAYMENT``, ``PAYMENT_LAG``, ``EVENTS``,
``REVALUATION``, ...). Each step draws from its own random stream in a fixed order, so the
book is the same for the same seed.
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


# ---------------------------------------------------------------------- behaviour parameters
#: AR(1) economic factor on the log-odds, with one six-month downturn; events are
#: ``exp(event_sensitivity x macro)`` times as likely
MACRO: dict[str, Any] = {
    "persistence": 0.75,
    "sd": 0.12,
    "downturn": (0.2, 0.4, 0.5, 0.4, 0.25, 0.1),
    "event_sensitivity": 1.5,
}
#: a due installment: log-odds of missing it ``base + risk + macro + season + shock +
#: spiral[streak]``; a borrower who misses may pay part of it; a performing one may prepay;
#: one in arrears may cure (pay all arrears), less likely under enforcement, never once
#: recovery is exhausted; a borrower who died or went missing without an heir rarely pays
REPAYMENT: dict[str, Any] = {
    "base": -3.9,
    "spiral": (0.0, 2.3, 2.7, 2.5),  # by missed installments in a row: 0, 1, 2, 3+
    "season": {"harvest": -0.6, "lean": 0.5},  # farm loans, HARVEST_MONTHS / LEAN_MONTHS
    "miss_when_dead": 0.97,
    "partial": {"performing": 0.35, "in_arrears": 0.2},  # share of misses that pay part
    "partial_share": (0.2, 0.8),
    "prepay": 0.012,  # x exp(prepay_risk_slope x risk)
    "prepay_risk_slope": -0.3,
    "cure": (0.0, 0.6, 0.45, 0.25),  # by missed installments in a row: 0, 1, 2, 3+
    "cure_under_enforcement": 0.4,
}
#: payment day relative to the due day: prepayments 0-9 days early; cures and partial
#: payments 0-11 days late; regular payments on time or 0-3 days early (85%), else 1-5 late
PAYMENT_LAG = {"prepay_early": 10, "catch_up_late": 12, "on_time": 0.85, "early": 4, "late": 6}
#: after maturity: what is left is collected, a payoff or a part (5-30%) of it a month
AFTER_MATURITY: dict[str, Any] = {
    "log_odds_shift": 3.0,
    "payoff": 0.25,  # x (1 - sigmoid(log-odds - payoff_midpoint))
    "payoff_midpoint": 1.0,
    "partial": 0.15,
    "partial_share": (0.05, 0.3),
    "under_enforcement": 0.4,
    "days_late": 10,
}
#: workout triggers: collection after 4 missed installments (or 2 months past maturity),
#: enforcement after 6 (4), with the monthly probability for secured / unsecured loans
WORKOUT: dict[str, Any] = {
    "collection_after": 4,
    "collection_after_maturity": 2,
    "enforcement_after": 6,
    "enforcement_after_maturity": 4,
    "enforce": {"secured": 0.5, "unsecured": 0.35},
    "enforcement_day": 20,  # of the month
    "status_day": 27,
}
#: monthly events per live loan: hazard (x the noted factors), effect on the log-odds of
#: missing (``shock``, fading by ``SHOCK_FADE`` a month) and the signal's note
EVENTS: dict[str, dict[str, Any]] = {
    "death_or_missing": {
        "hazard": 0.00012, "age_slope": 0.07, "heir": 0.5,
        "note_heir": "borrower died; heir continues repayment",
        "note": "borrower died or missing; no heir repaying",
    },
    "income_drop": {  # x macro factor x exp(risk_slope x risk)
        "hazard": 0.0006, "risk_slope": 0.4, "shock": 1.8,
        "note": "business turnover fell sharply",
    },
    "health_worsened": {
        "hazard": 0.0003, "age_slope": 0.05, "shock": 1.0,
        "note": "serious illness in the family",
    },
    "fund_misuse": {"hazard": 0.0001, "shock": 1.0,
                    "note": "loan used outside the contracted purpose"},
    "documents_missing": {"hazard": 0.00008, "note": "contract annex missing from the file"},
    "contact_changes": {  # + in_arrears after two missed installments
        "hazard": 0.00015, "in_arrears": 0.05,
        "note": "phone and address changed, not reachable",
    },
    "sanctioned": {"hazard": 0.00003, "shock": 1.5, "note": "administrative penalty"},
    "property_destroyed": {  # farm loans of the disaster's region, in its month
        "hazard": 0.06, "shock": 2.0, "note": "crops and greenhouse destroyed by flood",
    },
    "guarantor_downgrade": {"hazard": 0.0002, "note": "guarantor's business closed"},
    "joint_partner_in_arrears": {  # a member 3+ installments behind strains the other two
        "shock": 0.7, "downgrade": 0.4, "note": "joint-guarantee partner in arrears",
    },
}  # fmt: skip
SHOCK_FADE = 0.93
ENFORCEMENT_NOTE = "guarantor / collateral called on; legal action filed"
_FAR = np.iinfo(np.int64).max // 2  # a day number after any date


def _simulate(
    r, r_mac, r_sig, *, loans, schedule, risk, seg, group, age, region, a_day, collateral
):
    """Month-by-month repayment behaviour; returns payments, signals, recovery status and the
    closed schedule. What happens after default is in :mod:`.workout_behaviour`."""
    sim = _Simulation(
        r, r_sig, loans=loans, schedule=schedule, risk=risk, seg=seg, group=group, age=age,
        region=region, a_day=a_day, collateral=collateral,
    )  # fmt: skip
    m0 = int(sim.due.first_m.min())
    n_m = int(_month_index(np.array([a_day]))[0] - m0 + 1)
    sim.economy(r_mac, n_m)
    for t in range(n_m):
        sim.month(t, m0 + t)
    loan_ids = loans["loan_id"].to_numpy()
    return {
        "payments": _payments_frame(sim.pays, loan_ids),
        "signals": _signals_frame(sim.sigs, loan_ids),
        "schedule": _closed_schedule(schedule, sim.due, sim.close_k, sim.amount),
        "closed_day": sim.closed_day,
        "recovery_status": sim.wo.frame(loan_ids, as_of=sim.a),
    }


@dataclass
class _DueSchedule:
    """The schedule as dense loans x periods arrays (rows of make_schedule are sorted by
    loan, period); periods beyond a loan's last are due on :data:`_FAR` and owe nothing."""

    n_per: np.ndarray  # periods per loan
    row: np.ndarray  # loan position of each schedule row
    day: np.ndarray  # due day numbers
    amount: np.ndarray  # principal + interest due
    cumdue: np.ndarray  # cumulative amount due (inf beyond the last period)
    cumprin: np.ndarray  # cumulative principal due
    exposure: np.ndarray  # months of repayment risk (:func:`balloon_exposure`)
    first_m: np.ndarray  # month index of the first due date

    @classmethod
    def of(cls, loans: pd.DataFrame, schedule: pd.DataFrame) -> _DueSchedule:
        n = len(loans)
        n_per = schedule.groupby("loan_id", sort=False).size().to_numpy()
        T = int(n_per.max())
        col = schedule["period"].to_numpy() - 1
        row = np.repeat(np.arange(n), n_per)
        due_day = np.full((n, T), _FAR, dtype=np.int64)
        due_day[row, col] = schedule["due_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
        due_amt = np.zeros((n, T))
        due_amt[row, col] = (schedule["principal_due"] + schedule["interest_due"]).to_numpy()
        prin = np.zeros((n, T))
        prin[row, col] = schedule["principal_due"].to_numpy()
        cumdue = np.cumsum(due_amt, axis=1)
        cumdue[due_amt == 0] = np.inf  # beyond the last period
        return cls(
            n_per=n_per, row=row, day=due_day, amount=due_amt, cumdue=cumdue,
            cumprin=np.cumsum(prin, axis=1), exposure=balloon_exposure(loans, prin),
            first_m=_month_index(due_day[:, 0]),
        )  # fmt: skip


@dataclass
class _Installments:
    """This month's due installments (``loans`` positions, in order) and their arrears."""

    loans: np.ndarray
    k: np.ndarray  # period (0-based)
    day: np.ndarray  # due day
    streak: np.ndarray  # installments missed in a row before this one
    due: np.ndarray  # amount due now
    arrears: np.ndarray  # unpaid earlier installments


class _Simulation:
    """The book's repayment behaviour, one calendar month at a time (vectorised over loans).

    State per loan: paid so far, closed (and when), dead, the latent shock, the workout
    (:class:`.workout_behaviour.Workout`); payments and signals are collected as arrays.
    """

    def __init__(
        self, r, r_sig, *, loans, schedule, risk, seg, group, age, region, a_day, collateral
    ):
        n = len(loans)
        self.r, self.r_sig, self.n = r, r_sig, n
        self.a = int(a_day.astype(np.int64))
        self.due = _DueSchedule.of(loans, schedule)
        self.disb_day = loans["disbursement_date"].to_numpy().astype("datetime64[D]")
        self.disb_day = self.disb_day.astype(np.int64)
        self.amount = loans["amount"].to_numpy(float)
        self.method = loans["repayment_method"].to_numpy(str)
        self.gtype = loans["guarantee_type"].to_numpy(str)
        self.secured = self.gtype != "credit"
        self.farmer = seg == "farmer"
        self.risk, self.group, self.age, self.region = risk, group, age, region
        self.collateral = collateral
        self.cum_paid = np.zeros(n)
        self.closed = np.zeros(n, dtype=bool)
        self.closed_day = np.full(n, _FAR, dtype=np.int64)
        self.close_k = np.full(n, -1)
        self.shock = np.zeros(n)
        self.dead = np.zeros(n, dtype=bool)
        self.dead_m = np.full(n, -1)
        self.wo = workout.Workout.start(n)
        self.had3 = np.zeros(n, dtype=bool)
        self.signalled: dict[str, np.ndarray] = {}  # code -> loans: once-per-loan signals
        self.pays: list[tuple] = []
        self.sigs: list[tuple] = []
        self.gmembers, self.gpos = _group_members(group)
        self.k = np.zeros(n, dtype=np.int64)  # period due this month (0-based)

    # -------------------------------------------------------------- records
    def signal(self, idx, day, code, note) -> None:
        """Record signal ``code`` for loans ``idx`` on ``day`` (within loan life and as-of)."""
        idx = np.asarray(idx)
        day = np.broadcast_to(np.asarray(day, dtype=np.int64), idx.shape)
        ok = (day <= self.a) & (day >= self.disb_day[idx])
        if ok.any():
            self.sigs.append((idx[ok], day[ok], code, note))

    def once(self, code, idx) -> np.ndarray:
        """The loans of ``idx`` that have not had signal ``code`` yet (now they have)."""
        seen = self.signalled.setdefault(code, np.zeros(self.n, dtype=bool))
        idx = idx[~seen[idx]]
        seen[idx] = True
        return idx

    def pay(self, idx, day, amt, source=None) -> np.ndarray:
        """Record payments (rounded to the fen; none after as-of); which were made."""
        amt = np.round(amt, 2)
        ok = (day <= self.a) & (amt > 0)
        src = np.zeros(len(idx), np.int8) if source is None else np.asarray(source, np.int8)
        self.pays.append((idx[ok], day[ok], amt[ok], src[ok]))
        self.cum_paid[idx[ok]] += amt[ok]
        return ok

    def claim_of(self, idx) -> np.ndarray:
        """What loans ``idx`` owe now: arrears and interest due so far plus principal to come."""
        d, k = self.due, self.k
        kk = np.clip(k[idx], 0, d.day.shape[1] - 1)
        in_t = k[idx] < d.n_per[idx]
        owed = np.where(
            in_t,
            d.cumdue[idx, kk] - self.cum_paid[idx] + (self.amount[idx] - d.cumprin[idx, kk]),
            d.cumdue[idx, d.n_per[idx] - 1] - self.cum_paid[idx],
        )
        return np.maximum(owed, 0.0)

    def close(self, idx, day) -> None:
        """Loans ``idx`` paid in full on ``day`` (a schedule still running closes now)."""
        self.closed[idx] = True
        self.closed_day[idx] = day
        in_t = self.k[idx] < self.due.n_per[idx]
        self.close_k[idx[in_t]] = np.maximum(self.k[idx[in_t]], 0)

    # -------------------------------------------------------------- the month
    def economy(self, r_mac, n_m: int) -> None:
        """The macro factor over ``n_m`` months and the month and region of a disaster."""
        p = MACRO
        macro = np.zeros(max(n_m, 1))
        eps = r_mac.normal(0, p["sd"], len(macro))
        for t in range(1, len(macro)):
            macro[t] = p["persistence"] * macro[t - 1] + eps[t]
        dip = r_mac.integers(0, max(len(macro) - len(p["downturn"]), 1))
        span = macro[dip : dip + len(p["downturn"])]
        macro[dip : dip + len(p["downturn"])] += np.array(p["downturn"])[: len(span)]
        self.macro = macro
        self.disaster_m = r_mac.integers(0, max(len(macro), 1))
        self.disaster_region = r_mac.integers(2, 5)

    def month(self, t: int, c: int) -> None:
        """Calendar month ``c`` (month index), the ``t``-th of the simulation."""
        self.k = c - self.due.first_m
        live = ~self.closed & (self.k >= 0)
        inst = self._installments_due(live & (self.k < self.due.n_per))
        new_streak, pday = self._repayments(inst, t, int(c % 12 + 1))
        P = self._after_maturity(live, t)
        self._workout(t, c, inst, new_streak, pday, P)
        self._events(t, c, live, inst.loans, new_streak)
        self.shock *= SHOCK_FADE  # shocks fade

    def _installments_due(self, in_term: np.ndarray) -> _Installments:
        """Installments due this month up to as-of, with the streak of misses before them."""
        d, a = self.due, self.a
        A = np.flatnonzero(in_term)
        kA = self.k[A]
        dday = d.day[A, kA]
        A, kA, dday = A[dday <= a], kA[dday <= a], dday[dday <= a]
        cov = (d.cumdue[A] <= (self.cum_paid[A] + TOL)[:, None]).sum(axis=1)
        cum_prev = np.where(kA > 0, d.cumdue[A, np.maximum(kA - 1, 0)], 0.0)
        cum_prev = np.where(np.isfinite(cum_prev), cum_prev, 0.0)
        return _Installments(
            loans=A, k=kA, day=dday, streak=np.maximum(kA - cov, 0), due=d.amount[A, kA],
            arrears=np.maximum(cum_prev - self.cum_paid[A], 0.0),
        )  # fmt: skip

    def _miss_probability(self, inst: _Installments, t: int, cm: int) -> np.ndarray:
        """Probability of missing each installment (calendar month ``cm``)."""
        p, A = REPAYMENT, inst.loans
        season = np.where(
            self.farmer[A], np.where(np.isin(cm, HARVEST_MONTHS), p["season"]["harvest"], 0.0)
            + np.where(np.isin(cm, LEAN_MONTHS), p["season"]["lean"], 0.0), 0.0
        )  # fmt: skip
        spiral = np.array(p["spiral"])[np.minimum(inst.streak, 3)]
        logit = p["base"] + self.risk[A] + self.macro[t] + season + self.shock[A] + spiral
        p_month = np.log1p(-_sigmoid(logit))
        return np.where(
            self.dead[A], p["miss_when_dead"], -np.expm1(self.due.exposure[A, inst.k] * p_month)
        )

    def _repayments(self, inst: _Installments, t: int, cm: int):
        """Who pays, misses, pays part, prepays or cures; the payments; loans paid off close.
        Returns the new streak of misses and the payment days."""
        p, r, A, kA, streak = REPAYMENT, self.r, inst.loans, inst.k, inst.streak
        miss = r.random(len(A)) < self._miss_probability(inst, t, cm)
        share = np.where(streak == 0, p["partial"]["performing"], p["partial"]["in_arrears"])
        partial = miss & (r.random(len(A)) < share)
        ok_pay = ~miss
        can_prepay = (self.method[A] != "bullet") & (kA < self.due.n_per[A] - 1) & (streak == 0)
        p_prepay = p["prepay"] * np.exp(p["prepay_risk_slope"] * self.risk[A])
        prepay = ok_pay & can_prepay & (r.random(len(A)) < p_prepay)
        cure = ok_pay & (streak > 0) & (r.random(len(A)) < self._cure_probability(inst))
        remaining = self.amount[A] - self.due.cumprin[A, kA]
        amt = np.where(ok_pay, inst.due, 0.0)
        amt = np.where(cure | prepay, inst.arrears + inst.due, amt)
        amt = np.where(prepay, amt + remaining, amt)
        amt = np.where(partial, inst.due * r.uniform(*p["partial_share"], len(A)), amt)
        lag = _payment_lag(r, prepay, cure | partial)
        pday = np.maximum(inst.day + lag, self.disb_day[A] + 1)
        ok = self.pay(A, pday, amt)
        done = prepay & ok
        self.closed[A[done]] = True
        self.closed_day[A[done]] = pday[done]
        self.close_k[A[done]] = kA[done]
        # a loan that paid its last installment with no arrears left is closed
        last = (kA == self.due.n_per[A] - 1) & ok & ok_pay & (cure | (streak == 0))
        self.closed[A[last & ~done]] = True
        self.closed_day[A[last & ~done]] = pday[last & ~done]
        return np.where(miss, streak + 1, np.where(cure | prepay, 0, streak)), pday

    def _cure_probability(self, inst: _Installments) -> np.ndarray:
        """A borrower under enforcement rarely cures; once recovery is exhausted, never."""
        p, A = REPAYMENT, inst.loans
        cure_w = np.where(
            self.wo.exhausted[A],
            0.0,
            np.where(self.wo.enforcing[A], p["cure_under_enforcement"], 1.0),
        )
        return cure_w * np.array(p["cure"])[np.minimum(inst.streak, 3)]

    def _after_maturity(self, live: np.ndarray, t: int) -> np.ndarray:
        """After maturity: collection of what is left (a payoff or a part). Returns the loans
        past maturity that still owed at the start of the month."""
        d, k, r, p = self.due, self.k, self.r, AFTER_MATURITY
        P = np.flatnonzero(live & (k >= d.n_per) & ~self.closed)
        if not len(P):
            return P
        lastk = d.n_per[P] - 1
        owed = d.cumdue[P, lastk] - self.cum_paid[P]
        P, lastk, owed = P[owed > TOL], lastk[owed > TOL], owed[owed > TOL]
        pday = d.day[P, lastk] + 30 * (k[P] - lastk) + r.integers(0, p["days_late"], len(P))
        lg = REPAYMENT["base"] + self.risk[P] + self.macro[t] + self.shock[P] + p["log_odds_shift"]
        # once enforced a payoff is rarer; once recovery is exhausted, none (the missed
        # balloon is already sized by balloon_exposure: no extra decay past maturity)
        late = np.where(
            self.wo.exhausted[P], 0.0, np.where(self.wo.enforcing[P], p["under_enforcement"], 1.0)
        )
        alive = ~self.dead[P]
        p_payoff = p["payoff"] * (1 - _sigmoid(lg - p["payoff_midpoint"])) * late
        cure_p = alive & (r.random(len(P)) < p_payoff)
        part_p = ~cure_p & alive & (r.random(len(P)) < p["partial"] * np.sqrt(late))
        part = owed * r.uniform(*p["partial_share"], len(P))
        amt_p = np.where(cure_p, owed, np.where(part_p, part, 0))
        okp = self.pay(P, pday, amt_p)
        fin = cure_p & okp
        self.closed[P[fin]] = True
        self.closed_day[P[fin]] = pday[fin]
        return P

    def _workout(self, t, c, inst: _Installments, new_streak, pday, P) -> None:
        """Collection, enforcement, recoveries, exhaustion (:mod:`.workout_behaviour`)."""
        p, wo, r, a, A, closed = WORKOUT, self.wo, self.r, self.a, inst.loans, self.closed
        month_start = _month_start_day(c)
        past = self.k[P] - self.due.n_per[P]  # months past maturity
        in_arrears = A[(new_streak >= p["collection_after"]) & ~closed[A]]
        if len(P):
            late = P[~closed[P] & (past >= p["collection_after_maturity"])]
            in_arrears = np.r_[in_arrears, late]
        wo.open_collection(in_arrears, t, min(month_start + p["status_day"], a))
        cured = (inst.streak > 0) & (new_streak == 0) & ~closed[A]
        wo.cure(A[cured], np.minimum(pday[cured], a))
        E = A[(new_streak >= p["enforcement_after"]) & ~closed[A]]
        if len(P):
            E = np.r_[E, P[~closed[P] & (past >= p["enforcement_after_maturity"])]]
        E = E[wo.is_("collection")[E]]
        p_enforce = np.where(self.secured[E], p["enforce"]["secured"], p["enforce"]["unsecured"])
        E = E[r.random(len(E)) < p_enforce]
        eday = min(month_start + p["enforcement_day"], a)
        workout.enforce(
            wo, r, E, t, eday, gtype=self.gtype, dead=self.dead, claim=self.claim_of(E),
            collateral=self.collateral,
        )  # fmt: skip
        self.signal(E, eday, "enforcement_started", ENFORCEMENT_NOTE)
        R, rday, ramt, rsrc = workout.channel_payments(wo, r, t, month_start, self.claim_of)
        owed = self.claim_of(R)
        okr = self.pay(R, rday, ramt, rsrc)
        self.close(R[okr & (ramt >= owed - TOL)], rday[okr & (ramt >= owed - TOL)])
        workout.status_after_payments(wo, t, min(month_start + p["status_day"], a), closed)

    # -------------------------------------------------------------- events
    def _events(self, t, c, live, A, new_streak) -> None:
        """This month's events for live loans: death, shocks, signals, joint liability."""
        L = np.flatnonzero(live & ~self.closed & ~self.dead)
        if not len(L):
            return
        eday = np.minimum(_month_start_day(c) + self.r_sig.integers(0, 28, len(L)), self.a)
        u = self.r_sig.random((len(L), 8))
        self._deaths(t, L, eday, u[:, 0])
        self._shocks(t, L, eday, u)
        st_L = _streak_of(L, A, new_streak)
        cc = EVENTS["contact_changes"]
        changed = self.once(
            "contact_changes", L[u[:, 5] < cc["hazard"] + cc["in_arrears"] * (st_L >= 2)]
        )
        self._signal_at(changed, L, eday, "contact_changes")
        sanc = self.once("sanctioned", L[u[:, 6] < EVENTS["sanctioned"]["hazard"]])
        self.shock[sanc] += EVENTS["sanctioned"]["shock"]
        self._signal_at(sanc, L, eday, "sanctioned")
        if t == self.disaster_m:
            self._disaster(L, eday, u[:, 7])
        mac = np.exp(MACRO["event_sensitivity"] * self.macro[t])
        gd = (self.gtype[L] == "guaranteed") & (
            u[:, 7] < EVENTS["guarantor_downgrade"]["hazard"] * mac
        )
        self._signal_at(self.once("guarantor_downgrade", L[gd]), L, eday, "guarantor_downgrade")
        self._joint_liability(c, L[(st_L >= 3) & ~self.had3[L]])

    def _signal_at(self, idx, L, eday, code: str) -> None:
        """Signal ``code`` for loans ``idx`` (a subset of ``L``) on their event days."""
        self.signal(idx, eday[np.searchsorted(L, idx)], code, EVENTS[code]["note"])

    def _deaths(self, t, L, eday, u) -> None:
        """Deaths and disappearances (more likely with age); an heir takes over half."""
        p = EVENTS["death_or_missing"]
        d_h = p["hazard"] * np.exp(p["age_slope"] * (self.age[L] - 45))
        died = np.isin(L, self.once("death_or_missing", L[u < d_h]))
        self.dead[L[died]] = True
        self.dead_m[L[died]] = t
        heir = died & (self.r_sig.random(len(L)) < p["heir"])
        self.dead[L[heir]] = False  # an heir takes over the repayments
        self.signal(L[died & heir], eday[died & heir], "death_or_missing", p["note_heir"])
        self.signal(L[died & ~heir], eday[died & ~heir], "death_or_missing", p["note"])

    def _shocks(self, t, L, eday, u) -> None:
        """Income drop, illness, fund misuse (each raises the odds of missing) and missing
        documents."""
        mac = np.exp(MACRO["event_sensitivity"] * self.macro[t])
        p = EVENTS["income_drop"]
        inc = u[:, 1] < p["hazard"] * mac * np.exp(p["risk_slope"] * self.risk[L])
        self.shock[L[inc]] += p["shock"]
        self.signal(L[inc], eday[inc], "income_drop", p["note"])
        p = EVENTS["health_worsened"]
        ill = u[:, 2] < p["hazard"] * np.exp(p["age_slope"] * (self.age[L] - 45))
        self.shock[L[ill]] += p["shock"]
        self.signal(L[ill], eday[ill], "health_worsened", p["note"])
        mis = self.once("fund_misuse", L[u[:, 3] < EVENTS["fund_misuse"]["hazard"]])
        self.shock[mis] += EVENTS["fund_misuse"]["shock"]
        self._signal_at(mis, L, eday, "fund_misuse")
        doc = self.once("documents_missing", L[u[:, 4] < EVENTS["documents_missing"]["hazard"]])
        self._signal_at(doc, L, eday, "documents_missing")

    def _disaster(self, L, eday, u) -> None:
        """A flood destroys crops of farm loans in the disaster's region."""
        p = EVENTS["property_destroyed"]
        hit = self.farmer[L] & (self.region[L] == self.disaster_region) & (u < p["hazard"])
        self.shock[L[hit]] += p["shock"]
        self.signal(L[hit], eday[hit], "property_destroyed", p["note"])

    def _joint_liability(self, c, newly) -> None:
        """A member newly 3+ installments behind strains the other two households."""
        self.had3[newly] = True
        if self.gmembers is None:
            return
        jn = newly[self.group[newly] >= 0]
        if not len(jn):
            return
        p = EVENTS["joint_partner_in_arrears"]
        mates = self.gmembers[self.gpos[self.group[jn]]]
        mates = mates[mates != jn[:, None]].reshape(-1, 2).reshape(-1)
        mates = mates[~self.closed[mates]]
        self.shock[mates] += p["shock"]
        down = self.once(
            "guarantor_downgrade", mates[self.r_sig.random(len(mates)) < p["downgrade"]]
        )
        self.signal(
            down, np.minimum(_month_start_day(c) + 27, self.a), "guarantor_downgrade", p["note"]
        )


def _group_members(group: np.ndarray):
    """Loan positions of each joint-guarantee group (rows of three) and each group's row."""
    if not (group >= 0).any():
        return None, None
    j = np.flatnonzero(group >= 0)
    j = j[np.lexsort((j, group[j]))]
    gpos = np.full(group.max() + 1, -1)
    gpos[group[j[::3]]] = np.arange(len(j) // 3)
    return j.reshape(-1, 3), gpos


def _streak_of(L, A, new_streak) -> np.ndarray:
    """Installments missed in a row for loans ``L`` (0 for those with none due this month)."""
    st_L = np.zeros(len(L), dtype=np.int64)
    pos = np.searchsorted(A, L)
    inA = (pos < len(A)) & (A[np.minimum(pos, len(A) - 1)] == L) if len(A) else pos < 0
    st_L[inA] = new_streak[pos[inA]]
    return st_L


def _payment_lag(r, prepay, catch_up) -> np.ndarray:
    """Days from due day to payment (the draws in a fixed order: see :data:`PAYMENT_LAG`)."""
    p, n = PAYMENT_LAG, len(prepay)
    return np.where(
        prepay,
        -r.integers(0, p["prepay_early"], n),
        np.where(
            catch_up,
            r.integers(0, p["catch_up_late"], n),
            np.where(
                r.random(n) < p["on_time"],
                -r.integers(0, p["early"], n),
                r.integers(1, p["late"], n),
            ),
        ),
    )


def _closed_schedule(schedule, due: _DueSchedule, close_k, amount) -> pd.DataFrame:
    """The schedule of loans paid off early closed at their payoff installment (which then
    carries the remaining principal)."""
    pk = np.flatnonzero(close_k >= 0)
    if not len(pk):
        return schedule
    n, row = len(close_k), due.row
    per = schedule["period"].to_numpy()
    lk = np.full(n, np.iinfo(np.int64).max)
    lk[pk] = close_k[pk] + 1  # 1-based payoff period
    lkr = lk[row]
    keep = per <= lkr
    extra = np.zeros(n)
    extra[pk] = amount[pk] - due.cumprin[pk, close_k[pk]]
    pr = schedule["principal_due"].to_numpy().copy()
    at = per == lkr
    pr[at] = np.round(pr[at] + extra[row[at]], 2)
    return schedule.assign(principal_due=pr)[keep].reset_index(drop=True)


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


#: collateral of a mortgage or pledge loan: type shares, loan-to-value at origination
#: (uniform range by type; other types: ``LTV_RANGE_OTHER``), appraised 3-19 days before
#: disbursement
COLLATERAL_TYPES = {
    "mortgage": {"real_estate": 0.6, "machinery": 0.28, "vehicle": 0.12},
    "pledge": {"deposit": 0.5, "receivables": 0.35, "equity": 0.15},
}
LTV_RANGE = {
    "real_estate": (0.4, 0.7),
    "machinery": (0.55, 0.85),
    "vehicle": (0.5, 0.8),
    "deposit": (0.85, 0.95),
}
LTV_RANGE_OTHER = (0.5, 0.8)
#: revaluations (up to six): months between them by type (0: never), drift of the value per
#: six months and its volatility; each entry is ``({type: value}, value for other types)``
REVALUATION: dict[str, tuple[dict[str, Any], Any]] = {
    "every_months": ({"machinery": 6, "receivables": 6, "deposit": 0}, 12),
    "drift": ({"machinery": -0.12, "vehicle": -0.08, "real_estate": -0.01, "equity": -0.02}, 0.0),
    "volatility": ({"real_estate": 0.06, "equity": 0.2}, 0.08),
}
#: a revaluation below this multiple of the scheduled principal owed is signalled
LOW_VALUE_MULTIPLE = 1.1


def _by_type(ctype: np.ndarray, entry: tuple[dict[str, Any], Any]) -> np.ndarray:
    """Row-wise parameter from a ``({collateral type: value}, other)`` entry."""
    table, other = entry
    return np.select([ctype == t for t in table], list(table.values()), other)


def _collateral_items(r, loans) -> dict:
    """One collateral item per mortgage and pledge loan: type and value at origination."""
    gtype = loans["guarantee_type"].to_numpy(str)
    amount = loans["amount"].to_numpy(float)
    disb = loans["disbursement_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    mort = np.flatnonzero(gtype == "mortgage")
    pled = np.flatnonzero(gtype == "pledge")
    mt, pt = COLLATERAL_TYPES["mortgage"], COLLATERAL_TYPES["pledge"]
    ctype = np.r_[
        _pick(r, tuple(mt), tuple(mt.values()), len(mort)),
        _pick(r, tuple(pt), tuple(pt.values()), len(pled)),
    ]
    li = np.r_[mort, pled]
    order = np.argsort(li, kind="stable")
    li, ctype = li[order], ctype[order]
    m = len(li)
    ltv = np.select(
        [ctype == t for t in LTV_RANGE],
        [r.uniform(lo, hi, m) for lo, hi in LTV_RANGE.values()],
        r.uniform(*LTV_RANGE_OTHER, m),
    )
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
    """Collateral items of mortgage and pledge loans with periodic revaluations, and the
    ``collateral_value_low`` signals of revaluations close to or below the balance."""
    a = int(a_day.astype(np.int64))
    disb = loans["disbursement_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    loan_ids = loans["loan_id"].to_numpy()
    li, ctype, value, day0 = items["li"], items["ctype"], items["value"], items["day0"]
    m = len(li)
    step = _by_type(ctype, REVALUATION["every_months"])
    drift = _by_type(ctype, REVALUATION["drift"])  # per 6 months
    vol = _by_type(ctype, REVALUATION["volatility"])
    owed_at = _principal_owed_at(loans, schedule)
    cid = _ids("K", np.arange(1, m + 1), 7)
    v = value.copy()
    rows = [(cid, ctype, v.copy(), day0, li)]
    low_sig_idx, low_sig_day = [], []
    for j in range(1, 7):
        live = step > 0
        d = disb[li] + (30.44 * step * j).astype(np.int64) + r.integers(-5, 6, m)
        live &= (d <= a) & (d < closed_day[li])
        shock = r.normal(drift * step / 6, vol * np.sqrt(np.maximum(step, 1) / 6), m)
        v = np.where(live, np.round(v * np.exp(shock), -2), v)
        if not live.any():
            continue
        rows.append((cid[live], ctype[live], v[live], d[live], li[live]))
        sel = np.flatnonzero(live)
        bal = owed_at(li[sel], d[sel])
        low = (v[sel] < LOW_VALUE_MULTIPLE * bal) & (bal > 0)
        low_sig_idx.append(li[sel][low])
        low_sig_day.append(d[sel][low])
    return _collateral_table(rows, loan_ids), _low_value_signals(low_sig_idx, low_sig_day, loan_ids)


def _principal_owed_at(loans, schedule):
    """A function of (loan positions, day numbers): the scheduled principal still owed then
    (payments aside)."""
    amount = loans["amount"].to_numpy(float)
    disb = loans["disbursement_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    sched_day = schedule["due_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    sched_code = pd.Index(loans["loan_id"].to_numpy()).get_indexer(schedule["loan_id"])
    cum_prin = schedule.groupby("loan_id", sort=False)["principal_due"].cumsum().to_numpy()
    key_s = sched_code.astype(np.int64) * 10**6 + (sched_day - disb.min() + 100)

    def owed_at(loan: np.ndarray, day: np.ndarray) -> np.ndarray:
        key_q = loan.astype(np.int64) * 10**6 + (day - disb.min() + 100)
        pos = np.searchsorted(key_s, key_q, side="right") - 1
        same = (pos >= 0) & (sched_code[np.maximum(pos, 0)] == loan)
        paid_prin = np.where(same, cum_prin[np.maximum(pos, 0)], 0.0)
        return amount[loan] - paid_prin

    return owed_at


def _collateral_table(rows: list[tuple], loan_ids) -> pd.DataFrame:
    """The ``collateral`` table from ``(id, type, value, day, loan position)`` arrays."""
    ids, types, vals, dates, lidx = (np.concatenate(x) for x in zip(*rows, strict=True))
    coll = pd.DataFrame(
        {
            "collateral_id": ids,
            "loan_id": loan_ids[lidx],
            "collateral_type": types,
            "appraised_value": vals,
            "valuation_date": dates.astype("datetime64[D]").astype("datetime64[ns]"),
        }
    )
    return coll.sort_values(["collateral_id", "valuation_date"], kind="stable").reset_index(
        drop=True
    )


def _low_value_signals(low_sig_idx, low_sig_day, loan_ids) -> pd.DataFrame:
    """``collateral_value_low`` on the first low revaluation of each loan."""
    li_low = np.concatenate(low_sig_idx) if low_sig_idx else np.zeros(0, np.int64)
    d_low = np.concatenate(low_sig_day) if low_sig_day else np.zeros(0, np.int64)
    first = pd.Series(d_low).groupby(li_low).min() if len(li_low) else pd.Series(dtype=np.int64)
    return pd.DataFrame(
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
