"""Five-category classification (贷款五级分类) of a whole loan book as of a date.

Examples
--------
>>> from riskkit.datasets import make_microloan_book
>>> from riskkit.classification import Classifier
>>> book = make_microloan_book(n_loans=500, months=12, seed=0)
>>> res = Classifier().classify(book.disbursed_by(book.as_of_date), book.as_of_date)
>>> int(res.table["category"].isna().sum()), len(res) == book.disbursed_by(book.as_of_date).n_loans
(0, True)
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..book.delinquency import ScheduleIndex, day_numbers, status_arrays
from ..book.schedule import add_months
from ..book.validate import validate_table
from ..categories import CATEGORY_DTYPE, Category
from ..deprecation import deprecated_alias
from ..errors import ProblemCollector, ValidationError
from ..policy import Policy, load_policy
from ..results import TableResult
from ..risk_signals import SIGNAL_CODES
from .explain import explain
from .overrides import effective_overrides, load_overrides, validate_overrides
from .rules import (
    BIT,
    RULE_CODES,
    apply_rules,
    recovery_status_codes,
    rule_codes,
    signal_bit,
)

_LOAN_COLS = ("borrower_id", "product", "officer_id", "branch", "guarantee_type")


def _as_day(d) -> int:
    return int(day_numbers(np.datetime64(pd.Timestamp(d).date())))


def late_within(
    ix: ScheduleIndex, candidates: np.ndarray, as_of, months: int, policy
) -> np.ndarray:
    """Per loan: an installment due in the ``months`` before ``as_of`` was paid late (not
    covered by the payments made up to its due date) but has been made good since.

    Only loans with ``candidates`` true are examined (the rest are False). Payments fill the
    oldest installment first, so installment *j* was paid on time when the payments up to its
    due date cover everything due up to and including *j* (within the policy tolerance).
    """
    n = len(ix.loan_ids)
    out = np.zeros(n, dtype=bool)
    if months <= 0 or not candidates.any():
        return out
    dq = load_policy(policy)["delinquency"]
    a = _as_day(as_of)
    start = int(
        add_months(np.array([a], dtype="datetime64[D]"), np.array([-months]))[0].astype(np.int64)
    )
    rows = np.flatnonzero(candidates[ix.code] & (ix.due > start) & (ix.due <= a))
    if not len(rows):
        return out
    pm = candidates[ix.pay_code] & (ix.pay_day <= a)
    pc, pd_, pa = ix.pay_code[pm], ix.pay_day[pm], ix.pay_amount[pm]
    lo = min(int(ix.due[rows].min()), int(pd_.min()) if len(pd_) else 0) - 1
    width = max(int(ix.due[rows].max()), int(pd_.max()) if len(pd_) else 0) - lo + 2
    # payments up to as-of per loan (before the amounts are put in key order below)
    paid_total = np.bincount(pc, weights=pa, minlength=n)
    key = pc.astype(np.int64) * width + (pd_ - lo)
    order = np.argsort(key, kind="stable")
    key = key[order]
    cs = np.r_[0.0, np.cumsum(pa[order])]
    rc = ix.code[rows].astype(np.int64)
    upto = np.searchsorted(key, rc * width + (ix.due[rows] - lo), side="right")
    first = np.searchsorted(key, rc * width, side="left")
    paid_by_due = cs[upto] - cs[first]
    need = ix.cum_before[rows] + ix.amount_due[rows]
    tol = np.maximum(dq["tolerance_abs"], dq["tolerance_ratio"] * ix.amount_due[rows])
    late = paid_by_due < need - tol
    # still unpaid at as-of: part of the current run of missed periods, not an earlier episode
    cured = paid_total[ix.code[rows]] >= need - tol
    np.logical_or.at(out, ix.code[rows[late & cured]], True)
    return out


def _signal_arrays(s, loan_pos: pd.Index, as_of, policy: Policy, errors: ProblemCollector):
    cp = policy["classification"]
    n = len(loan_pos)
    bits = np.zeros(n, dtype=np.int64)
    if s is None or len(s) == 0:
        return bits
    d = pd.Timestamp(as_of)
    s = s[(s["signal_date"] <= d).to_numpy(dtype=bool)]
    months = cp.get("signal_active_months", 0)
    if months:
        since = d - pd.DateOffset(months=int(months))
        keep = (s["signal_date"] > since) | s["signal"].isin(cp.get("persistent_signals", []))
        s = s[keep.to_numpy(dtype=bool)]
    pos = loan_pos.get_indexer(s["loan_id"])
    errors.check("signals", "loan_id", pos < 0, s["loan_id"], "unknown loan")
    known = pd.Index(SIGNAL_CODES)
    sc = known.get_indexer(s["signal"].astype(object))
    errors.check(
        "signals", "signal", sc < 0, s["loan_id"], f"unknown signal; allowed: {list(SIGNAL_CODES)}"
    )
    if errors:
        return bits
    sbit = np.array([signal_bit(c) for c in SIGNAL_CODES], dtype=np.int64)
    np.bitwise_or.at(bits, pos, np.left_shift(np.int64(1), sbit[sc]))
    return bits


def written_off_mask(write_offs, loan_pos: pd.Index, as_of, errors: ProblemCollector):
    """Per loan: written off on or before ``as_of`` according to ``write_offs`` (a frame with
    ``loan_id`` and ``write_off_date``, e.g. :meth:`riskkit.workout.WriteOffRegister.load`).
    A write-off of an unknown loan is an error."""
    out = np.zeros(len(loan_pos), dtype=bool)
    if write_offs is None or len(write_offs) == 0:
        return out
    if not errors.require("write_offs", write_offs, ("loan_id", "write_off_date")):
        return out
    w = write_offs[(write_offs["write_off_date"] <= pd.Timestamp(as_of)).to_numpy(dtype=bool)]
    pos = loan_pos.get_indexer(w["loan_id"].astype(object))
    errors.check("write_offs", "loan_id", pos < 0, w["loan_id"], "unknown loan")
    out[pos[pos >= 0]] = True
    return out


class Classifier:
    """Classify every loan of a book into the five categories, with the reasons.

    Parameters
    ----------
    policy : Policy, mapping or path, optional
        ``classification`` and ``delinquency`` sections (defaults: DOMAIN.md s.4).

    Examples
    --------
    >>> from riskkit.classification import Classifier
    >>> Classifier(policy={"classification": {"borrower_consistency": True}})
    Classifier(policy='mapping', borrower_consistency=True, dpd_backstops=True)
    """

    def __init__(self, policy: Policy | dict | str | None = None):
        self.policy = load_policy(policy)

    def __repr__(self) -> str:
        cp = self.policy["classification"]
        return (
            f"Classifier(policy={self.policy.source!r}, "
            f"borrower_consistency={cp['borrower_consistency']}, "
            f"dpd_backstops={cp['dpd_backstops']['enabled']})"
        )

    def classify(
        self, book, as_of=None, overrides=None, extra_signals=None, write_offs=None
    ) -> ClassificationResult:
        """Classify every loan of ``book`` as of ``as_of``.

        Parameters
        ----------
        book : LoanBook
            Every loan must be disbursed on or before ``as_of`` (use
            ``book.disbursed_by(as_of)``); a later loan is an error, never silently dropped.
        as_of : date-like, optional
            Default: ``book.as_of_date``. Payments and signals after it are ignored.
        overrides : DataFrame, list of dict or Store, optional
            Manual overrides (see :mod:`riskkit.classification.overrides`); with a Store,
            the overrides recorded there for ``as_of`` apply.
        extra_signals : DataFrame, optional
            Signals besides ``book.signals`` (same columns), e.g. from
            :func:`riskkit.inspection.detect_signals` or recorded by hand.
        write_offs : DataFrame, optional
            The write-off register (``loan_id``, ``write_off_date``; see
            :class:`riskkit.workout.WriteOffRegister`). A loan written off on or before
            ``as_of`` is off the balance sheet: ``written_off`` is True, its
            ``outstanding_principal`` and ``arrears`` are 0 and rule ``written_off`` fires;
            its category stays what the rules say (recovery continues, 账销案存).

        Returns
        -------
        ClassificationResult

        Raises
        ------
        riskkit.errors.ValidationError
            Loans disbursed after ``as_of``, loans without schedule, payments or signals for
            unknown loans, invalid overrides: every problem listed with table, column, loan id.
        """
        policy = self.policy
        cp = policy["classification"]
        as_of = book._as_of(as_of)
        a = _as_day(as_of)
        loans = book.loans
        ix = book.schedule_index
        n = len(ix.loan_ids)
        errors = ProblemCollector("classification input")
        late = ix.disb > a
        errors.check(
            "loans",
            "disbursement_date",
            late,
            ix.loan_ids,
            f"disbursed after the as-of date {as_of.date()} "
            "(classify book.disbursed_by(as_of) instead)",
        )
        errors.check(
            "loans", "loan_id", ix.first_row < 0, ix.loan_ids, "loan has no repayment schedule"
        )
        if len(ix.code) and (ix.code < 0).any():
            bad = book.schedule["loan_id"].to_numpy()[
                ~book.schedule["loan_id"].isin(pd.Index(ix.loan_ids)).to_numpy()
            ]
            errors.add("schedule", "loan_id", "unknown loan", ids=bad)
        if (ix.pay_code < 0).any():
            bad_p = ~book.payments["loan_id"].isin(pd.Index(ix.loan_ids)).to_numpy()
            errors.check("payments", "loan_id", bad_p, book.payments["loan_id"], "unknown loan")
        if not pd.Index(ix.loan_ids).is_unique:
            dup = pd.Index(ix.loan_ids).duplicated(keep=False)
            errors.check("loans", "loan_id", dup, ix.loan_ids, "duplicate id")
        loan_pos = pd.Index(ix.loan_ids)
        signals = book.signals
        if extra_signals is not None and len(extra_signals):
            cols = ["loan_id", "signal_date", "signal", "note"]
            extra = pd.DataFrame(extra_signals)
            if "source" not in extra.columns:
                extra = extra.assign(source="data")
            # the same schema rules as the book's own signals table: a signal without a date
            # or with an unknown code is an error, never silently ignored
            validate_table(extra, "signals", errors)
            extra = extra.reindex(columns=cols)
            signals = pd.concat([signals.reindex(columns=cols), extra], ignore_index=True)
        sig_bits = (
            _signal_arrays(signals, loan_pos, as_of, policy, errors)
            if not errors
            else np.zeros(n, np.int64)
        )
        recovery = recovery_status_codes(book.recovery_status, ix.loan_ids, as_of)
        written_off = written_off_mask(write_offs, loan_pos, as_of, errors)
        ov = None
        if overrides is not None:
            if hasattr(overrides, "has_table") and hasattr(overrides, "read"):
                stored = load_overrides(overrides, as_of)
                ov = effective_overrides(stored, as_of) if len(stored) else None
                if ov is not None:
                    unknown = ~ov.index.isin(loan_pos)
                    errors.check(
                        "classification_overrides", "loan_id", unknown, ov.index, "unknown loan"
                    )
            else:
                try:
                    ov = effective_overrides(
                        validate_overrides(overrides, loan_ids=loan_pos, as_of=as_of), as_of
                    )
                except ValidationError as exc:  # collect with the other problems
                    errors.problems.extend(exc.problems)
        errors.raise_if_any()

        st = status_arrays(ix, as_of, policy)
        missed = st["missed_periods"]
        mp = cp["missed_periods"]
        few = (missed > 0) & (missed < mp["special_mention"])
        late_recent = late_within(ix, few, as_of, int(cp["incidental_lookback_months"]), policy)
        out = apply_rules(
            missed,
            st["days_past_due"],
            signal_bits=sig_bits,
            recovery_status=recovery,
            late_recent=late_recent,
            paid_off=st["paid_off"],
            policy=policy,
        )
        final = out.final
        bits = out.bits | (written_off.astype(np.int64) << BIT["written_off"])
        borrower = (
            loans["borrower_id"].to_numpy() if "borrower_id" in loans.columns else ix.loan_ids
        )
        if cp["borrower_consistency"]:
            bcode, _ = pd.factorize(borrower)
            worst = np.zeros(bcode.max() + 1 if len(bcode) else 0, dtype=np.int8)
            # written-off loans are off the balance sheet: they neither set nor take the
            # borrower's worst category
            np.maximum.at(worst, bcode, np.where(written_off, np.int8(0), final))
            raised = (worst[bcode] > final) & ~st["paid_off"] & ~written_off
            bits = bits | (raised.astype(np.int64) << BIT["borrower_consistency"])
            final = np.where(raised, worst[bcode], final).astype(np.int8)
        ov_cols = {
            "override_author": pd.Series(pd.NA, index=pd.RangeIndex(n), dtype="str").array,
            "override_reason": pd.Series(pd.NA, index=pd.RangeIndex(n), dtype="str").array,
            "override_created_at": np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"),
        }
        if ov is not None and len(ov):
            p = loan_pos.get_indexer(ov.index)
            oc = np.array([int(Category.parse(c)) for c in ov["category"]], dtype=np.int8)
            final = final.copy()
            final[p] = oc
            hit = np.zeros(n, dtype=bool)
            hit[p] = True
            bits = bits | (hit.astype(np.int64) << BIT["manual_override"])
            aligned = ov.reindex(loan_pos)
            ov_cols = {
                "override_author": aligned["author"].astype("str").array,
                "override_reason": aligned["reason"].astype("str").array,
                "override_created_at": aligned["created_at"].to_numpy(dtype="datetime64[ns]"),
            }
        en, zh = explain(bits, missed, out.quantitative, final, policy)
        ub, inv = np.unique(bits, return_inverse=True)
        rules = pd.Categorical.from_codes(
            inv, categories=pd.Index([",".join(rule_codes(b)) for b in ub], dtype="str")
        )
        loan_cols: dict[str, object] = {}
        for c in _LOAN_COLS:
            if c in loans.columns:
                loan_cols[c] = loans[c].to_numpy()
        loan_cols.update(
            {
                "category": pd.Categorical.from_codes(final, dtype=CATEGORY_DTYPE),
                "quantitative_category": pd.Categorical.from_codes(
                    out.quantitative, dtype=CATEGORY_DTYPE
                ),
                "outstanding_principal": np.where(written_off, 0.0, st["outstanding_principal"]),
                "arrears": np.where(written_off, 0.0, st["arrears"]),
                "missed_periods": missed,
                "days_past_due": st["days_past_due"],
                "paid_off": st["paid_off"],
                "written_off": written_off,
                "rules": rules,
                "rule_bits": bits,
                "explanation_en": en,
                "explanation_zh": zh,
            }
        )
        loan_cols.update(ov_cols)
        frame = pd.DataFrame(loan_cols, index=pd.Index(ix.loan_ids, name="loan_id"))
        return ClassificationResult(frame, as_of=as_of, policy=policy)


@dataclass(repr=False, eq=False)
class ClassificationResult(TableResult):
    """Classification of a book as of a date: one row per loan in ``table`` (index ``loan_id``).

    Columns: ``category`` and ``quantitative_category`` (ordered categoricals of
    :data:`~riskkit.categories.CATEGORY_DTYPE`), ``rules`` (comma-separated codes of every rule
    that fired), ``rule_bits``, ``explanation_en``, ``explanation_zh``,
    ``outstanding_principal``, ``arrears``, ``missed_periods``, ``days_past_due``, ``paid_off``,
    ``written_off`` (off the balance sheet: balance and arrears 0),
    the loan's ``borrower_id, product, officer_id, branch, guarantee_type`` and
    ``override_author, override_reason, override_created_at`` (missing where no override).

    Attributes
    ----------
    table : DataFrame
        One row per loan, paid-off loans included (category ``normal``, balance 0).
    as_of : Timestamp
    policy : Policy
    """

    table: pd.DataFrame
    as_of: pd.Timestamp
    policy: Policy | None = None

    #: Deprecated name of :attr:`table` (riskkit 0.1).
    frame = deprecated_alias("table")

    def __post_init__(self) -> None:
        self.as_of = pd.Timestamp(self.as_of)
        self.policy = load_policy(self.policy)

    def rules_fired(self, loan_id) -> list[str]:
        """Codes of the rules that fired for one loan."""
        return rule_codes(self.table.at[loan_id, "rule_bits"])

    def rule_table(self) -> pd.DataFrame:
        """Boolean table loan x rule (True where the rule fired)."""
        b = self.table["rule_bits"].to_numpy()
        return pd.DataFrame(
            {code: (b >> BIT[code] & 1).astype(bool) for code in RULE_CODES},
            index=self.table.index,
        )

    def to_frame(self) -> pd.DataFrame:
        """The main table as a new, flat DataFrame: ``as_of`` and ``loan_id`` as columns, so
        that months concatenate into a classification history."""
        df = self.table.reset_index()
        df.insert(0, "as_of", np.full(len(df), np.datetime64(self.as_of.date(), "ns")))
        return df

    def summary(self) -> pd.DataFrame:
        """Count, balance and shares by category of the loans still outstanding, with a total
        row; ``attrs``: ``npl_ratio``, ``as_of``, ``paid_off`` and ``written_off`` (loans
        repaid in full, or written off through the register, which are in :attr:`table` but
        not counted here, as in the post-loan review)."""
        paid_off = self.table["paid_off"].to_numpy(dtype=bool)
        written = np.zeros(len(self.table), dtype=bool)
        if "written_off" in self.table.columns:
            written = self.table["written_off"].to_numpy(dtype=bool)
        f = self.table[~(paid_off | written)]
        g = f.groupby("category", observed=False)["outstanding_principal"]
        out = pd.DataFrame({"loans": g.size(), "balance": g.sum()})
        out.index = pd.Index([Category.parse(c).code for c in out.index], name="category")
        out["label_zh"] = [Category.parse(c).zh for c in out.index]
        tot_n, tot_b = out["loans"].sum(), out["balance"].sum()
        out["loan_share"] = out["loans"] / tot_n if tot_n else 0.0
        out["balance_share"] = out["balance"] / tot_b if tot_b else 0.0
        out.loc["total"] = [tot_n, tot_b, "合计", 1.0 if tot_n else 0.0, 1.0 if tot_b else 0.0]
        out["loans"] = out["loans"].astype(np.int64)
        out.attrs["npl_ratio"] = self.npl_ratio
        out.attrs["as_of"] = self.as_of
        out.attrs["paid_off"] = int((paid_off & ~written).sum())
        out.attrs["written_off"] = int(written.sum())
        return out

    @property
    def npl_ratio(self) -> float:
        """Balance of substandard, doubtful and loss loans over the total balance (不良贷款率);
        NaN when there is no outstanding balance (undefined, as in :func:`riskkit.provisions`)."""
        bal = self.table["outstanding_principal"].to_numpy()
        tot = bal.sum()
        if tot == 0:
            return float("nan")
        npl = self.table["category"].cat.codes.to_numpy() >= int(Category.SUBSTANDARD)
        return float(bal[npl].sum() / tot)

    def __repr__(self) -> str:
        s = self.summary()
        parts = ", ".join(f"{c}={s.at[c, 'loans']:,}" for c in Category.codes())
        return (
            f"ClassificationResult(as_of={self.as_of.date()}, loans={len(self):,}, "
            f"outstanding: {parts}, paid_off={s.attrs['paid_off']:,}, "
            f"npl_ratio={self.npl_ratio:.2%})"
        )

    def _repr_html_(self) -> str:
        s = self.summary()
        rows = "".join(
            f"<tr><td>{html.escape(str(i))}</td><td>{html.escape(str(r.label_zh))}</td>"
            f"<td style='text-align:right'>{r.loans:,}</td>"
            f"<td style='text-align:right'>{r.balance:,.2f}</td>"
            f"<td style='text-align:right'>{r.balance_share:.2%}</td></tr>"
            for i, r in s.iterrows()
        )
        return (
            f"<div><b>Five-category classification 五级分类</b> as of {self.as_of.date()}: "
            f"{len(self):,} loans ({s.attrs['paid_off']:,} paid off), NPL ratio 不良贷款率 "
            f"{self.npl_ratio:.2%}"
            "<table><tr><th>category</th><th>类别</th><th>loans</th><th>balance</th>"
            f"<th>balance share</th></tr>{rows}</table></div>"
        )
