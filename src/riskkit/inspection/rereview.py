"""Periodic re-review of customers (定期复审, seed 000: the credit assessment is reviewed
periodically and the credit strategy adjusted when the customer's credit changes).

:func:`rereview_list` lists the customers with loans outstanding who are due, and why
(policy ``rereview``):

* ``time``: ``every_months`` or more since the last review (a review recorded with
  :func:`record_reviews`, else the latest loan's disbursement);
* ``signal``: a risk signal dated after the last review (the book's, detected from the data,
  recorded by hand, or ``guarantor_liability`` from a joint-guarantee partner);
* ``category``: a live loan at ``from_category`` (special mention) or worse;
* ``score_drift``: the approved champion's score now (the customer as the register and this
  lender's book show them today: age, years in business, loans and delinquent loans since,
  a re-assessed income when recorded) at least ``score_drop`` points below its score at the
  latest loan's application, or the grade ``grade_notches`` worse.

For each customer: the re-scored grade and a suggested limit (the smaller of the limit of the
latest loan's guarantee structure and what the current income carries, :mod:`riskkit.lending.limits` and
:mod:`riskkit.lending.affordability`, scaled down for a worse category or grade by
:func:`limit_factor`, and never above the current limit when the action is ``freeze`` or
``reduce``) against the latest loan's amount, and the suggested action: ``freeze``
(a loan at special mention or worse, or PD above ``limits.max_pd``), ``reduce`` (suggested limit
below the outstanding), ``increase`` (at least ``increase_margin`` above the latest amount) or
``keep``.

Reviews done are recorded append-only in ``customer_reviews`` (who, when, outcome, new limit).

Examples
--------
>>> from riskkit.inspection.rereview import REASONS
>>> REASONS
('time', 'signal', 'category', 'score_drift')
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..categories import Category
from ..errors import ProblemCollector, is_blank
from ..policy import Policy, load_policy
from ..results import TableResult

REASONS = ("time", "signal", "category", "score_drift")
ACTIONS = ("keep", "increase", "reduce", "freeze", "exit")
TABLE = "customer_reviews"
REASON_TEXT = {
    "time": ("due by time since the last review", "距上次复审已满期限"),
    "signal": ("risk signal since the last review", "上次复审后出现风险信号"),
    "category": ("a loan at special mention or worse", "有关注类及以下贷款"),
    "score_drift": ("score dropped with the approved model", "审批模型评分下降"),
}


def record_reviews(store, reviews) -> pd.DataFrame:
    """Record re-reviews done: ``borrower_id, review_date, reviewer, outcome`` (one of
    :data:`ACTIONS`), optional ``new_limit`` and ``comment``; all or nothing, append-only."""
    df = pd.DataFrame(reviews).reset_index(drop=True)
    errors = ProblemCollector("customer reviews")
    errors.require("reviews", df, ("borrower_id", "review_date", "reviewer", "outcome"))
    errors.raise_if_any()
    ids = df["borrower_id"]
    errors.check("reviews", "reviewer", is_blank(df["reviewer"]), ids, "reviewer is required")
    errors.check("reviews", "outcome", ~df["outcome"].isin(ACTIONS).to_numpy(dtype=bool), ids,
                 f"unknown outcome; allowed: {list(ACTIONS)}")  # fmt: skip
    date = pd.to_datetime(df["review_date"], errors="coerce")
    errors.check("reviews", "review_date", date.isna().to_numpy(), ids, "not a valid date")
    errors.raise_if_any()
    rows = pd.DataFrame(
        {
            "borrower_id": ids.astype(str).to_numpy(),
            "review_date": date.astype("datetime64[ns]").to_numpy(),
            "reviewer": df["reviewer"].astype(str).to_numpy(),
            "outcome": df["outcome"].astype(str).to_numpy(),
            "new_limit": pd.to_numeric(df.get("new_limit", np.nan), errors="coerce"),
            "comment": df.get("comment", pd.Series("", index=df.index)).fillna("").astype(str),
            "recorded_at": pd.Timestamp.now().floor("s"),
        }
    )
    with store.transaction() as conn:
        return store.append_numbered(TABLE, rows, "review_id", conn)


def last_reviews(store) -> pd.Series:
    """Latest review date per customer (empty without reviews)."""
    if store is None or not store.has_table(TABLE):
        return pd.Series(dtype="datetime64[ns]")
    r = store.read(TABLE)
    return r.groupby("borrower_id")["review_date"].max()


@dataclass
class RereviewList(TableResult):
    """Customers due for re-review (:func:`rereview_list`); ``table`` indexed by
    ``borrower_id``, most urgent first."""

    table: pd.DataFrame
    as_of: pd.Timestamp
    model: str | None = None

    def to_frame(self) -> pd.DataFrame:
        return self.table.reset_index()

    def counts(self) -> pd.Series:
        """Customers due by each reason (a customer may have several)."""
        r = self.table["reasons"].str.split(",").explode()
        return r.value_counts().reindex(list(REASONS), fill_value=0)

    def __repr__(self) -> str:
        c = ", ".join(f"{k}={v:,}" for k, v in self.counts().items())
        a = self.table["action"].value_counts().to_dict()
        return (
            f"RereviewList({len(self.table):,} customers due as of {self.as_of.date()}: {c}; "
            f"suggested {a}; model {self.model or 'none'})"
        )

    def _repr_html_(self) -> str:
        return (
            f"<div><b>Periodic re-review 定期复审</b>: {html.escape(repr(self))}"
            f"{self.table.head(30).to_html()}</div>"
        )


def rereview_list(
    book, as_of=None, *, result=None, store=None, model=None, label: str | None = None,
    policy=None,
) -> RereviewList:  # fmt: skip
    """Customers due for periodic re-review, with the re-scored grade and the suggested limit.

    Parameters
    ----------
    book : LoanBook
    as_of : date-like, optional
        Default ``book.as_of_date``.
    result : ClassificationResult, optional
        The classification at ``as_of`` (default: classify the book).
    store : Store, optional
        Recorded reviews, manual signals and the customer register (else ``book.borrowers``).
    model : fitted scorecard, optional
        The approved champion (:func:`riskkit.lending.scoring.champion_scorecard`); without
        it no score drift is judged and no grade shown.
    label : str, optional
        The model's version label, shown with the list.
    policy : Policy, mapping or path, optional
    """
    p = load_policy(policy) if not isinstance(policy, Policy) else policy
    as_of = pd.Timestamp(as_of if as_of is not None else book.as_of_date).normalize()
    if result is None:
        from ..classification import Classifier

        result = Classifier(p).classify(book.disbursed_by(as_of), as_of)
    cust = _customers_now(book, result, as_of, store, p)
    cust = _reasons(cust, book, result, as_of, store, p)
    if model is not None:
        cust = _rescore(cust, book, model, as_of, store, p, result)
    cust = _limits_and_action(cust, book, result, store, p)
    due = cust[cust["reasons"] != ""].copy()
    return RereviewList(rereview_order(due), as_of, label)


def rereview_order(due: pd.DataFrame) -> pd.DataFrame:
    """Freeze first, then reduce, increase, keep; more reasons first; larger outstanding
    first; then by customer id (so parts of a book stacked give the same order)."""
    rank = due["action"].map({"freeze": 0, "reduce": 1, "increase": 2, "keep": 3})
    return (
        due.sort_index(kind="stable")
        .assign(_r=rank, _n=due["reasons"].str.count(",") + 1)
        .sort_values(["_r", "_n", "outstanding"], ascending=[True, False, False], kind="stable")
        .drop(columns=["_r", "_n"])
    )


def _customers_now(book, result, as_of, store, p) -> pd.DataFrame:
    """Per customer with a live loan: loans, outstanding, worst category, the latest loan."""
    f = result.table
    live = f[(~f["paid_off"].to_numpy(dtype=bool)) & (f["outstanding_principal"] > 0).to_numpy()]
    loans = book.loans.set_index("loan_id").loc[live.index]
    code = live["category"].cat.codes.to_numpy()
    g = pd.DataFrame({"borrower_id": loans["borrower_id"].to_numpy(dtype=object),
                      "outstanding": live["outstanding_principal"].to_numpy(), "code": code,
                      "disb": loans["disbursement_date"].to_numpy()},
                     index=live.index)  # fmt: skip
    by = g.groupby("borrower_id", sort=True)
    latest = g.sort_values(["disb"], kind="stable").groupby("borrower_id").tail(1)
    out = pd.DataFrame({"loans": by.size(), "outstanding": by["outstanding"].sum(),
                        "worst": by["code"].max()})  # fmt: skip
    out["latest_loan"] = pd.Series(latest.index, index=latest["borrower_id"]).reindex(out.index)
    out["latest_disbursement"] = latest.set_index("borrower_id")["disb"].reindex(out.index)
    reviewed = last_reviews(store).reindex(out.index)
    out["last_review"] = np.maximum(out["latest_disbursement"], reviewed.fillna(pd.NaT)).where(
        reviewed.notna(), out["latest_disbursement"]
    )
    out.index.name = "borrower_id"
    return out


def _reasons(cust, book, result, as_of, store, p) -> pd.DataFrame:
    from ..book.groups import guarantor_liability_signals
    from .signals import active_signals

    rp = p["rereview"]
    due_time = (cust["last_review"] + pd.DateOffset(months=int(rp["every_months"]))) <= as_of
    s = active_signals(book, as_of, p, store=store)
    liable = guarantor_liability_signals(book.loans, book.guarantors, result, p)
    s = pd.concat([s, liable], ignore_index=True)
    bor = book.loans.set_index("loan_id")["borrower_id"]
    s = s.assign(borrower_id=bor.reindex(s["loan_id"]).to_numpy())
    s = s[s["signal"] != "missed_installment"]  # the category and missed periods cover it
    after = s["signal_date"].to_numpy() > cust["last_review"].reindex(s["borrower_id"]).to_numpy()
    new = s[after].groupby("borrower_id")["signal"].agg(lambda x: ",".join(sorted(set(x))))
    cust["signals"] = new.reindex(cust.index).fillna("")
    worst = cust["worst"].to_numpy() >= int(Category.parse(rp["from_category"]))
    flags = {"time": due_time.to_numpy(), "signal": (cust["signals"] != "").to_numpy() & bool(
        rp["signals"]), "category": worst}  # fmt: skip
    cust["category"] = np.array(Category.codes(), dtype=object)[cust["worst"].to_numpy()]
    cust["reasons"] = _join_flags(flags, len(cust))
    return cust


def _join_flags(flags: dict, n: int) -> np.ndarray:
    out = np.full(n, "", dtype=object)
    for code, on in flags.items():
        on = np.asarray(on, dtype=bool)
        out = np.where(on, np.where(out == "", code, out + "," + code), out)
    return out


def _applications_of(book, loan_ids, when, customers) -> pd.DataFrame:
    """The customers' latest loans as applications dated ``when`` (None: at disbursement)."""
    L = book.loans.set_index("loan_id").loc[loan_ids].reset_index()
    g = book.guarantors.groupby("loan_id").size()
    col = book.collateral.sort_values("valuation_date").drop_duplicates(
        "collateral_id", keep="last"
    )
    value = col.groupby("loan_id")["appraised_value"].sum()
    day = L["disbursement_date"] if when is None else pd.Series(pd.Timestamp(when), index=L.index)
    return pd.DataFrame({
        "application_id": L["loan_id"].to_numpy(), "borrower_id": L["borrower_id"].to_numpy(),
        "application_date": day.to_numpy(dtype="datetime64[ns]"),
        **{c: L[c].to_numpy() for c in ("product", "amount", "term_months", "annual_rate",
                                         "repayment_method", "guarantee_type", "purpose",
                                         "branch")},
        "n_guarantors": g.reindex(L["loan_id"], fill_value=0).to_numpy(),
        "collateral_value": value.reindex(L["loan_id"]).to_numpy(dtype=float),
    })  # fmt: skip


