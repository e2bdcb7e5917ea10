"""Sample credit applications for the lender's process before the loan (issue 13): a month of
new applications after a sample book's extract date, the new customers' register records, the
register updates officers make on taking an application, and the credit staff.

:func:`make_applications` draws, deterministically per seed:

* **applications** (:mod:`riskkit.lending.applications`) from repeat customers of the book and
  new customers, dated on the working days of the month after ``book.as_of_date``; products,
  purposes, terms and rates as in the book; amounts from income (secured business loans up to
  500,000); new three-household joint-guarantee groups (三户联保, each household asking up to
  500,000), and one group of two households whose third withdrew (seed 002's story: it expects
  1,000,000 and gets a single guarantee's 500,000 in total);
* **new_customers**: register records (:mod:`riskkit.book.customers`) with synthetic personal
  data; a few fail an admission rule the way real files do (an expired ID, income verified
  long ago, no fresh credit report, money overdue elsewhere, a long past delinquency, too old
  at maturity, a business younger than a year, not living locally for long);
* **customer_updates**: for most repeat customers the officer re-verifies income and pulls a
  fresh credit report before the application (register changes, with the officer and date);
* **staff** (:func:`make_staff`): loan officers (``O01``-``O30`` as in the book; each
  branch's first is a lead with officer-level approval authority), a reviewer and a branch
  approver per branch, and a seven-member credit committee (``C01`` chairs).

Examples
--------
>>> from riskkit.datasets import make_microloan_book
>>> from riskkit.datasets.applications import make_applications
>>> book = make_microloan_book(n_loans=2_000, months=24, seed=0)
>>> s = make_applications(book, n=120, seed=0)
>>> len(s.applications), s.applications["application_date"].min().month
(120, 11)
>>> sorted(s.staff["role"].unique()), int(s.staff["committee"].sum())
(['approver', 'committee_member', 'officer', 'reviewer'], 7)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import synthetic_pii
from .microloan import BRANCHES, N_OFFICERS, PRODUCTS, PURPOSES, REGIONS, SEGMENTS

#: Purposes no product allows (a lawful purpose is a loan condition, seed 000 art. 12).
OFF_LIST_PURPOSES = ("securities investment", "repay other lenders", "real estate purchase")
COMMITTEE_SIZE = 7


@dataclass(frozen=True)
class SampleApplications:
    """What :func:`make_applications` returns (four tables)."""

    applications: pd.DataFrame
    new_customers: pd.DataFrame
    customer_updates: pd.DataFrame
    staff: pd.DataFrame

    def __repr__(self) -> str:
        a = self.applications
        return (
            f"SampleApplications({len(a):,} applications from {a['application_date'].min().date()}"
            f" to {a['application_date'].max().date()}, {len(self.new_customers):,} new "
            f"customers, {len(self.customer_updates):,} register updates, "
            f"{len(self.staff):,} staff)"
        )


def make_staff() -> pd.DataFrame:
    """Credit staff: ``staff_id, role, branch, approval_level, committee, chair``.

    ``role``: ``officer`` (investigates), ``reviewer`` (审查岗) or ``approver`` (审批岗);
    ``approval_level``: the authority a person holds alone (``officer`` for each branch's lead
    officer, ``branch_approver`` for the branch approvers); ``committee``: a member of the
    credit committee (five from head office, ``C01`` chairs, plus the first branch's approver
    ``A01`` and reviewer ``R01``, who must recuse themselves from what they handled).
    """
    per = N_OFFICERS // len(BRANCHES)
    off = np.arange(1, N_OFFICERS + 1)
    k = np.arange(1, len(BRANCHES) + 1)
    c = np.arange(1, 6)
    staff = pd.DataFrame(
        {
            "staff_id": [f"O{i:02d}" for i in off]
            + [f"R{i:02d}" for i in k]
            + [f"A{i:02d}" for i in k]
            + [f"C{i:02d}" for i in c],
            "role": ["officer"] * len(off)
            + ["reviewer"] * len(k)
            + ["approver"] * len(k)
            + ["committee_member"] * len(c),
            "branch": list(np.asarray(BRANCHES)[(off - 1) // per])
            + list(BRANCHES) * 2
            + ["总部"] * len(c),
            "approval_level": [("officer" if (i - 1) % per == 0 else None) for i in off]
            + [None] * len(k)
            + ["branch_approver"] * len(k)
            + [None] * len(c),
        }
    )
    staff["committee"] = staff["staff_id"].isin(["C01", "C02", "C03", "C04", "C05", "A01", "R01"])
    staff["chair"] = staff["staff_id"] == "C01"
    staff["approval_level"] = staff["approval_level"].astype(object)
    return staff.astype({"staff_id": "str", "role": "str", "branch": "str"})


def _working_days(start: pd.Timestamp, days: int) -> np.ndarray:
    d = pd.bdate_range(start, start + pd.Timedelta(days=days))
    return d.to_numpy(dtype="datetime64[ns]")


def make_applications(book, n: int = 300, seed: int = 0, days: int = 28) -> SampleApplications:
    """A month of sample applications after ``book.as_of_date`` (see the module docstring).

    Parameters
    ----------
    book : LoanBook
        A sample book (:func:`~riskkit.datasets.make_microloan_book`) with register fields.
    n : int, default 300
        Applications, at least 12 (joint groups come in threes, plus the two-household group).
    seed : int, default 0
    days : int, default 28
        Applications fall on the working days of this many days after the extract date.
    """
    if int(n) < 12:
        raise ValueError("n must be at least 12")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1313,)))
    start = pd.Timestamp(book.as_of_date).normalize() + pd.Timedelta(days=1)
    n_groups = max(int(round(0.03 * n)), 1)
    group = _group_ids(n_groups, seed)
    n_repeat = int(round(0.4 * (n - len(group))))
    dates = _working_days(start, days)
    app_date = dates[rng.integers(0, len(dates), n)]
    first = pd.Series(app_date[: len(group)]).groupby(group).transform("first")
    app_date[: len(group)] = first.to_numpy()  # a group applies together
    new = _new_customers(rng, book, n - n_repeat, app_date[: n - n_repeat], group)
    repeat = _repeat_customers(rng, book, n_repeat)
    applicants = pd.concat([new, repeat], ignore_index=True)
    gid = np.r_[group, np.full(len(applicants) - len(group), None, dtype=object)]
    apps = _terms(rng, book, applicants, app_date, gid)
    updates = _register_updates(rng, applicants, apps)
    new_rows = applicants[applicants["_new"].to_numpy(dtype=bool)].drop(columns=["_new"])
    return SampleApplications(
        applications=apps,
        new_customers=new_rows.reset_index(drop=True),
        customer_updates=updates,
        staff=make_staff(),
    )


def _group_ids(n_groups: int, seed: int) -> np.ndarray:
    """Members' group ids: ``n_groups`` triples, then a group whose third household withdrew."""
    ids = np.repeat([f"JN{seed % 100:02d}{g + 1:03d}" for g in range(n_groups + 1)], 3)
    return ids[: 3 * n_groups + 2].astype(object)


