"""Assembly of the post-loan review (贷后检查报告) from riskkit's packages.

No rule lives here: categories come from :class:`riskkit.classification.Classifier`,
provisions from :func:`riskkit.provisions.provisions`, inspections from
:func:`riskkit.inspection.inspection_plan` and the ledger, the watch list from
:func:`riskkit.inspection.watch_list`. This module only scopes (branch/officer), compares with
the month before and gathers tables and key figures for the notebook.

Examples
--------
>>> from riskkit.datasets import make_microloan_book        # doctest: +SKIP
>>> review = post_loan_review(make_microloan_book(500, seed=0), "2026-10-31")  # doctest: +SKIP
>>> review.metrics["npl_ratio"]                              # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..categories import Category
from ..deprecation import deprecated_alias
from ..errors import ProblemCollector
from ..privacy import mask_frame
from ..results import ReportMetrics, ReportResult


def month_end_classification(book, as_of, policy=None, store=None, detected_signals=False):
    """Classification of every loan disbursed by ``as_of`` with the book's signals and, with
    ``store``, manually recorded signals, overrides and the write-off register (loans written
    off by ``as_of`` are off the balance sheet); with ``detected_signals`` also the signals
    :func:`riskkit.inspection.detect_signals` derives from the data (income vs installments,
    collateral value, missed installments)."""
    from ..classification import Classifier
    from ..inspection import detect_signals, load_manual_signals
    from ..workout import load_write_offs

    as_of = pd.Timestamp(as_of)
    b = book.disbursed_by(as_of)
    extra = [detect_signals(b, as_of, policy)] if detected_signals else []
    if store is not None:
        manual = load_manual_signals(store)
        manual = manual[manual["loan_id"].isin(b.loans["loan_id"]).to_numpy(dtype=bool)]
        extra.append(manual)
    extra = [e for e in extra if len(e)]
    signals = pd.concat(extra, ignore_index=True) if extra else None
    write_offs = load_write_offs(store, as_of)
    res = Classifier(policy).classify(
        b, as_of, overrides=store, extra_signals=signals, write_offs=write_offs
    )
    return res, b


def on_balance_sheet(frame: pd.DataFrame) -> np.ndarray:
    """Loans of a classification table still on the balance sheet: not paid off, not written
    off."""
    gone = frame["paid_off"].to_numpy(dtype=bool).copy()
    if "written_off" in frame.columns:
        gone |= frame["written_off"].to_numpy(dtype=bool)
    return ~gone


def written_off(frame: pd.DataFrame) -> np.ndarray:
    """Loans of a classification table written off (the write-off register)."""
    if "written_off" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame["written_off"].to_numpy(dtype=bool)


def scope_ids(book, branch=None, officer=None) -> np.ndarray:
    """Loan ids of ``book`` in the branch/officer scope; unknown values are a clear error."""
    loans = book.loans
    errors = ProblemCollector("report scope")
    mask = np.ones(len(loans), dtype=bool)
    for col, value, param in (("branch", branch, "branch"), ("officer_id", officer, "officer")):
        if value is None:
            continue
        known = pd.unique(loans[col].astype(str))
        if value not in set(known):
            shown = ", ".join(sorted(known)[:20])
            errors.add(
                "parameters",
                param,
                f"{value!r} matches no loan's {col}; known values: {shown}"
                + (" (if it had leading zeros, quote it)" if value.isdigit() else ""),
            )
            continue
        mask &= (loans[col].astype(str) == value).to_numpy()
    errors.raise_if_any()
    if not mask.any():
        errors.add(
            "parameters",
            "branch/officer",
            f"no loan is in branch {branch!r} and managed by officer {officer!r}"
            if branch is not None and officer is not None
            else "no loan in scope",
        )
        errors.raise_if_any()
    return loans["loan_id"].to_numpy()[mask]


@dataclass
class ReviewMetrics(ReportMetrics):
    """Key figures of the post-loan review (``metrics.json``). Category counts and balances
    are of the loans still outstanding (as :meth:`ClassificationResult.summary` counts)."""

    as_of: pd.Timestamp
    previous_as_of: pd.Timestamp
    branch: str | None
    officer: str | None
    n_loans: int
    n_outstanding: int
    n_closed: int
    n_written_off: int
    balance: float
    npl_ratio: float
    npl_balance: float
    previous_npl_ratio: float
    provisions: float
    provisions_general: float
    provisions_specific: float
    coverage_ratio: float
    provision_coverage_floor: float
    loan_provision_ratio: float
    loan_provision_ratio_floor: float
    regulatory_minimum: float
    shortfall_vs_floors: float
    adequacy_flags: list[str]
    loans_by_category: dict[str, int]
    balance_by_category: dict[str, float]
    downgrades: int
    upgrades: int
    new_loans: int
    repaid_this_month: int
    recovered_this_month: int
    written_off_this_month: int
    inspections_planned: int
    inspections_done: int
    inspections_overdue: int
    inspections_due_next_month: int
    watch_list: int
    watch_list_severe: int
    joint_groups: int = 0
    joint_groups_over_limit: int = 0
    joint_groups_single_guarantee: int = 0
    joint_groups_member_at_risk: int = 0
    joint_group_exposure: float = 0.0
    loans_guarantor_liability: int = 0
    rereview_due: int = 0
    rereview_by_reason: dict[str, int] = field(default_factory=dict)
    rereview_actions: dict[str, int] = field(default_factory=dict)
    rereview_model: str | None = None


@dataclass(repr=False, eq=False)
class PostLoanReview(ReportResult):
    """Tables and key figures of a post-loan review (see :func:`post_loan_review`); ``table``
    is the five-category summary of the loans still outstanding."""

    as_of: pd.Timestamp
    previous_as_of: pd.Timestamp
    scope: dict
    result: object  # ClassificationResult restricted to the scope (paid-off loans included)
    table: pd.DataFrame  # five categories of the loans still outstanding
    changes: pd.DataFrame
    migration: pd.DataFrame
    provisions: object
    adequacy: object  # AdequacyResult against the regulator's floors
    provisions_by_branch: pd.DataFrame
    provisions_by_product: pd.DataFrame
    inspections_month: pd.DataFrame
    inspections_next: pd.DataFrame
    compliance: pd.DataFrame
    watch: pd.DataFrame
    appendix: pd.DataFrame
    groups: pd.DataFrame  # joint-guarantee groups with a loan in scope
    group_members: pd.DataFrame  # member loans of the groups with a member at risk
    rereview: pd.DataFrame  # customers due for periodic re-review
    rereview_model: str | None
    metrics: ReviewMetrics

    #: Deprecated name of :attr:`table` (riskkit 0.1).
    summary = deprecated_alias("table")

    def __repr__(self) -> str:
        m = self.metrics
        return (
            f"PostLoanReview(as_of={self.as_of.date()}, loans={m['n_loans']:,}, "
            f"npl_ratio={m['npl_ratio']:.2%}, provisions={m['provisions']:,.2f}, "
            f"overdue_inspections={m['inspections_overdue']:,}, watch={m['watch_list']:,})"
        )


def _restrict(result, ids):
    from ..classification import ClassificationResult

    f = result.table
    return ClassificationResult(f[f.index.isin(ids)], as_of=result.as_of, policy=result.policy)


def post_loan_review(
    book,
    as_of,
    branch: str | None = None,
    officer: str | None = None,
    policy=None,
    store=None,
    appendix_rows: int | None = None,
    detected_signals: bool = False,
) -> PostLoanReview:
    """Everything the post-loan review shows, for the whole book or a branch/officer.

    Parameters
    ----------
    book : LoanBook
    as_of : date-like
        Month-end of the review; the comparison month is the month-end before.
    branch, officer : str, optional
        Scope (``loans.branch``, ``loans.officer_id``); loans are classified on the whole book
        (borrower consistency spans branches) and then restricted.
    policy : Policy, mapping or path, optional
    store : riskkit.store.Store, optional
        Source of overrides, manual signals and the inspection ledger.
    appendix_rows : int, optional
        Rows of the loan appendix (default all).
    detected_signals : bool, default False
        Let signals detected from the data adjust categories (see
        :func:`month_end_classification`); the watch list always shows them.

    Returns
    -------
    PostLoanReview
    """
    from ..inspection import inspection_plan, load_ledger, watch_list
    from ..policy import load_policy
    from ..provisions import provisioning_adequacy, provisions

    policy = load_policy(policy)
    as_of = pd.Timestamp(as_of).normalize()
    prev = (as_of - pd.offsets.MonthEnd(1)).normalize()
    ids = scope_ids(book.disbursed_by(as_of), branch, officer)

    result_all, b_now = month_end_classification(book, as_of, policy, store, detected_signals)
    result = _restrict(result_all, ids)
    prev_all, b_prev = month_end_classification(book, prev, policy, store, detected_signals)
    prev_res = _restrict(prev_all, ids)

    from ..classification import compare, migration_matrix

    # paid-off loans are exits ("repaid"), never upgrades
    changes = compare(prev_res.table, result.table)
    migration = migration_matrix(changes, "loans")

    # Loans repaid in full by ``as_of`` keep the category normal (rule ``paid_off``) in the
    # classification but are no longer on the book, nor are loans written off: category counts,
    # shares and the loan counts of the provision tables are on outstanding loans only
    # (balances are unaffected: zero).
    live = on_balance_sheet(result.table)
    outstanding = _restrict(result, result.table.index[live])
    prov = provisions(outstanding, policy=policy)
    adequacy = provisioning_adequacy(outstanding, ecl=0.0, policy=policy)
    prov_branch = provisions(outstanding, by="branch", policy=policy).table
    prov_product = provisions(outstanding, by="product", policy=policy).table

    ledger = load_ledger(store) if store is not None else load_ledger_empty()
    month_start = as_of.replace(day=1)
    scoped_now = b_now.subset(ids)
    plan = inspection_plan(
        scoped_now,
        month_start,
        as_of,
        result=_restrict(prev_all, ids),
        policy=policy,
        store=store,
    )
    status = plan.status(ledger, as_of + pd.Timedelta(days=1))
    nxt_start = as_of + pd.Timedelta(days=1)
    plan_next = inspection_plan(
        scoped_now, nxt_start, None, result=result, policy=policy, store=store
    )
    compliance = plan.compliance(ledger, as_of + pd.Timedelta(days=1), by="officer_id")

    watch = watch_list(scoped_now, as_of, result=result, policy=policy, store=store)
    groups, members = group_view(b_now, result_all, ids, policy)
    rereview, model_label = rereview_view(b_now, result_all, ids, store, policy)

    app = loan_appendix(result, book.borrowers, appendix_rows)

    summary = result.summary()  # the outstanding loans, as ``outstanding.summary()``
    metrics = _review_metrics(
        result, prev_res, summary, (prov, adequacy), changes, status, plan_next, watch,
        scope=(as_of, prev, branch, officer),
    )  # fmt: skip
    metrics = replace(
        metrics, **group_metrics(groups, watch), **rereview_metrics(rereview, model_label)
    )
    return PostLoanReview(
        as_of=as_of,
        previous_as_of=prev,
        scope={"branch": branch, "officer": officer},
        result=result,
        table=summary,
        changes=changes,
        migration=migration,
        provisions=prov,
        adequacy=adequacy,
        provisions_by_branch=prov_branch,
        provisions_by_product=prov_product,
        inspections_month=status,
        inspections_next=plan_next.table,
        compliance=compliance,
        watch=watch,
        appendix=app,
        groups=groups,
        group_members=members,
        rereview=rereview,
        rereview_model=model_label,
        metrics=metrics,
    )


def loan_appendix(result, borrowers: pd.DataFrame, rows: int | None = None) -> pd.DataFrame:
    """The review's loan appendix: outstanding loans, worst category and largest balance
    first, with the borrower's masked name, ID number and phone next to the borrower id."""
    f = result.table
    cols = [
        "borrower_id",
        "branch",
        "officer_id",
        "product",
        "guarantee_type",
        "category",
        "outstanding_principal",
        "missed_periods",
        "days_past_due",
        "rules",
    ]
    app = f[[c for c in cols if c in f.columns]].copy()
    app["category"] = app["category"].astype(str)
    app["rules"] = app["rules"].astype(str)
    if len(borrowers):
        pii = [c for c in ("name", "id_number", "phone") if c in borrowers.columns]
        who = borrowers.set_index("borrower_id")[pii]
        app = app.join(who, on="borrower_id")
        # masked name / ID / phone next to the borrower, the (wrapping) rules last
        front = ["borrower_id", *pii]
        app = app[front + [c for c in app.columns if c not in front]]
    app = mask_frame(app)
    app = app[on_balance_sheet(f)]
    app = app.assign(_c=f["category"].cat.codes.reindex(app.index))
    app = app.sort_values(
        ["_c", "outstanding_principal"], ascending=[False, False], kind="stable"
    ).drop(columns="_c")
    return app if rows is None else app.head(rows)


