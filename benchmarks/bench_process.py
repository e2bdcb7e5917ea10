"""Benchmark: the lender's process before the loan at scale.

1. **Admission + route** of 100,000 applications (target: under 2 s): every admission rule and
   loan condition of the policy (:func:`riskkit.lending.check_admission`) and the authority
   matrix (:func:`riskkit.lending.approval_route`), for a month of sample applications
   (:func:`riskkit.datasets.applications.make_applications`: string ids, the customer register
   with every field, exposure with the lender from the sample book).
2. **Joint-guarantee group exposure** of a 1,000,000-loan book (target: under 5 s):
   :func:`riskkit.lending.group_exposure` (outstanding + limits by households, worst category)
   and :func:`riskkit.lending.guarantor_liability_signals`, given the month-end classification
   (its time is printed apart: it is the month-end run's, not the group view's).

Peers (no library does this): plain Python, one application (one group) at a time, written
independently below from the documented rules, run on a subsample in the same process and
extrapolated linearly; riskkit and the peer must agree row by row on the subsample.

Usage::

    python -m benchmarks.bench_process            # 100,000 applications; 1,000,000 loans
    python -m benchmarks.bench_process --quick    # 10,000 applications; 100,000 loans
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from riskkit.policy import load_policy

AS_OF = pd.Timestamp("2026-10-31")


def _t(fn, *a, **k):
    t0 = time.perf_counter()
    out = fn(*a, **k)
    return out, time.perf_counter() - t0


# --- 1. admission and route ------------------------------------------------------------------


def admission_inputs(n_apps: int, seed: int = 0):
    """Sample book, its register, ``n_apps`` applications and the borrowers' exposure."""
    from riskkit.datasets import make_microloan_book
    from riskkit.datasets.applications import make_applications
    from riskkit.lending import borrower_exposure

    book = make_microloan_book(n_loans=max(2 * n_apps, 20_000), months=36, seed=seed)
    sample = make_applications(book, n=n_apps, seed=seed)
    customers = pd.concat([book.borrowers, sample.new_customers], ignore_index=True)
    up = sample.customer_updates.set_index("borrower_id")
    c = customers.set_index("borrower_id")
    for col in ("monthly_income", "income_verified_date", "credit_report_date"):
        c.loc[up.index, col] = up[col]
    exposure = borrower_exposure(book)
    grades = np.asarray([f"R{g}" for g in np.random.default_rng(seed).integers(1, 11, n_apps)])
    return sample.applications, c.reset_index(), exposure, grades


def riskkit_admission_route(apps, customers, exposure, grades):
    from riskkit.lending import approval_route, check_admission

    adm = check_admission(apps, customers, exposure=exposure)
    route = approval_route(apps, grade=grades, admission=adm, exposure=exposure)
    return adm, route


def _years(b: pd.Timestamp, d: pd.Timestamp) -> int:
    return d.year - b.year - ((d.month, d.day) < (b.month, b.day))


def reference_failed(app: dict, cust: dict, exp: dict, pol) -> list[str]:
    """The rules for one application, in plain Python (the peer)."""
    return _reference_customer(app, cust, exp, pol) + _reference_terms(app, exp, pol)


def _reference_customer(app: dict, cust: dict, exp: dict, pol) -> list[str]:
    r = pol["admission"]["rules"]
    d = pd.Timestamp(app["application_date"])
    mat = d + pd.DateOffset(months=int(app["term_months"]))
    b = cust["birth_date"]
    v, c = cust["income_verified_date"], cust["credit_report_date"]
    since = d - pd.DateOffset(months=r["residence"]["min_months"])
    start = cust["business_start_date"]
    checks = {
        "age": pd.isna(b) or _years(b, d) < r["age"]["min_age"]
        or _years(b, mat) > r["age"]["max_age"],
        "civil_capacity": cust["civil_capacity"] != "full",
        "id_valid": not cust["id_long_term"]
        and (pd.isna(cust["id_expiry_date"]) or cust["id_expiry_date"] < d),
        "income_stable": cust["income_source"] not in r["income_stable"]["sources"]
        or not cust["monthly_income"] > 0,
        "income_verified": pd.isna(v) or v > d
        or v < d - pd.DateOffset(months=r["income_verified"]["within_months"]),
        "credit_report": pd.isna(c) or c > d
        or c < d - pd.Timedelta(days=r["credit_report"]["within_days"]),
        "no_current_overdue": cust["overdue_elsewhere"] > r["no_current_overdue"]["max_amount"]
        or exp["dpd"] > 0,
        "worst_delinquency": cust["worst_delinquency_days"] > r["worst_delinquency"]["max_days"],
        "residence": cust["residence_status"] not in r["residence"]["statuses"]
        or cust["residence_since"] > since,
        "business_operating": cust["segment"] in r["business_operating"]["segments"]
        and (pd.isna(start)
             or start > d - pd.DateOffset(months=r["business_operating"]["min_months"])),
    }  # fmt: skip
    return [k for k, failed in checks.items() if failed]