def _register_now(book, result, store) -> pd.DataFrame:
    """The register today: this lender's delinquent loans count as delinquency, a re-assessed
    income (``current_monthly_income``) replaces the onboarding income when recorded."""
    reg = book.borrowers.copy()
    if store is not None and store.has_table("customer_register"):
        from ..book.customers import CustomerRegister

        stored = CustomerRegister(store).load()
        reg = stored if len(stored) else reg
    f = result.table
    bad = f.loc[f["missed_periods"].to_numpy() > 0, "borrower_id"].value_counts()
    reg = reg.copy()
    if "prior_delinquency" in reg.columns:
        more = bad.reindex(reg["borrower_id"], fill_value=0).to_numpy()
        reg["prior_delinquency"] = reg["prior_delinquency"].to_numpy() + more
    if {"current_monthly_income", "monthly_income"} <= set(reg.columns):
        cur = reg["current_monthly_income"]
        reg["monthly_income"] = cur.where(cur.notna(), reg["monthly_income"])
    return reg


def rescore_loans(book, loan_ids, as_of, model, *, result, store=None, policy=None):
    """The approved champion's score, grade and PD of loans at their application (as the
    register showed the borrower then) and now (the register and this lender's book today).

    Returns
    -------
    DataFrame indexed by loan_id: ``score_then``, ``score_now``, ``grade_then``,
    ``grade_now``, ``pd_then``, ``pd_now``.
    """
    from ..lending.scoring import score_applications

    p = load_policy(policy)
    ids = np.asarray(loan_ids, dtype=object)
    then = score_applications(model, _applications_of(book, ids, None, None), book.borrowers,
                              book, policy=p).table  # fmt: skip
    now_reg = _register_now(book, result, store)
    now = score_applications(model, _applications_of(book, ids, as_of, None), now_reg, book,
                             policy=p).table  # fmt: skip
    cols = {"score": "score", "grade": "grade", "pd": "pd"}
    out = {f"{k}_{w}": t[c].to_numpy() for w, t in (("then", then), ("now", now))
           for k, c in cols.items()}  # fmt: skip
    return pd.DataFrame(out, index=pd.Index(ids, name="loan_id"))