def _years_ago(start: pd.Timestamp, years: np.ndarray) -> np.ndarray:
    days = (np.asarray(years) * 365.25).astype(np.int64).astype("timedelta64[D]")
    start_day = np.asarray(np.datetime64(start.date(), "D"))
    return np.asarray(start_day - days).astype("datetime64[ns]")


def _new_customers(rng, book, k: int, app_date: np.ndarray, group: np.ndarray) -> pd.DataFrame:
    """New customers: attributes drawn from existing customers of the same segment (applicants
    resemble the book), fresh personal data and register facts as of their application date,
    a few admission problems."""
    b = book.borrowers
    start = pd.Timestamp(app_date.min())
    n_g = len(group)
    g_codes, g_pos = np.unique(group, return_inverse=True)
    seg = np.asarray(SEGMENTS)[rng.choice(4, k, p=[0.34, 0.16, 0.32, 0.18])]
    region = rng.integers(0, len(REGIONS), k)
    if n_g:  # a group: neighbours of one business segment
        gseg = np.asarray(["trader", "micro_enterprise", "farmer"])[
            rng.integers(0, 3, len(g_codes))
        ]
        seg[:n_g] = gseg[g_pos]
        region[:n_g] = rng.integers(0, len(REGIONS), len(g_codes))[g_pos]
    pools = {s_: np.flatnonzero(b["segment"].to_numpy() == s_) for s_ in SEGMENTS}
    pick = np.array([pools[s_][rng.integers(0, len(pools[s_]))] for s_ in seg])
    keep = ["education", "marital_status", "household_size", "house_ownership", "prior_loans",
            "prior_delinquency", "years_in_business", "gender", "monthly_income"]  # fmt: skip
    out = b.iloc[pick][[c for c in keep if c in b.columns]].reset_index(drop=True)
    first_id = len(b) + 1
    out.insert(0, "borrower_id", [f"B{i:07d}" for i in range(first_id, first_id + k)])
    out.insert(1, "segment", seg)
    out["region"] = np.asarray(REGIONS)[region]
    male = out["gender"].to_numpy() == "male"
    age = np.clip(rng.normal(np.where(seg == "consumer", 34, 43), 9), 20, 62)
    old = rng.random(k) < 0.02  # too old by maturity
    age = np.where(old, rng.uniform(63.5, 66), age)
    birth = _years_ago(start, age)
    area = np.asarray(synthetic_pii.AREA_CODES)[region]
    out["name"] = synthetic_pii.chinese_names(rng, male)
    out["id_number"] = synthetic_pii.id_numbers(rng, area, birth, male)
    out["phone"] = synthetic_pii.mobile_numbers(rng, k)
    out["birth_date"] = birth
    out["onboarding_date"] = app_date.astype("datetime64[ns]")
    _new_register_facts(rng, out, app_date, age)
    out["_new"] = True
    return out


