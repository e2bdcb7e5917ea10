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
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..book.keys import isin_values
from ..categories import Category
from ..classification.classifier import category_summary
from ..deprecation import deprecated_alias
from ..errors import ProblemCollector
from ..privacy import mask_frame
from ..results import ReportMetrics, ReportResult

if TYPE_CHECKING:
    from ..book.loanbook import LoanBook
    from ..classification import ClassificationResult
    from ..provisions import ProvisionReport


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
        manual = manual[isin_values(manual["loan_id"], b.loans["loan_id"])]
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


def month_end_history(book, dates, policy=None, store=None, columns=None) -> pd.DataFrame:
    """:func:`month_end_classification` at each of ``dates`` (without detected signals),
    stacked, computed in one pass over the loan-month panel
    (:meth:`riskkit.classification.Classifier.classify_history`)."""
    from ..classification import Classifier
    from ..inspection import load_manual_signals
    from ..workout import load_write_offs

    manual = load_manual_signals(store) if store is not None else None
    return Classifier(policy).classify_history(
        book,
        dates,
        overrides=store,
        extra_signals=manual,
        columns=columns,
        write_offs=load_write_offs(store),
    )


def scope_ids(book, branch=None, officer=None, strict: bool = True) -> np.ndarray:
    """Loan ids of ``book`` in the branch/officer scope; unknown values are a clear error
    (``strict=False``: no error, an empty scope; a partition need not hold every branch)."""
    loans = book.loans
    errors = ProblemCollector("report scope")
    mask = np.ones(len(loans), dtype=bool)
    for col, value, param in (("branch", branch, "branch"), ("officer_id", officer, "officer")):
        if value is None:
            continue
        known = pd.unique(loans[col].astype(str))
        if value not in set(known) and not strict:
            mask[:] = False
            continue
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
    if not mask.any() and strict:
        _no_loan_in_scope(errors, branch, officer)
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
    #: the NPL-ratio change since the month before, split (symmetric) into the part of the
    #: non-performing balance (numerator) and of the outstanding balance (denominator),
    #: :func:`riskkit.migration.projection.ratio_change`
    previous_npl_balance: float = 0.0
    previous_balance: float = 0.0
    npl_ratio_change: float = 0.0
    npl_change_numerator: float = 0.0
    npl_change_denominator: float = 0.0


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
    return ClassificationResult(
        f[isin_values(f.index, ids)], as_of=result.as_of, policy=result.policy
    )


def post_loan_review(
    book,
    as_of,
    branch: str | None = None,
    officer: str | None = None,
    policy=None,
    store=None,
    appendix_rows: int | None = None,
    detected_signals: bool = False,
    engine="pandas",
) -> PostLoanReview:
    """Everything the post-loan review shows, for the whole book or a branch/officer.

    Parameters
    ----------
    book : LoanBook or PartitionedBook
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
    engine : {"pandas", "dask"} or riskkit.engine.Engine
        ``"dask"``: every partition is reviewed in its own task (a partitioned book's
        buckets, or the book split by borrower) and the parts are combined; the figures are
        those of the pandas engine. ``result`` (the per-loan classification) then stays with
        the partitions (None).

    Returns
    -------
    PostLoanReview
    """
    from ..engine import TablesSnapshot, open_engine, partitions
    from ..inspection.plan import draw_threshold
    from ..policy import load_policy

    policy = load_policy(policy)
    as_of = pd.Timestamp(as_of).normalize()
    eng = open_engine(engine)
    with_store = store if not eng.is_dask else TablesSnapshot.of(store)
    model = champion_or_none(store)
    args = {"branch": branch, "officer": officer, "policy": policy, "detected": detected_signals}
    shared = eng.share(with_store)
    inputs = eng.map(_review_inputs, partitions(book, eng), as_of=as_of, store=shared, **args)
    keys = eng.map(_sample_keys, inputs)
    month_keys = eng.apply(lambda *k: draw_threshold([x[0] for x in k], policy), *keys)
    next_keys = eng.apply(lambda *k: draw_threshold([x[1] for x in k], policy), *keys)
    parts = eng.map(
        _review_part, inputs, th_month=month_keys, th_next=next_keys, rows=appendix_rows,
        model=eng.share(model),
    )  # fmt: skip
    whole = eng.compute(eng.reduce(parts, _combine_parts))
    if eng is not engine:
        eng.close()
    _check_scope(whole, branch, officer)
    review = _finish(whole, as_of, branch, officer, policy, appendix_rows, model[1])
    review.result = whole.result  # the pandas engine's one partition: every loan's result
    return review