def _rescore(cust, book, model, as_of, store, p, result) -> pd.DataFrame:
    from ..lending.approval import grade_number

    r = rescore_loans(book, cust["latest_loan"].to_numpy(), as_of, model, result=result,
                      store=store, policy=p)  # fmt: skip
    rp = p["rereview"]
    for c in ("score_then", "score_now", "grade_then", "grade_now"):
        cust[c] = r[c].to_numpy()
    cust["pd_now"] = r["pd_now"].to_numpy()
    drop = cust["score_then"] - cust["score_now"]
    notches = grade_number(cust["grade_now"]) - grade_number(cust["grade_then"])
    drift = (drop >= float(rp["score_drop"])).to_numpy() | (notches >= int(rp["grade_notches"]))
    cust["reasons"] = np.where(drift, np.where(cust["reasons"] == "", "score_drift",
                                               cust["reasons"] + ",score_drift"), cust["reasons"])  # fmt: skip
    return cust


def _limits_and_action(cust, book, result, store, p) -> pd.DataFrame:
    """The suggested limit for the latest loan's terms with today's income, and the action."""
    from ..lending.affordability import capacity_limit
    from ..lending.limits import credit_limit, suggested_limit

    apps = _applications_of(book, cust["latest_loan"].to_numpy(), None, None)
    reg = _register_now(book, result, store).drop_duplicates("borrower_id").set_index("borrower_id")
    income = (
        reg["monthly_income"] if "monthly_income" in reg.columns else pd.Series(np.nan, reg.index)
    )
    income = income.reindex(apps["borrower_id"]).to_numpy(dtype=float)
    value = np.nan_to_num(apps["collateral_value"].to_numpy(dtype=float))
    households = np.where(apps["guarantee_type"] == "joint", apps["n_guarantors"] + 1, 3)
    struct = credit_limit(apps["guarantee_type"].to_numpy(), value, households, p)
    ok = income > 0
    cap = np.zeros(len(apps))
    if ok.any():
        cap[ok] = capacity_limit(income[ok], apps["term_months"].to_numpy()[ok],
                                 apps["annual_rate"].to_numpy()[ok],
                                 apps["repayment_method"].to_numpy()[ok], policy=p)  # fmt: skip
    cust["current_limit"] = apps["amount"].to_numpy()
    factor = limit_factor(cust["worst"].to_numpy(), cust.get("grade_now"), p)
    suggested = suggested_limit(np.asarray(struct) * factor, cap * factor, p)
    rp, lim = p["rereview"], p["limits"]
    frozen = cust["worst"].to_numpy() >= int(Category.parse(rp["from_category"]))
    if "pd_now" in cust:
        frozen |= cust["pd_now"].to_numpy() > float(lim["max_pd"])
    reduce = suggested < cust["outstanding"].to_numpy()
    current = cust["current_limit"].to_numpy(dtype=float)
    more = suggested >= (1 + float(rp["increase_margin"])) * current
    cust["action"] = np.select([frozen, reduce, more], ["freeze", "reduce", "increase"], "keep")
    # a freeze or a reduction never suggests more than the limit the customer has
    capped = np.isin(cust["action"].to_numpy(), ["freeze", "reduce"])
    cust["suggested_limit"] = np.where(capped, np.minimum(suggested, current), suggested)
    cust["limit_change"] = cust["suggested_limit"] - cust["current_limit"]
    return cust.drop(columns=["worst"])


def limit_factor(worst, grade=None, policy=None) -> np.ndarray:
    """Share of the structure and capacity limits a customer may keep at re-review: the
    category's factor (``rereview.limit_factor.category``, by the worst live loan's category
    code) times ``1 - grade_step x`` the notches the current grade is worse than
    ``full_limit_grade`` (at least 0; no grade: 1). Never rises with a worse category or grade.

    Examples
    --------
    >>> limit_factor(np.array([0, 1, 2]), np.array(["R3", "R7", "R10"])).round(2).tolist()
    [1.0, 0.35, 0.0]
    """
    lf = load_policy(policy)["rereview"]["limit_factor"]
    per = np.ones(len(Category))
    for cat, v in lf["category"].items():
        per[int(Category.parse(cat))] = float(v)
    per = np.minimum.accumulate(per)  # a worse category never keeps more
    out = per[np.asarray(worst, dtype=np.int64)]
    if grade is not None:
        from ..lending.approval import grade_number

        notches = np.nan_to_num(grade_number(np.asarray(grade)) - float(lf["full_limit_grade"]))
        out = out * np.clip(1.0 - float(lf["grade_step"]) * np.maximum(notches, 0.0), 0.0, 1.0)
    return out