def _review_metrics(
    result, prev_res, summary, provision, changes, status, plan_next, watch, *, scope: tuple
) -> ReviewMetrics:
    """The review's key figures from its tables; ``provision``: (category provisions,
    adequacy against the floors); ``scope``: (as-of date, previous month-end, branch,
    officer)."""
    as_of, prev, branch, officer = scope
    prov, adequacy = provision
    f = result.table
    live = on_balance_sheet(f)
    gone = written_off(f)
    tot = prov.total()
    counts = changes["change"].value_counts()
    st_counts = status["status"].value_counts()
    return ReviewMetrics(
        as_of=as_of,
        previous_as_of=prev,
        branch=branch,
        officer=officer,
        n_loans=int(len(f)),
        n_outstanding=int(live.sum()),
        n_closed=int((~live & ~gone).sum()),
        n_written_off=int(gone.sum()),
        balance=float(f["outstanding_principal"].sum()),
        npl_ratio=float(result.npl_ratio),
        npl_balance=float(tot["npl_balance"]),
        previous_npl_ratio=float(prev_res.npl_ratio),
        provisions=float(tot["provisions"]),
        provisions_general=float(tot["general"]),
        provisions_specific=float(tot["specific"]),
        coverage_ratio=float(tot["coverage_ratio"]),
        # adequacy against the regulator's floors (the ECL is in the provisioning report)
        provision_coverage_floor=float(adequacy.coverage_floor),
        loan_provision_ratio=float(adequacy.total["loan_provision_ratio"]),
        loan_provision_ratio_floor=float(adequacy.ratio_floor),
        regulatory_minimum=float(adequacy.total["regulatory_minimum"]),
        shortfall_vs_floors=float(adequacy.shortfall),
        adequacy_flags=adequacy.flags(),
        loans_by_category={c: int(summary.at[c, "loans"]) for c in Category.codes()},
        balance_by_category={c: float(summary.at[c, "balance"]) for c in Category.codes()},
        downgrades=int(counts.get("downgrade", 0)),
        upgrades=int(counts.get("upgrade", 0)),
        new_loans=int(counts.get("new", 0)),
        repaid_this_month=int(counts.get("repaid", 0)),
        recovered_this_month=int(counts.get("recovered", 0)),
        written_off_this_month=int(counts.get("written_off", 0)),
        inspections_planned=int(len(status)),
        inspections_done=int(st_counts.get("done", 0) + st_counts.get("late", 0)),
        inspections_overdue=int(st_counts.get("overdue", 0)),
        inspections_due_next_month=int(len(plan_next)),
        watch_list=int(len(watch)),
        watch_list_severe=int(watch["severe"].sum()) if len(watch) else 0,
    )