def _reference_terms(app: dict, exp: dict, pol) -> list[str]:
    reg, p = pol["regulator"], pol["products"].get(app["product"])
    if p is None:
        return ["product_known"]
    amt, rate = app["amount"], app["annual_rate"]
    checks = {
        "purpose_allowed": app["purpose"] not in p["purposes"],
        "amount_within_limits": not p["min_amount"] <= amt <= p["max_amount"]
        or exp["total"] > reg["max_borrower_exposure"],
        "term_within_limits": not p["min_term"] <= app["term_months"] <= p["max_term"],
        "rate_within_limits": not p["min_rate"] - 1e-12 <= rate <= p["max_rate"] + 1e-12
        or rate > reg["max_annual_rate"],
    }  # fmt: skip
    return [k for k, failed in checks.items() if failed]


def peer_admission(apps, customers, exposure, rows) -> dict:
    pol = load_policy()
    cust = customers.drop_duplicates("borrower_id").set_index("borrower_id")
    batch = apps.groupby("borrower_id")["amount"].sum()  # requests in the whole batch
    out = {}
    for i in rows:
        a = apps.iloc[i].to_dict()
        c = cust.loc[a["borrower_id"]].to_dict()
        e = exposure.loc[a["borrower_id"]] if a["borrower_id"] in exposure.index else None
        owed = 0.0 if e is None else float(e["outstanding"])
        exp = {"dpd": 0 if e is None else int(e["days_past_due"]),
               "total": owed + float(batch[a["borrower_id"]])}  # fmt: skip
        out[a["application_id"]] = reference_failed(a, c, exp, pol)
    return out


def bench_admission(n_apps: int, n_peer: int) -> None:
    (apps, customers, exposure, grades), t_setup = _t(admission_inputs, n_apps)
    print(f"admission + route: {len(apps):,} applications, {len(customers):,} customers "
          f"(setup {t_setup:.1f} s)")  # fmt: skip
    riskkit_admission_route(apps.head(200), customers, exposure, grades[:200])  # warm up
    runs = [_t(riskkit_admission_route, apps, customers, exposure, grades) for _ in range(3)]
    (adm, route), _ = runs[0]
    best = min(t for _, t in runs)
    rows = np.random.default_rng(1).choice(len(apps), min(n_peer, len(apps)), replace=False)
    peer, t_peer = _t(peer_admission, apps, customers, exposure, rows)
    for app_id, codes in peer.items():
        got = [c for c in adm.table.at[app_id, "failed"].split(",") if c]
        if got != codes:
            raise SystemExit(f"peers disagree on {app_id}: riskkit {got}, peer {codes}")
    full_peer = t_peer / len(rows) * len(apps)
    print(f"  riskkit  {best:7.3f} s  (target < 2 s; best of 3)")
    print(f"  peer     {full_peer:7.1f} s  extrapolated from {len(rows):,} ({t_peer:.2f} s); "
          f"agree on every sampled application")  # fmt: skip
    print(f"  ratio    {full_peer / best:7.0f}x")
    print("  admissions failed by rule:",
          adm.by_rule()["failed"][lambda s: s > 0].to_dict())  # fmt: skip
    print("  route:", route.counts().to_dict())