def _before(day: np.ndarray, years) -> np.ndarray:
    """``day`` (per customer) minus ``years``."""
    d = np.asarray(day, dtype="datetime64[D]") - (np.asarray(years) * 365.25).astype(np.int64)
    return d.astype("datetime64[ns]")


def _new_register_facts(rng, out: pd.DataFrame, day: np.ndarray, age: np.ndarray) -> None:
    """Register facts of new customers as of their application ``day``, with the admission
    problems real files show."""
    k = len(out)
    seg = out["segment"].to_numpy()
    u = rng.random((k, 8))
    out["civil_capacity"] = np.where(u[:, 0] < 0.004, "limited", "full")
    out["id_type"] = "resident_id"
    long_term = age >= 46 + rng.uniform(0, 10, k)  # issued at 46 or later
    expiry = _before(day, -rng.uniform(0.3, 15, k))
    expiry = np.where(u[:, 1] < 0.02, _before(day, rng.uniform(0.05, 0.6, k)), expiry)
    out["id_long_term"] = long_term
    out["id_expiry_date"] = pd.Series(expiry).where(~long_term).to_numpy()
    src = {"trader": "business", "micro_enterprise": "business", "farmer": "farming"}
    consumer_src = np.where(age > 55, "pension", "salary")
    out["income_source"] = np.where(seg == "consumer", consumer_src, pd.Series(seg).map(src))
    verified = _before(day, rng.uniform(1, 25, k) / 365.25)
    out["income_verified_date"] = np.where(
        u[:, 2] < 0.04, _before(day, rng.uniform(0.6, 1.5, k)), verified
    )
    report = _before(day, rng.uniform(0, 20, k) / 365.25)
    out["credit_report_date"] = np.where(
        u[:, 3] < 0.03, _before(day, rng.uniform(45, 150, k) / 365.25), report
    )
    worst = rng.choice([0, 15, 35, 75, 120, 200], k, p=[0.78, 0.1, 0.05, 0.04, 0.02, 0.01])
    out["worst_delinquency_days"] = (worst + np.where(worst > 0, rng.integers(0, 10, k), 0)).astype(
        np.int64
    )
    out["overdue_elsewhere"] = np.where(u[:, 4] < 0.03, np.round(rng.uniform(1, 30, k)) * 1000, 0.0)
    status = np.where(
        u[:, 5] < 0.84, "local_hukou", np.where(u[:, 5] < 0.97, "local_resident", "non_local")
    )
    since = np.where(status == "local_hukou", out["birth_date"].to_numpy(),
                     _before(day, rng.uniform(0.2, 10, k)))  # fmt: skip
    out["residence_status"] = status
    out["residence_since"] = since
    years = np.where(u[:, 6] < 0.04, rng.uniform(0.2, 0.9, k), rng.uniform(1.5, 15, k))
    years = np.minimum(years, np.maximum(age - 18, 0.2))
    start_b = pd.Series(_before(day, years))
    out["business_start_date"] = start_b.where(seg != "consumer").to_numpy()
    out["years_in_business"] = np.where(
        seg == "consumer", out["years_in_business"], years.astype(int)
    )