@dataclass
class _Inputs:
    """One partition's classifications for the review (``ids``: loans in scope)."""

    book: LoanBook
    store: Any
    ids: np.ndarray
    result: ClassificationResult  # of the scope at as_of
    prev: ClassificationResult  # ... at the month-end before
    b_now: LoanBook  # the partition's loans disbursed by as_of
    known: dict  # branch / officer values present
    result_all: ClassificationResult  # every loan of the partition at as_of (groups, re-review)


def _review_inputs(part, as_of, branch, officer, policy, store, detected) -> _Inputs:
    from ..engine import TablesSnapshot, load

    book = load(part)
    if isinstance(store, TablesSnapshot):
        store = store.restricted(book.loans["loan_id"])
    prev = (as_of - pd.offsets.MonthEnd(1)).normalize()
    disbursed = book.disbursed_by(as_of)
    ids = scope_ids(disbursed, branch, officer, strict=False)
    result_all, b_now = month_end_classification(book, as_of, policy, store, detected)
    prev_all, _ = month_end_classification(book, prev, policy, store, detected)
    known = {c: set(disbursed.loans[c].astype(str).unique()) for c in ("branch", "officer_id")}
    return _Inputs(
        book, store, ids, _restrict(result_all, ids), _restrict(prev_all, ids), b_now, known,
        result_all,
    )  # fmt: skip


def _sample_keys(inp: _Inputs) -> tuple[np.ndarray, np.ndarray]:
    """The routine-sample keys of this partition for the month and for the next month."""
    from ..inspection.plan import sample_pool

    scoped = inp.b_now.subset(inp.ids)
    month_start = inp.result.as_of.replace(day=1)
    nxt = inp.result.as_of + pd.Timedelta(days=1)
    policy = inp.result.policy
    return (
        sample_pool(scoped, month_start, inp.prev, policy),
        sample_pool(scoped, nxt, inp.result, policy),
    )


@dataclass
class _Part:
    """The review of one partition (or of several, combined): per-loan tables to stack and
    the sums every figure is made of."""

    result: ClassificationResult | None
    sums: pd.Series
    summary: pd.DataFrame  # loans, balance by category (outstanding loans)
    changes: pd.DataFrame
    migration: pd.DataFrame
    provisions: ProvisionReport
    by_branch: ProvisionReport
    by_product: ProvisionReport
    status: pd.DataFrame
    plan_next: pd.DataFrame
    watch: pd.DataFrame
    appendix: pd.DataFrame
    known: dict
    groups: pd.DataFrame
    group_members: pd.DataFrame
    rereview: pd.DataFrame


def _review_part(
    inp: _Inputs, th_month: float, th_next: float, rows: int | None, model=(None, None)
) -> _Part:
    from ..classification import compare, migration_matrix
    from ..inspection import inspection_plan, load_ledger, watch_list
    from ..provisions import provisions

    result, prev_res, store = inp.result, inp.prev, inp.store
    policy = result.policy
    as_of = result.as_of
    # paid-off loans are exits ("repaid"), never upgrades
    changes = compare(prev_res.table, result.table)
    # Loans repaid in full by ``as_of`` keep the category normal (rule ``paid_off``) in the
    # classification but are no longer on the book, nor are loans written off: category counts,
    # shares and the loan counts of the provision tables are on outstanding loans only
    # (balances are unaffected: zero).
    live = on_balance_sheet(result.table)
    outstanding = _restrict(result, result.table.index[live])
    ledger = load_ledger(store) if store is not None else load_ledger_empty()
    scoped_now = inp.b_now.subset(inp.ids)
    plan = inspection_plan(
        scoped_now, as_of.replace(day=1), as_of, result=prev_res, policy=policy, store=store,
        sample_threshold=th_month,
    )  # fmt: skip
    plan_next = inspection_plan(
        scoped_now, as_of + pd.Timedelta(days=1), None, result=result, policy=policy,
        store=store, sample_threshold=th_next,
    )  # fmt: skip
    groups, members = group_view(inp.b_now, inp.result_all, inp.ids, policy)
    rereview = rereview_view(inp.b_now, inp.result_all, inp.ids, store, policy, model)
    return _Part(
        result=result,
        sums=_sums(result, prev_res),
        summary=_category_counts(outstanding),
        changes=changes,
        migration=migration_matrix(changes, "loans"),
        provisions=provisions(outstanding, policy=policy),
        by_branch=provisions(outstanding, by="branch", policy=policy),
        by_product=provisions(outstanding, by="product", policy=policy),
        status=plan.status(ledger, as_of + pd.Timedelta(days=1)),
        plan_next=plan_next.table,
        watch=watch_list(scoped_now, as_of, result=result, policy=policy, store=store),
        appendix=_appendix_rows(result, inp.book.borrowers, rows),
        known=inp.known,
        groups=groups,
        group_members=members,
        rereview=rereview,
    )