# --- 2. group exposure ------------------------------------------------------------------------


def group_book(n: int, seed: int = 0):
    """The realistic book of ``n`` loans (:mod:`benchmarks.books`: the sample generator's
    book copied with distinct string ids, every table, its joint-guarantee groups of three
    households), classified at the month-end."""
    from benchmarks.books import realistic_book
    from riskkit.classification import Classifier

    book = realistic_book(n, 36, seed)
    result, t_cls = _t(Classifier().classify, book, AS_OF)
    return book, result, t_cls


def riskkit_groups(book, result):
    from riskkit.lending import group_exposure, guarantor_liability_signals

    exp = group_exposure(book.loans, book.guarantors, result=result)
    sig = guarantor_liability_signals(book.loans, book.guarantors, result)
    return exp, sig


def peer_groups(book, result, groups) -> dict:
    """Per group, in plain Python: households, exposure, limit, members at risk."""
    pol = load_policy()
    lim, g = pol["limits"], pol["groups"]
    f = result.table
    gu = book.guarantors[book.guarantors["group_id"].isin(groups)]
    bor = book.loans.set_index("loan_id")["borrower_id"]
    out = {}
    for gid, rows in gu.groupby("group_id"):
        loans = set(rows["loan_id"])
        live = [lo for lo in loans if f.at[lo, "outstanding_principal"] > 0]
        people = {bor[lo] for lo in live} | set(
            rows.loc[rows["loan_id"].isin(live), "guarantor_id"]
        )
        hh = len(people)
        limit = (min(hh * lim["joint_per_member"], g["max_exposure"])
                 if hh >= lim["joint_min_households"] else lim["guaranteed"])  # fmt: skip
        exposure = sum(f.at[lo, "outstanding_principal"] for lo in live)
        risky = sum(f.at[lo, "category"] != "normal" for lo in live)
        out[gid] = (hh, round(exposure, 2), float(limit), risky)
    return out


def bench_groups(n: int, n_peer_groups: int) -> None:
    (book, result, t_cls), t_setup = _t(group_book, n)
    print(f"\ngroup exposure: {n:,} loans, {book.guarantors['group_id'].nunique():,} joint "
          f"groups (book {t_setup - t_cls:.1f} s; month-end classification {t_cls:.2f} s, "
          "not part of the group view)")  # fmt: skip
    runs = [_t(riskkit_groups, book, result) for _ in range(3)]
    (exp, sig), _ = runs[0]
    best = min(t for _, t in runs)
    ids = exp.table.index.to_numpy()
    pick = np.random.default_rng(2).choice(ids, min(n_peer_groups, len(ids)), replace=False)
    peer, t_peer = _t(peer_groups, book, result, set(pick))
    t = exp.table
    for gid, (hh, e, limit, risky) in peer.items():
        got = (int(t.at[gid, "households"]), round(float(t.at[gid, "outstanding"]), 2),
               float(t.at[gid, "group_limit"]), int(t.at[gid, "members_at_risk"]))  # fmt: skip
        if got != (hh, e, limit, risky):
            raise SystemExit(
                f"peers disagree on {gid}: riskkit {got}, peer {(hh, e, limit, risky)}"
            )
    full_peer = t_peer / len(pick) * len(ids)
    print(f"  riskkit  {best:7.3f} s  (target < 5 s; exposure + liability signals, best of 3)")
    print(f"  peer     {full_peer:7.1f} s  extrapolated from {len(pick):,} groups "
          f"({t_peer:.2f} s); agree on every sampled group")  # fmt: skip
    print(f"  ratio    {full_peer / best:7.0f}x")
    print(f"  groups over limit: {int(t['over_limit'].sum()):,}; with a member at special "
          f"mention or worse: {int((t['members_at_risk'] > 0).sum()):,}; guarantor-liability "
          f"signals: {len(sig):,}")  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes")
    args = ap.parse_args(argv)
    if args.quick:
        bench_admission(10_000, 1_000)
        bench_groups(100_000, 1_000)
    else:
        bench_admission(100_000, 3_000)
        bench_groups(1_000_000, 3_000)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