def _repeat_customers(rng, book, k: int) -> pd.DataFrame:
    """Existing customers whose latest loan is at least six months old."""
    last = book.loans.groupby("borrower_id")["disbursement_date"].max()
    old = last[last <= book.as_of_date - pd.DateOffset(months=6)].index
    ids = rng.choice(np.asarray(old), size=min(k, len(old)), replace=False)
    b = book.borrowers.set_index("borrower_id").loc[ids].reset_index()
    b["_new"] = False
    return b


#: Guarantee structure of non-group applications by segment: credit, guaranteed, mortgage,
#: pledge (as in the sample book).
_GUARANTEE_P = {
    "trader": (0.38, 0.3, 0.22, 0.1),
    "micro_enterprise": (0.22, 0.3, 0.33, 0.15),
    "farmer": (0.5, 0.33, 0.14, 0.03),
    "consumer": (0.7, 0.25, 0.0, 0.05),
}
_MULTIPLE = {"trader": 5.0, "micro_enterprise": 6.0, "farmer": 6.0, "consumer": 3.0}
_TERMS = np.array([3, 6, 9, 12, 18, 24, 36])


def _guarantees(rng, seg: np.ndarray, group: np.ndarray) -> np.ndarray:
    out = np.empty(len(seg), dtype=object)
    for s_, p in _GUARANTEE_P.items():
        m = seg == s_
        out[m] = np.asarray(["credit", "guaranteed", "mortgage", "pledge"])[
            rng.choice(4, int(m.sum()), p=np.asarray(p) / sum(p))
        ]
    out[pd.notna(group)] = "joint"
    return out


def _amounts(rng, applicants: pd.DataFrame, gtype: np.ndarray, group: np.ndarray) -> np.ndarray:
    seg = applicants["segment"].to_numpy()
    secured = (gtype != "credit") & (seg != "consumer")
    mult = pd.Series(seg).map(_MULTIPLE).to_numpy(float) * np.exp(rng.normal(0, 0.45, len(seg)))
    raw = applicants["monthly_income"].to_numpy(float) * mult * np.where(secured, 1.5, 1.0)
    cap = np.where(secured, 500_000.0, 100_000.0)
    amount = np.clip(np.round(raw, -3), 3_000.0, cap)
    joint = pd.notna(group)
    # joint-guarantee households ask for much of what the structure allows (seed 002)
    amount[joint] = np.round(rng.uniform(150_000, 500_000, int(joint.sum())), -4)
    last = group == group[joint][-1] if joint.any() else joint
    amount[last] = 500_000.0  # the two households left each expect 500k
    return amount