def rereview_view(book, result, ids, store=None, policy=None):
    """Customers with a loan in scope due for periodic re-review
    (:func:`riskkit.inspection.rereview.rereview_list`), re-scored with the store's approved
    champion when there is one; returns the table and the model's label (None without)."""
    from ..errors import ValidationError
    from ..inspection.rereview import rereview_list
    from ..lending.scoring import champion_scorecard

    model, label = None, None
    if store is not None:
        try:
            model, label = champion_scorecard(store)
        except ValidationError:
            pass
    r = rereview_list(book, result.as_of, result=result, store=store, model=model,
                      label=label, policy=policy)  # fmt: skip
    scoped = book.loans.loc[book.loans["loan_id"].isin(ids), "borrower_id"]
    return r.table[r.table.index.isin(pd.unique(scoped))], label


def rereview_metrics(table: pd.DataFrame, label) -> dict:
    """Key figures of the re-review list for ``metrics.json``."""
    reasons = table["reasons"].str.split(",").explode() if len(table) else pd.Series([])
    return {
        "rereview_due": int(len(table)),
        "rereview_by_reason": {
            r: int((reasons == r).sum()) for r in ("time", "signal", "category", "score_drift")
        },  # fmt: skip
        "rereview_actions": {k: int(v) for k, v in table["action"].value_counts().items()}
        if len(table)
        else {},  # fmt: skip
        "rereview_model": label,
    }


