"""Assembly of the provisioning report (拨备与预期信用损失报告) from riskkit's packages.

No rule lives here: the classification history comes from
:func:`riskkit.reports.migration_report.classification_history` (with the write-off register),
realised LGD from :func:`riskkit.workout.realised_lgd`, the expected credit loss from
:class:`riskkit.provisions.ECLModel` (fitted on the last ``history_months`` month-ends), its
movement from :func:`riskkit.provisions.ecl_movement`, adequacy against the floors from
:func:`riskkit.provisions.provisioning_adequacy`. This module gathers tables and key figures,
and the month's write-offs (register) and recoveries (payments on loans that were
non-performing or written off at the month-end before, by who paid).

Examples
--------
>>> from riskkit.reports.provisioning_report import provisioning   # doctest: +SKIP
>>> rep = provisioning(store.load_book(), "2026-10-31", store=store)  # doctest: +SKIP
>>> rep.metrics["ecl_total"]                                        # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..categories import Category
from ..policy import load_policy
from ..results import ReportMetrics, ReportResult

_NPL = [c.code for c in Category if c.is_npl]


@dataclass
class ProvisioningMetrics(ReportMetrics):
    """Key figures of the provisioning report (``metrics.json``)."""

    as_of: pd.Timestamp
    previous_as_of: pd.Timestamp
    n_loans: int
    ead_total: float
    ecl_total: float
    ecl_sum_of_loans: float
    ecl_stage_1: float
    ecl_stage_2: float
    ecl_stage_3: float
    ead_stage_1: float
    ead_stage_2: float
    ead_stage_3: float
    loans_stage_1: int
    loans_stage_2: int
    loans_stage_3: int
    coverage_stage_1: float | None
    coverage_stage_2: float | None
    coverage_stage_3: float | None
    horizon_months: int
    ecl_by_scenario: dict[str, float]
    scenario_weights: dict[str, float]
    stage_reasons: dict[str, int]
    #: the allowance's movement since the month before, by row (total of the stages)
    movement: dict[str, float]
    movement_transfers_sum: float
    prepayment_monthly: dict[str, float]
    lgd_used: dict[str, float]
    lgd_source: dict[str, str]
    lgd_resolved: dict[str, int]
    lgd_realised: dict[str, float]
    lgd_ci: dict[str, list[float]]
    lgd_min_resolved: int
    defaults_observed: int
    defaults_unresolved: int
    category_provisions: float
    provisions_held: float
    npl_balance: float
    loans_balance: float
    provision_coverage_ratio: float
    provision_coverage_floor: float
    loan_provision_ratio: float
    loan_provision_ratio_floor: float
    regulatory_minimum: float
    provisions_required: float
    shortfall: float
    binding_requirement: str
    adequacy_flags: list[str]
    branches_short: list[str]
    write_offs_month: int
    write_offs_month_amount: float
    write_offs_total: int
    write_offs_total_amount: float
    recoveries_month: float
    recoveries_after_write_off_month: float
    repayments_month: float
    #: the stage-2 PD test: "champion" (each normal loan's PD from the approved champion at
    #: origination and now) or "inactive" (no champion: the segment term structures cannot
    #: move a normal loan, so only days past due and special mention put loans in stage 2)
    sicr_pd_test: str = "inactive"
    sicr_model: str | None = None
    stage2_pd_increase: int = 0
    #: how open workouts enter the LGD (policy workout.open_workouts)
    lgd_open_method: str = "recovery_curve"
    lgd_resolved_only: dict[str, float] = field(default_factory=dict)
    lgd_loss_to_date: dict[str, float] = field(default_factory=dict)
    #: loss loans at the policy LGD floor (ecl.lgd_floor.loss)
    lgd_floor_loss: float = 1.0
    #: a normal loan's 12-month PD, all segments pooled: conditional on staying on the book
    #: (weighted scenarios, the ECL's definition) and with repayment as a competing exit
    #: (average year, the migration report's definition)
    pd_12m_normal_conditional: float = 0.0
    pd_12m_normal_with_exits: float = 0.0
    loss_loans: int = 0
    loss_ead: float = 0.0
    loss_ecl: float = 0.0


@dataclass(repr=False, eq=False)
class ProvisioningReport(ReportResult):
    """Tables and key figures of the provisioning report (see :func:`provisioning`);
    ``table`` is the expected credit loss by stage."""

    as_of: pd.Timestamp
    previous_as_of: pd.Timestamp
    table: pd.DataFrame  # ECL by stage
    ecl: object  # ECLResult
    previous_ecl: object
    movement: object  # ECLMovement
    adequacy: object  # AdequacyResult, book level
    adequacy_by_branch: object
    lgd: object  # LGDResult
    model: object  # ECLModel
    write_offs: pd.DataFrame  # register entries of the month
    recoveries: pd.DataFrame  # cash received in the month by kind of loan and source
    pd_term: pd.DataFrame  # cumulative PD by segment and state (weighted scenarios)
    metrics: ProvisioningMetrics
    sicr_model: str | None = None  # the champion whose PDs the stage-2 PD test compares


def _history_months(book, as_of) -> int:
    first = book.loans["disbursement_date"].min()
    end = pd.Timestamp(as_of)
    return int(max(1, (end.year - first.year) * 12 + end.month - first.month))


def _month_cash(book, history: pd.DataFrame, prev, as_of) -> pd.DataFrame:
    """Cash received in (prev, as_of]: on loans performing at ``prev`` (repayments), on loans
    non-performing then (recoveries) and on loans written off by then (recoveries after
    write-off), by source."""
    h = history[history["as_of"] == pd.Timestamp(prev)].set_index("loan_id")
    wo = h["written_off"] if "written_off" in h else pd.Series(False, index=h.index)
    kind = pd.Series(
        np.where(
            wo,
            "after_write_off",
            np.where(h["category"].astype(str).isin(_NPL), "recovery", "repayment"),
        ),
        index=h.index,
    )
    p = book.payments
    p = p[(p["payment_date"] > pd.Timestamp(prev)) & (p["payment_date"] <= pd.Timestamp(as_of))]
    k = p["loan_id"].astype(object).map(kind).fillna("repayment")  # new loans: repayments
    src = p["source"].astype(object).fillna("borrower") if "source" in p else "borrower"
    out = p.assign(kind=k.to_numpy(), source=src).groupby(["kind", "source"])["amount"]
    t = out.agg(payments="size", amount="sum")
    return t.reindex(
        pd.MultiIndex.from_product(
            [
                ["repayment", "recovery", "after_write_off"],
                sorted(set(t.index.get_level_values(1))),
            ],
            names=["kind", "source"],
        ),
        fill_value=0,
    )


def _pd_term(model) -> pd.DataFrame:
    """Cumulative PD by segment and performing state, weighted over the ECL scenarios."""
    q = model.marginal_pd_
    w = {s.name: s.weight for s in model.scenarios_}
    weighted = sum(w[name] * q.loc[name] for name in w)
    return weighted.cumsum(axis=1)


def provisioning(
    book,
    as_of,
    store=None,
    policy=None,
    history_months: int = 12,
    lgd_history_months: int | None = None,
    horizon_months: int | None = None,
    provisions_held: float | None = None,
) -> ProvisioningReport:
    """Everything the provisioning report shows.

    Parameters
    ----------
    book : LoanBook
    as_of : date-like
        Month-end of the report; the movement is against the month-end before.
    store : riskkit.store.Store, optional
        Write-off register (and overrides, manual signals).
    policy : Policy, mapping or path, optional
    history_months : int
        Monthly steps of classification history the ECL matrices are estimated from.
    lgd_history_months : int, optional
        Months of history searched for defaults and their workouts (default: the book's life).
    horizon_months : int, optional
        Lifetime horizon (default policy ``ecl.horizon_months``).
    provisions_held : float, optional
        Loan-loss provisions booked (default: the category-based provisions).
    """
    from ..provisions import ECLModel, ecl_movement, provisioning_adequacy
    from ..workout import WriteOffRegister, realised_lgd
    from .migration_report import classification_history
    from .post_loan import champion_or_none, month_end_classification, on_balance_sheet

    pol = load_policy(policy)
    as_of = pd.Timestamp(as_of).normalize()
    prev = (as_of - pd.offsets.MonthEnd(1)).normalize()
    months = lgd_history_months or _history_months(book, as_of)
    hist = classification_history(book, as_of, max(months, history_months + 1), pol, store)
    lgd = realised_lgd(book, hist, as_of, pol)
    recent = hist[hist["as_of"] >= as_of - pd.offsets.MonthEnd(history_months)]
    model = ECLModel(horizon_months=horizon_months, policy=pol).fit(recent, book)
    res, b_now = month_end_classification(book, as_of, pol, store)
    res_prev, b_prev = month_end_classification(book, prev, pol, store)
    card, label = champion_or_none(store) if store is not None else (None, None)
    ecl = model.measure(b_now, res, lgd, loan_pd=champion_pd(b_now, res, card, store, pol))
    ecl_prev = model.measure(
        b_prev, res_prev, lgd, loan_pd=champion_pd(b_prev, res_prev, card, store, pol)
    )
    reg = WriteOffRegister(store).load() if store is not None else None
    month_wo = _month_write_offs(reg, prev, as_of)
    mv = ecl_movement(ecl_prev, ecl, written_off=month_wo["loan_id"])
    live = res.table[on_balance_sheet(res.table)]
    adequacy = provisioning_adequacy(live, ecl, held=provisions_held, policy=pol)
    by_branch = provisioning_adequacy(
        live, ecl, held=_held_by_branch(live, provisions_held, adequacy), by="branch", policy=pol
    )
    cash = _month_cash(book, hist, prev, as_of)
    parts = dict(
        as_of=as_of,
        previous_as_of=prev,
        table=ecl.table,
        ecl=ecl,
        previous_ecl=ecl_prev,
        movement=mv,
        adequacy=adequacy,
        adequacy_by_branch=by_branch,
        lgd=lgd,
        model=model,
        write_offs=month_wo,
        recoveries=cash,
        pd_term=_pd_term(model),
    )
    metrics = replace(
        _metrics(parts, reg),
        **_sicr_and_floor_metrics(ecl, lgd, label, pol),
        **_pd_definitions(model, parts["pd_term"]),
    )
    return ProvisioningReport(**parts, metrics=metrics, sicr_model=label)


def champion_pd(book, result, card, store, policy) -> pd.DataFrame | None:
    """The approved champion's PD of each live normal loan at its application and now
    (:func:`riskkit.inspection.rereview.rescore_loans`), for the stage-2 PD test; None
    without a champion."""
    if card is None:
        return None
    from ..inspection.rereview import rescore_loans

    f = result.table
    live = ~f["paid_off"].to_numpy(dtype=bool) & (f["outstanding_principal"].to_numpy() > 0)
    if "written_off" in f.columns:
        live &= ~f["written_off"].to_numpy(dtype=bool)
    ids = f.index[live & (f["category"].astype(str) == "normal").to_numpy()]
    if not len(ids):
        return None
    r = rescore_loans(book, ids, result.as_of, card, result=result, store=store, policy=policy)
    return r[["pd_then", "pd_now"]]


def _pd_definitions(model, pd_term: pd.DataFrame) -> dict:
    """A normal loan's 12-month PD on both definitions, all segments pooled."""
    from ..provisions.ecl import POOLED

    pooled = model.matrices_[POOLED]
    with_exits = pooled.lifetime_pd(12).loc["normal"].iloc[-1]
    conditional = pd_term.loc[(POOLED, "normal")].get(12, np.nan)
    return {
        "pd_12m_normal_conditional": float(conditional),
        "pd_12m_normal_with_exits": float(with_exits),
    }


def _sicr_and_floor_metrics(ecl, lgd, label, pol) -> dict:
    loans, t = ecl.loans, lgd.table
    loss = (loans["category"].astype(str) == "loss").to_numpy()
    return {
        "sicr_pd_test": "champion" if label is not None else "inactive",
        "sicr_model": label,
        "stage2_pd_increase": int((loans["stage_reason"] == "pd_increase").sum()),
        "lgd_open_method": str(pol["workout"]["open_workouts"]),
        "lgd_resolved_only": {k: float(v) for k, v in t["lgd_resolved"].items() if pd.notna(v)},
        "lgd_loss_to_date": {k: float(v) for k, v in t["lgd_incl_open"].items() if pd.notna(v)},
        "lgd_floor_loss": float(pol["ecl"]["lgd_floor"]["loss"]),
        "loss_loans": int(loss.sum()),
        "loss_ead": float(loans.loc[loss, "ead"].sum()),
        "loss_ecl": float(loans.loc[loss, "ecl"].sum()),
    }


def _held_by_branch(live: pd.DataFrame, held, adequacy):
    """Provisions held by branch: the category provisions, or a booked total spread over the
    branches in proportion to their category provisions."""
    if held is None:
        return None
    from ..provisions import provisions as category_provisions

    cat = category_provisions(live, by="branch").table["provisions"]
    return (cat / cat.sum() * float(held)).rename_axis("branch")


def _month_write_offs(reg, prev, as_of) -> pd.DataFrame:
    cols = ["write_off_id", "loan_id", "write_off_date", "principal", "interest", "amount"]
    cols += ["rule", "approver_role", "approver", "reason"]
    if reg is None or len(reg) == 0:
        return pd.DataFrame(columns=cols)
    d = reg["write_off_date"]
    return reg[(d > pd.Timestamp(prev)) & (d <= pd.Timestamp(as_of))][cols].reset_index(drop=True)


def _metrics(parts: dict, reg) -> ProvisioningMetrics:
    from types import SimpleNamespace

    r = SimpleNamespace(**parts)
    t, a = r.ecl.table, r.adequacy.total
    mv = r.movement.table
    lg = r.lgd.table
    cash = r.recoveries["amount"]
    out = {
        "as_of": r.as_of,
        "previous_as_of": r.previous_as_of,
        "n_loans": int(t.loc["total", "loans"]),
        "ead_total": float(t.loc["total", "ead"]),
        "ecl_total": float(r.ecl.total),
        "ecl_sum_of_loans": float(r.ecl.loans["ecl"].sum()),
        "horizon_months": int(r.ecl.horizon_months),
        "ecl_by_scenario": {k: float(v) for k, v in r.ecl.scenarios["ecl"].items()},
        "scenario_weights": {k: float(v) for k, v in r.ecl.scenarios["weight"].items()},
        "stage_reasons": {k: int(v) for k, v in r.ecl.loans["stage_reason"].value_counts().items()},
        "movement": {row: float(mv.loc[row, "total"]) for row in mv.index},
        "movement_transfers_sum": float(mv.loc[mv.index.str.startswith("transfer"), "total"].sum()),
        "prepayment_monthly": {k: float(v) for k, v in r.model.prepayment_.items()},
        "lgd_used": {k: float(v) for k, v in lg["lgd_used"].items()},
        "lgd_source": {k: str(v) for k, v in lg["source"].items()},
        "lgd_resolved": {k: int(v) for k, v in lg["resolved"].items()},
        "lgd_realised": {k: float(v) for k, v in lg["lgd_mean"].items()},
        "lgd_ci": {k: [float(lg.at[k, "ci_lower"]), float(lg.at[k, "ci_upper"])] for k in lg.index},
        "lgd_min_resolved": int(r.lgd.min_resolved),
        "defaults_observed": int(len(r.lgd.loans)),
        "defaults_unresolved": int((r.lgd.loans["resolution"] == "unresolved").sum()),
        "category_provisions": float(a["category_provisions"]),
        "provisions_held": float(a["held"]),
        "npl_balance": float(a["npl_balance"]),
        "loans_balance": float(a["loans"]),
        "provision_coverage_ratio": float(a["coverage_ratio"]),
        "provision_coverage_floor": float(r.adequacy.coverage_floor),
        "loan_provision_ratio": float(a["loan_provision_ratio"]),
        "loan_provision_ratio_floor": float(r.adequacy.ratio_floor),
        "regulatory_minimum": float(a["regulatory_minimum"]),
        "provisions_required": float(a["required"]),
        "shortfall": float(a["shortfall"]),
        "binding_requirement": str(a["binding"]),
        "adequacy_flags": r.adequacy.flags(),
        "branches_short": [
            str(b)
            for b, v in r.adequacy_by_branch.table["shortfall"].drop("total").items()
            if v > 0
        ],
        "write_offs_month": int(len(r.write_offs)),
        "write_offs_month_amount": float(r.write_offs["amount"].sum())
        if len(r.write_offs)
        else 0.0,
        "write_offs_total": int(len(reg)) if reg is not None else 0,
        "write_offs_total_amount": float(reg["amount"].sum())
        if reg is not None and len(reg)
        else 0.0,
        "recoveries_month": float(cash.loc["recovery"].sum()),
        "recoveries_after_write_off_month": float(cash.loc["after_write_off"].sum()),
        "repayments_month": float(cash.loc["repayment"].sum()),
    }
    for s in (1, 2, 3):
        out[f"ecl_stage_{s}"] = float(t.loc[s, "ecl"])
        out[f"ead_stage_{s}"] = float(t.loc[s, "ead"])
        out[f"loans_stage_{s}"] = int(t.loc[s, "loans"])
        out[f"coverage_stage_{s}"] = float(t.loc[s, "coverage"]) if t.loc[s, "ead"] else None
    return ProvisioningMetrics(**out)