def _terms(rng, book, applicants: pd.DataFrame, app_date, group: np.ndarray) -> pd.DataFrame:
    """Loan terms of each application, sorted by date; ids ``A<yymm><seq>``."""
    k = len(applicants)
    seg = applicants["segment"].to_numpy()
    gtype = _guarantees(rng, seg, group)
    amount = _amounts(rng, applicants, gtype, group)
    term = _TERMS[rng.choice(len(_TERMS), k, p=[0.05, 0.15, 0.08, 0.38, 0.12, 0.15, 0.07])]
    method = np.asarray(["annuity", "equal_principal", "interest_only", "bullet"])[
        rng.choice(4, k, p=[0.5, 0.2, 0.2, 0.1])
    ]
    method = np.where((seg == "consumer") & np.isin(method, ["interest_only", "bullet"]),
                      "annuity", method)  # fmt: skip
    method = np.where((method == "bullet") & (term > 12), "interest_only", method)
    premium = pd.Series(gtype).map(
        {"credit": 0.06, "guaranteed": 0.04, "joint": 0.035, "mortgage": 0.02, "pledge": 0.01}
    )
    rate = 0.075 + premium.to_numpy(float) + rng.normal(0, 0.012, k)
    rate = np.round(np.clip(rate, 0.06, 0.23) / 0.0005) * 0.0005
    rate[rng.random(k) < 0.005] = 0.26  # above the regulator's ceiling
    purpose = np.array([PURPOSES[s_][rng.integers(0, len(PURPOSES[s_]))] for s_ in seg], object)
    off = rng.random(k) < 0.015
    purpose[off] = np.asarray(OFF_LIST_PURPOSES)[rng.integers(0, 3, int(off.sum()))]
    region = pd.Index(REGIONS).get_indexer(applicants["region"])
    per = N_OFFICERS // len(BRANCHES)
    officer = region * per + rng.integers(0, per, k)
    secured = np.isin(gtype, ["mortgage", "pledge"])
    income = applicants["monthly_income"].to_numpy(float)
    frame = pd.DataFrame(
        {
            "borrower_id": applicants["borrower_id"].to_numpy(),
            "application_date": np.asarray(app_date, dtype="datetime64[ns]"),
            "product": pd.Series(seg).map(PRODUCTS).to_numpy(),
            "amount": amount,
            "term_months": term.astype(np.int64),
            "annual_rate": rate,
            "repayment_method": method,
            "guarantee_type": gtype,
            "purpose": purpose,
            "officer_id": [f"O{i + 1:02d}" for i in officer],
            "branch": np.asarray(BRANCHES)[officer // per],
            "group_id": group,
            "collateral_value": np.where(
                secured, np.round(amount / rng.uniform(0.4, 0.8, k), -3), np.nan
            ),  # fmt: skip
            "other_debt_service": np.where(
                rng.random(k) < 0.3, np.round(income * rng.uniform(0.05, 0.3, k), -2), 0.0
            ),
            "n_guarantors": np.where(
                gtype == "guaranteed", rng.integers(1, 3, k), np.where(gtype == "joint", 2, 0)
            ),  # fmt: skip
            "admission_override": False,
        }
    )
    frame = frame.sort_values(["application_date", "borrower_id"], kind="stable")
    yymm = pd.Timestamp(frame["application_date"].iloc[0]).strftime("%y%m")
    frame.insert(0, "application_id", [f"A{yymm}{i:04d}" for i in range(1, k + 1)])
    text = ["application_id", "borrower_id", "product", "repayment_method", "guarantee_type",
            "purpose", "officer_id", "branch"]  # fmt: skip
    return frame.astype(dict.fromkeys(text, "str")).reset_index(drop=True)


def _register_updates(rng, applicants: pd.DataFrame, apps: pd.DataFrame) -> pd.DataFrame:
    """Repeat customers: the officer re-verifies income and pulls a credit report a few days
    before the application (most of them; the others keep their old verification)."""
    rep = apps[~apps["borrower_id"].isin(applicants.loc[applicants["_new"], "borrower_id"])]
    rep = rep.drop_duplicates("borrower_id")
    done = rng.random(len(rep)) < 0.85
    rep = rep[done]
    k = len(rep)
    when = rep["application_date"].to_numpy() - (rng.integers(1, 8, k) * np.timedelta64(1, "D"))
    cur = applicants.set_index("borrower_id")["monthly_income"].reindex(rep["borrower_id"])
    income = np.round(cur.to_numpy(float) * rng.uniform(0.9, 1.25, k), -2)
    return pd.DataFrame(
        {
            "borrower_id": rep["borrower_id"].to_numpy(),
            "monthly_income": income,
            "income_verified_date": when.astype("datetime64[ns]"),
            "credit_report_date": when.astype("datetime64[ns]"),
            "changed_by": rep["officer_id"].to_numpy(),
            "changed_at": when.astype("datetime64[ns]"),
            "reason": "re-verified on application " + rep["application_id"].astype(str).to_numpy(),
        }
    ).reset_index(drop=True)


def store_sample(store, sample: SampleApplications, policy=None):
    """Put a :class:`SampleApplications` into the store the way a lender's staff would: the
    new customers into the register (by the officer of their application), the repeat
    customers' re-verifications as register changes, the staff, and the applications
    received. Returns the :class:`~riskkit.lending.process.CreditProcess`."""
    from ..book.customers import CustomerRegister
    from ..lending.process import CreditProcess

    reg = CustomerRegister(store)
    apps = sample.applications
    first = apps.drop_duplicates("borrower_id").set_index("borrower_id")
    new = sample.new_customers
    reg.record(
        new.assign(
            changed_by=first["officer_id"].reindex(new["borrower_id"]).to_numpy(),
            changed_at=first["application_date"].reindex(new["borrower_id"]).to_numpy(),
            reason="new customer",
        ),
        None,
        None,
    )
    reg.record(sample.customer_updates, None, None)
    proc = CreditProcess(store, policy)
    proc.set_staff(sample.staff)
    for day, rows in apps.groupby("application_date"):
        proc.receive(rows, at=day)
    return proc


def run_sample_process(proc, meeting_dates=None, seed: int = 0):
    """Take the stored sample applications through the process as the sample staff would (a
    synthetic month, for demos and the committee's screen): assess (scores from the store's
    approved champion when there is one), investigate by two officers of the branch, review
    (a few returned for missing documents), approve within delegated authority (some with
    conditions), sign and disburse; the committee-level applications go to two meetings: the
    first decides by the members' votes (drawn from the risk grade and group exposure), the
    second stays open for the committee to decide on its screen.

    Returns ``(assessment, meetings)``.
    """
    from ..lending.committee import CreditCommittee
    from ..lending.process import APPROVED

    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1314,)))
    a = proc.assess()
    staff = proc.staff()
    apps = proc.applications()
    route = a.route.table
    for app in apps.itertuples(index=False):
        if route.at[app.application_id, "level"] == "declined":
            continue
        _investigate_and_review(proc, staff, app, rng)
        if route.at[app.application_id, "level"] != "credit_committee":
            _approve_and_disburse(proc, staff, app, route.at[app.application_id, "level"], rng)
    com = CreditCommittee(proc)
    first, second = meeting_dates or _meeting_dates(apps)
    meetings = []
    ready = _reviewed_waiting(com, first)
    if ready:
        m1 = com.open_meeting(first, com.members(), chair="C01", agenda=ready)
        officer = apps.set_index("application_id")["officer_id"]
        for app_id in ready:
            assessment = com.assessment(m1.meeting_id, app_id)
            _vote(com, m1, app_id, assessment, rng)
            d = com.decide(m1.meeting_id, app_id)
            if d.outcome.outcome in APPROVED:
                _conditions_contract_disburse(proc, app_id, officer[app_id], d.outcome.conditions,
                                              pd.Timestamp(m1.meeting_date))  # fmt: skip
        meetings.append(m1)
    rest = _reviewed_waiting(com, second)
    if rest:
        meetings.append(com.open_meeting(second, com.members(), chair="C01", agenda=rest))
    return a, meetings