def group_view(book, result, ids, policy=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Joint-guarantee groups with a loan in scope (``ids``): exposure against the limit and the
    worst category (:func:`riskkit.book.groups.group_exposure`), groups with a member at
    special mention or worse first; and those groups' member loans."""
    from ..book.groups import group_exposure

    exp = group_exposure(book.loans, book.guarantors, result=result, policy=policy)
    members = exp.members[exp.members["loan_id"].isin(ids).to_numpy(dtype=bool)]
    t = exp.table.loc[exp.table.index.isin(pd.unique(members["group_id"]))]
    t = t[t["loans"] > 0]
    if len(t):
        rank = t["worst_category"].map(lambda c: int(Category.parse(c)) if c else -1)
        t = (
            t.assign(_r=rank)
            .sort_values(["members_at_risk", "_r", "exposure"], ascending=False, kind="stable")
            .drop(columns="_r")
        )
    at_risk = t.index[t["members_at_risk"] > 0] if len(t) else []
    m = exp.members[exp.members["group_id"].isin(at_risk).to_numpy(dtype=bool)]
    m = m[m["outstanding"] > 0][["group_id", "loan_id", "borrower_id", "outstanding", "category"]]
    return t, m.reset_index(drop=True)


def group_metrics(groups: pd.DataFrame, watch: pd.DataFrame) -> dict:
    """Key figures of the group view for ``metrics.json``."""
    liable = watch["signals"].str.contains("guarantor_liability") if len(watch) else []
    n = len(groups)
    return {
        "joint_groups": int(n),
        "joint_groups_over_limit": int(groups["over_limit"].sum()) if n else 0,
        "joint_groups_single_guarantee": int((groups["structure"] != "joint").sum()) if n else 0,
        "joint_groups_member_at_risk": int((groups["members_at_risk"] > 0).sum()) if n else 0,
        "joint_group_exposure": float(groups["exposure"].sum()) if n else 0.0,
        "loans_guarantor_liability": int(np.sum(liable)),
    }


def load_ledger_empty() -> pd.DataFrame:
    from ..inspection import load_ledger
    from ..store import Store

    return load_ledger(Store("sqlite://"))