def _sums(result, prev_res) -> pd.Series:
    f, p = result.table, prev_res.table
    live = on_balance_sheet(f)

    def npl(frame):
        bal = frame["outstanding_principal"].to_numpy()
        codes = frame["category"].cat.codes.to_numpy()
        return float(bal[codes >= int(Category.SUBSTANDARD)].sum()), float(bal.sum())

    npl_now, bal_now = npl(f)
    npl_prev, bal_prev = npl(p)
    return pd.Series(
        {
            "n_loans": len(f),
            "n_outstanding": int(live.sum()),
            "n_written_off": int(written_off(f).sum()),
            "balance": bal_now,
            "npl_now": npl_now,
            "npl_prev": npl_prev,
            "balance_prev": bal_prev,
        },
        dtype=object,
    )


def _category_counts(outstanding) -> pd.DataFrame:
    f = outstanding.table
    g = f.groupby("category", observed=False)["outstanding_principal"]
    return pd.DataFrame({"loans": g.size(), "balance": g.sum()})


_APPENDIX_COLS = [
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


def loan_appendix(result, borrowers: pd.DataFrame, rows: int | None = None) -> pd.DataFrame:
    """The review's loan appendix: outstanding loans, worst category and largest balance
    first (then by loan id), with the borrower's masked name, ID number and phone next to the
    borrower id."""
    return _appendix_rows(result, borrowers, rows).drop(columns="_c")


def _appendix_rows(result, borrowers: pd.DataFrame, rows: int | None) -> pd.DataFrame:
    """:func:`loan_appendix` with ``_c`` (the category code) kept for combining partitions."""
    f = result.table
    app = f[[c for c in _APPENDIX_COLS if c in f.columns]].copy()
    app["category"] = app["category"].astype(str)
    app["rules"] = app["rules"].astype(str)
    if len(borrowers):
        pii = [c for c in ("name", "id_number", "phone") if c in borrowers.columns]
        who = borrowers.set_index("borrower_id")[pii]
        app = app.join(who, on="borrower_id")
        # masked name / ID / phone next to the borrower, the (wrapping) rules last
        front = ["borrower_id", *pii]
        app = app[front + [c for c in app.columns if c not in front]]
    app = app[on_balance_sheet(f)]
    app = app.assign(_c=f["category"].cat.codes.reindex(app.index))
    return mask_frame(_sorted_appendix(app, rows))  # only the rows shown are masked


def _sorted_appendix(app: pd.DataFrame, rows: int | None) -> pd.DataFrame:
    """Worst category first, then larger balance, then loan id."""
    app = app.sort_index(kind="stable").sort_values(
        ["_c", "outstanding_principal"], ascending=[False, False], kind="stable"
    )
    return app.head(rows) if rows is not None else app


def _combine_parts(a: _Part, b: _Part) -> _Part:
    """Two partitions' reviews as one (tree reduction)."""
    return _Part(
        result=None,
        sums=a.sums + b.sums,
        summary=a.summary.add(b.summary, fill_value=0),
        changes=pd.concat([a.changes, b.changes]),
        migration=a.migration.add(b.migration, fill_value=0),
        provisions=a.provisions.combine(b.provisions),
        by_branch=a.by_branch.combine(b.by_branch),
        by_product=a.by_product.combine(b.by_product),
        status=pd.concat([a.status, b.status], ignore_index=True),
        plan_next=pd.concat([a.plan_next, b.plan_next], ignore_index=True),
        watch=pd.concat([a.watch, b.watch]),
        appendix=pd.concat([a.appendix, b.appendix]),
        known={k: a.known[k] | b.known[k] for k in a.known},
        groups=pd.concat([a.groups, b.groups]),
        group_members=pd.concat([a.group_members, b.group_members], ignore_index=True),
        rereview=pd.concat([a.rereview, b.rereview]),
    )


def _check_scope(part: _Part, branch, officer) -> None:
    """The branch/officer scope names loans somewhere in the book (checked on the whole)."""
    errors = ProblemCollector("report scope")
    for col, value, param in (("branch", branch, "branch"), ("officer_id", officer, "officer")):
        if value is not None and value not in part.known[col]:
            shown = ", ".join(sorted(part.known[col])[:20])
            errors.add(
                "parameters",
                param,
                f"{value!r} matches no loan's {col}; known values: {shown}"
                + (" (if it had leading zeros, quote it)" if value.isdigit() else ""),
            )
    errors.raise_if_any()
    if part.sums["n_loans"] == 0:
        _no_loan_in_scope(errors, branch, officer)


def _no_loan_in_scope(errors: ProblemCollector, branch, officer) -> None:
    errors.add(
        "parameters",
        "branch/officer",
        f"no loan is in branch {branch!r} and managed by officer {officer!r}"
        if branch is not None and officer is not None
        else "no loan in scope",
    )
    errors.raise_if_any()


def _plan_order(t: pd.DataFrame) -> pd.DataFrame:
    """Plan rows by loan, due date and reason (a partition's rows keep their order), numbered."""
    t = t.sort_values(["loan_id", "due_by", "reason"], kind="stable", ignore_index=True)
    return t.assign(plan_id=np.arange(1, len(t) + 1, dtype=np.int64))


def _finish(part: _Part, as_of, branch, officer, policy, rows, model_label) -> PostLoanReview:
    """Tables in their final order and the key figures, from the combined parts."""
    from ..inspection.plan import compliance_table
    from ..inspection.rereview import rereview_order
    from ..provisions import adequacy_of_totals

    prev = (as_of - pd.offsets.MonthEnd(1)).normalize()
    s = part.sums
    summary = category_summary(part.summary, _ratio(s["npl_now"], s["balance"]), as_of)
    n_loans, n_out, n_wo = int(s["n_loans"]), int(s["n_outstanding"]), int(s["n_written_off"])
    summary.attrs["paid_off"] = n_loans - n_out - n_wo
    summary.attrs["written_off"] = n_wo
    changes = part.changes.sort_index(kind="stable")
    status = _plan_order(part.status)
    plan_next = _plan_order(part.plan_next)
    watch = _watch_order(part.watch)
    groups = group_order(part.groups)
    members = part.group_members.sort_values(["group_id", "loan_id"], ignore_index=True)
    rereview = rereview_order(part.rereview)
    appendix = _sorted_appendix(part.appendix, rows).drop(columns="_c")
    tot = part.provisions.total()
    # adequacy against the regulator's floors (the ECL is in the provisioning report)
    adequacy = adequacy_of_totals(
        tot["balance"], tot["npl_balance"], tot["provisions"], ecl=0.0, policy=policy
    )
    counts = changes["change"].value_counts()
    st_counts = status["status"].value_counts()
    metrics = ReviewMetrics(
        as_of=as_of,
        previous_as_of=prev,
        branch=branch,
        officer=officer,
        n_loans=n_loans,
        n_outstanding=n_out,
        n_closed=n_loans - n_out - n_wo,
        n_written_off=n_wo,
        balance=float(s["balance"]),
        npl_ratio=_ratio(s["npl_now"], s["balance"]),
        npl_balance=float(tot["npl_balance"]),
        previous_npl_ratio=_ratio(s["npl_prev"], s["balance_prev"]),
        provisions=float(tot["provisions"]),
        provisions_general=float(tot["general"]),
        provisions_specific=float(tot["specific"]),
        coverage_ratio=float(tot["coverage_ratio"]),
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
    metrics = replace(
        metrics,
        **group_metrics(groups, watch),
        **rereview_metrics(rereview, model_label),
        **npl_change_metrics(s),
    )
    return PostLoanReview(
        as_of=as_of,
        previous_as_of=prev,
        scope={"branch": branch, "officer": officer},
        result=None,
        table=summary,
        changes=changes,
        migration=part.migration.astype(np.int64),
        provisions=part.provisions,
        adequacy=adequacy,
        provisions_by_branch=part.by_branch.table,
        provisions_by_product=part.by_product.table,
        inspections_month=status,
        inspections_next=plan_next,
        compliance=compliance_table(status, as_of + pd.Timedelta(days=1), by="officer_id"),
        watch=watch,
        appendix=appendix,
        groups=groups,
        group_members=members,
        rereview=rereview,
        rereview_model=model_label,
        metrics=metrics,
    )


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


def _watch_order(watch: pd.DataFrame) -> pd.DataFrame:
    """Severe first, then category (worst first), then balance, then loan id."""
    out = watch.sort_index(kind="stable")
    keys, asc = ["severe", "outstanding_principal"], [False, False]
    if "category" in out.columns:
        out = out.assign(_c=out["category"].cat.codes)
        keys, asc = ["severe", "_c", "outstanding_principal"], [False, False, False]
    return out.sort_values(keys, ascending=asc, kind="stable").drop(columns="_c", errors="ignore")


def npl_change_metrics(s) -> dict:
    """The NPL-ratio change since the month before split into numerator (non-performing
    balance) and denominator (outstanding balance), as the migration report splits its
    projection (:func:`riskkit.migration.projection.ratio_change`).

    Examples
    --------
    >>> r = npl_change_metrics({"npl_prev": 4.0, "balance_prev": 100.0, "npl_now": 5.0,
    ...                         "balance": 50.0})
    >>> round(r["npl_change_numerator"], 4), round(r["npl_change_denominator"], 4)
    (0.015, 0.045)
    """
    from ..migration.projection import ratio_change

    n0, d0, n1, d1 = (float(s[k]) for k in ("npl_prev", "balance_prev", "npl_now", "balance"))
    if d0 <= 0 or d1 <= 0:
        return {"previous_npl_balance": n0, "previous_balance": d0}
    r = ratio_change(n0, d0, n1, d1)
    return {
        "previous_npl_balance": n0,
        "previous_balance": d0,
        "npl_ratio_change": float(r["change"]),
        "npl_change_numerator": float(r["numerator"]),
        "npl_change_denominator": float(r["denominator"]),
    }


def champion_or_none(store) -> tuple:
    """``(scorecard, label)`` of the store's approved champion, ``(None, None)`` without one."""
    from ..errors import ValidationError
    from ..lending.scoring import champion_scorecard

    if store is None:
        return None, None
    try:
        return champion_scorecard(store)
    except ValidationError:
        return None, None


def rereview_view(book, result, ids, store=None, policy=None, model=(None, None)):
    """Customers with a loan in scope due for periodic re-review
    (:func:`riskkit.inspection.rereview.rereview_list`), re-scored with ``model`` (the
    ``(scorecard, label)`` of :func:`champion_or_none`) when there is one."""
    from ..inspection.rereview import rereview_list

    r = rereview_list(book, result.as_of, result=result, store=store, model=model[0],
                      label=model[1], policy=policy)  # fmt: skip
    scoped = book.loans.loc[isin_values(book.loans["loan_id"], ids), "borrower_id"]
    return r.table[r.table.index.isin(pd.unique(scoped))]


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
    worst category (:func:`riskkit.book.groups.group_exposure`); and the member loans of those
    groups with a member at special mention or worse. A group's loans are in one partition
    (:func:`riskkit.partitioned.partition_keys`)."""
    from ..book.groups import group_exposure

    exp = group_exposure(book.loans, book.guarantors, result=result, policy=policy)
    members = exp.members[isin_values(exp.members["loan_id"], ids)]
    t = exp.table.loc[exp.table.index.isin(pd.unique(members["group_id"]))]
    t = t[t["loans"] > 0]
    at_risk = t.index[t["members_at_risk"] > 0] if len(t) else []
    m = exp.members[exp.members["group_id"].isin(at_risk).to_numpy(dtype=bool)]
    m = m[m["outstanding"] > 0][["group_id", "loan_id", "borrower_id", "outstanding", "category"]]
    return t, m.reset_index(drop=True)


def group_order(t: pd.DataFrame) -> pd.DataFrame:
    """Groups with a member at risk first, then the worst category, then the exposure."""
    if not len(t):
        return t
    rank = t["worst_category"].map(lambda c: int(Category.parse(c)) if c else -1)
    return (
        t.sort_index(kind="stable")
        .assign(_r=rank)
        .sort_values(["members_at_risk", "_r", "exposure"], ascending=False, kind="stable")
        .drop(columns="_r")
    )


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