def _reviewed_waiting(com, day) -> list:
    """Applications waiting for the committee whose review passed by ``day``."""
    st = com.process.status()
    waiting = st.index[(st["stage"] == "committee").to_numpy(dtype=bool)].tolist()
    return [a for a, ok in com.reviewed_by(waiting, day).items() if ok]


def _meeting_dates(apps: pd.DataFrame):
    last = pd.Timestamp(apps["application_date"].max())
    return last - pd.Timedelta(days=14), last + pd.Timedelta(days=3)


def _investigate_and_review(proc, staff, app, rng) -> None:
    day = pd.Timestamp(app.application_date)
    pool = staff[(staff["branch"] == app.branch) & (staff["role"] == "officer")
                 & staff["approval_level"].isna()].index  # fmt: skip
    others = [o for o in pool if o != app.officer_id]
    second = others[int(rng.integers(0, len(others)))]
    officers = [app.officer_id, second] if app.officer_id in pool else others[:2]
    reviewer = staff.index[(staff["branch"] == app.branch) & (staff["role"] == "reviewer")][0]
    note = "on-site visit: premises, stock and turnover checked; household interviewed"
    proc.investigate(app.application_id, officers, comment=note, at=day + pd.Timedelta(days=2))
    if rng.random() < 0.05:
        proc.review(app.application_id, reviewer, "return", comment="bank statements missing",
                    at=day + pd.Timedelta(days=3))  # fmt: skip
        proc.investigate(app.application_id, officers, comment="statements added",
                         at=day + pd.Timedelta(days=5))  # fmt: skip
    proc.review(app.application_id, reviewer, "pass", comment="complete and compliant",
                at=day + pd.Timedelta(days=6))  # fmt: skip


def _approve_and_disburse(proc, staff, app, level, rng) -> None:
    day = pd.Timestamp(app.application_date) + pd.Timedelta(days=7)
    if level == "officer":
        lead = staff[(staff["branch"] == app.branch) & (staff["approval_level"] == "officer")]
        approver = lead.index[0]
    else:
        approver = staff.index[(staff["branch"] == app.branch) & (staff["role"] == "approver")][0]
    cond = ["spouse co-signs the loan contract"] if rng.random() < 0.2 else []
    decision = "approve_with_conditions" if cond else "approve"
    proc.approve(app.application_id, approver, decision, comment="within delegated authority",
                 conditions=cond, at=day)  # fmt: skip
    _conditions_contract_disburse(proc, app.application_id, app.officer_id, cond, day)


def _conditions_contract_disburse(proc, app_id, officer, conditions, day) -> None:
    if proc.state(app_id).stage == "offer":
        proc.accept_offer(app_id, officer, comment="applicant accepted the counter-offer in "
                          "writing", at=day + pd.Timedelta(days=1))  # fmt: skip
    for c in conditions:
        proc.meet_condition(app_id, c, officer, comment="done and on file",
                            at=day + pd.Timedelta(days=1))  # fmt: skip
    proc.sign_contract(app_id, officer, at=day + pd.Timedelta(days=2))
    when = day + pd.Timedelta(days=3)
    _refresh_checks(proc, app_id, officer, when)
    from ..lending.process import ProcessError

    try:
        proc.disburse(app_id, officer, at=when)
    except ProcessError:
        pass  # e.g. the ID expired meanwhile: the file waits at the contract


def _refresh_checks(proc, app_id, officer, when) -> None:
    """Before paying out, the officer pulls a fresh credit report (and re-verifies income)
    when the ones on file have gone stale since the application (recorded in the register)."""
    from ..book.customers import CustomerRegister

    check = proc.disbursement_check([app_id], at=when)
    stale = [c for c, text in check.failures_of(app_id) if c == "admitted" and
             ("credit report" in text or "income" in text)]  # fmt: skip
    if stale:
        b = proc.application(app_id)["borrower_id"]
        CustomerRegister(proc.store).update(
            b, officer, "checked again before disbursement", changed_at=when,
            credit_report_date=pd.Timestamp(when).normalize(),
            income_verified_date=pd.Timestamp(when).normalize(),
        )  # fmt: skip


def _vote(com, meeting, app_id, assessment, rng) -> None:
    """Members' votes: mostly with the rules' recommendation (a decline is declined, a
    request above the limit approved at the counter-offer), with some dissent; a vote for
    what the rules decline gives its reason."""
    held = com.process.roles_on_file(app_id)
    conflicted = set(held.loc[held["role"] != "committee member", "person"])
    rec = assessment.recommendation
    p_decline = {"decline": 0.85, "decline as requested": 0.2}.get(rec, 0.08)
    why = "; ".join(r.text for r in assessment.reasons if r.effect in ("hard", "decline"))
    reason = _reason_for(assessment)
    rows = []
    for m in meeting.present:
        if m in conflicted:
            rows.append({"member": m, "vote": "recused", "comment": "handled this application"})
        elif rng.random() < p_decline:
            rows.append({"member": m, "vote": "decline",
                         "comment": why or "cash flow not convincing for the amount"})  # fmt: skip
        elif rng.random() < 0.25:
            rows.append({"member": m, "vote": "approve_with_conditions", "comment": reason,
                         "conditions": ["monthly turnover statements for 6 months"]})  # fmt: skip
        else:
            rows.append({"member": m, "vote": "approve", "comment": reason})
    com.record_votes(meeting.meeting_id, app_id, rows, at=meeting.meeting_date)


def _reason_for(assessment) -> str:
    """Why a member votes for what the rules decline (empty when the rules approve)."""
    offer = assessment.counter_offer
    if assessment.recommendation == "decline as requested" and offer is not None:
        return (f"for the counter-offer of {offer.application.amount:,.0f} only: within the "
                "limit and repayment capacity")  # fmt: skip
    if assessment.recommendation.startswith("decline"):
        return "exception: long-standing customer, collateral and guarantor judged sufficient"
    return ""
