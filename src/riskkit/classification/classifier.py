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
from ..book.keys import factorize_ids, isin_values, positions
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
from .rules import BIT, RECOVERY_STATUSES, RULE_CODES, apply_rules, rule_codes, signal_bit

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
    due_amount = ix.amount_due_at(rows)
    need = ix.cum_before[rows] + due_amount
    tol = np.maximum(dq["tolerance_abs"], dq["tolerance_ratio"] * due_amount)
    late = paid_by_due < need - tol
    # still unpaid at as-of: part of the current run of missed periods, not an earlier episode
    cured = paid_total[ix.code[rows]] >= need - tol
    np.logical_or.at(out, ix.code[rows[late & cured]], True)
    return out


@dataclass
class _SignalRows:
    """The signals table as arrays, parsed once: loan position, date (ns), signal code index
    and whether the signal persists."""

    table: pd.DataFrame
    pos: np.ndarray
    date: np.ndarray
    code: np.ndarray
    persistent: np.ndarray

    @classmethod
    def build(cls, s: pd.DataFrame | None, loan_pos: pd.Index, policy: Policy) -> _SignalRows:
        cp = policy["classification"]
        if s is None:
            s = pd.DataFrame({"loan_id": [], "signal_date": [], "signal": []})
        signal = s["signal"].astype(object)
        return cls(
            table=s,
            pos=positions(loan_pos, s["loan_id"]),
            date=s["signal_date"].to_numpy(dtype="datetime64[ns]"),
            code=pd.Index(SIGNAL_CODES).get_indexer(signal),
            persistent=signal.isin(cp.get("persistent_signals", [])).to_numpy(dtype=bool),
        )

    def active(self, as_of, policy: Policy) -> np.ndarray:
        """Rows recorded by ``as_of`` and still active then (``signal_active_months``)."""
        d = pd.Timestamp(as_of)
        on = self.date <= np.datetime64(d)
        months = policy["classification"].get("signal_active_months", 0)
        if months:
            since = d - pd.DateOffset(months=int(months))
            on &= (self.date > np.datetime64(since)) | self.persistent
        return on

    def arrays(self, rows: np.ndarray, n: int, errors: ProblemCollector) -> np.ndarray:
        """Per loan: signal bits from the signal rows ``rows``."""
        bits = np.zeros(n, dtype=np.int64)
        pos, code = self.pos[rows], self.code[rows]
        ids = self.table["loan_id"].iloc[rows]
        errors.check("signals", "loan_id", pos < 0, ids, "unknown loan")
        errors.check(
            "signals", "signal", code < 0, ids, f"unknown signal; allowed: {list(SIGNAL_CODES)}"
        )
        if errors:
            return bits
        sbit = np.array([signal_bit(c) for c in SIGNAL_CODES], dtype=np.int64)
        np.bitwise_or.at(bits, pos, np.left_shift(np.int64(1), sbit[code]))
        return bits


def _signal_arrays(s, loan_pos: pd.Index, as_of, policy: Policy, errors: ProblemCollector):
    """Per loan: bits of the signals active at ``as_of``."""
    n = len(loan_pos)
    if s is None or len(s) == 0:
        return np.zeros(n, dtype=np.int64)
    sr = _SignalRows.build(s, loan_pos, policy)
    return sr.arrays(np.flatnonzero(sr.active(as_of, policy)), n, errors)


@dataclass
class _DatedRows:
    """A table of dated rows per loan (recovery statuses, write-offs) as arrays, sorted once
    by loan position, date and table order: what holds at a date is then a mask."""

    pos: np.ndarray
    day: np.ndarray
    code: np.ndarray

    @classmethod
    def build(cls, pos: np.ndarray, dates: pd.Series, code: np.ndarray) -> _DatedRows:
        day = dates.to_numpy(dtype="datetime64[ns]")
        order = np.lexsort((np.arange(len(pos)), day, pos))
        order = order[(pos[order] >= 0) & (code[order] >= 0)]
        return cls(pos=pos[order], day=day[order], code=code[order])

    def latest(self, as_of, n: int) -> np.ndarray:
        """Per loan: the code of its latest row dated on or before ``as_of`` (-1: none)."""
        out = np.full(n, -1, dtype=np.int64)
        on = np.flatnonzero(self.day <= np.datetime64(pd.Timestamp(as_of), "ns"))
        if len(on):
            p = self.pos[on]
            last = on[np.r_[p[1:] != p[:-1], True]]
            out[self.pos[last]] = self.code[last]
        return out


def recovery_rows(table: pd.DataFrame | None, loan_pos: pd.Index) -> _DatedRows:
    """The ``recovery_status`` table as :class:`_DatedRows` (codes: positions in
    :data:`~riskkit.classification.rules.RECOVERY_STATUSES`); as
    :func:`~riskkit.classification.rules.recovery_status_codes` at each date."""
    if table is None or len(table) == 0:
        return _DatedRows(
            np.zeros(0, np.int64), np.zeros(0, "datetime64[ns]"), np.zeros(0, np.int64)
        )
    code = pd.Index(RECOVERY_STATUSES).get_indexer(table["status"].astype(object))
    return _DatedRows.build(positions(loan_pos, table["loan_id"]), table["status_date"], code)


def write_off_rows(write_offs, loan_pos: pd.Index, errors: ProblemCollector) -> _DatedRows:
    """The write-off register as :class:`_DatedRows` (code 1 from the write-off date on); a
    write-off of an unknown loan is an error."""
    empty = _DatedRows(np.zeros(0, np.int64), np.zeros(0, "datetime64[ns]"), np.zeros(0, np.int64))
    if write_offs is None or len(write_offs) == 0:
        return empty
    if not errors.require("write_offs", write_offs, ("loan_id", "write_off_date")):
        return empty
    pos = positions(loan_pos, write_offs["loan_id"])
    errors.check("write_offs", "loan_id", pos < 0, write_offs["loan_id"], "unknown loan")
    return _DatedRows.build(pos, write_offs["write_off_date"], np.ones(len(pos), np.int64))


def written_off_mask(write_offs, loan_pos: pd.Index, as_of, errors: ProblemCollector):
    """Per loan: written off on or before ``as_of`` according to ``write_offs`` (a frame with
    ``loan_id`` and ``write_off_date``, e.g. :meth:`riskkit.workout.WriteOffRegister.load`).
    A write-off of an unknown loan is an error."""
    if write_offs is not None and len(write_offs) and "write_off_date" in write_offs.columns:
        on = (write_offs["write_off_date"] <= pd.Timestamp(as_of)).to_numpy(dtype=bool)
        write_offs = write_offs[on]
    return write_off_rows(write_offs, pd.Index(loan_pos), errors).latest(as_of, len(loan_pos)) > 0


@dataclass
class _Panel:
    """Loan-date rows to classify: loan position ``pos`` and date index ``group`` of each row
    (one group per as-of date, rows of a group in loan order), with the per-row inputs."""

    pos: np.ndarray
    group: np.ndarray
    starts: np.ndarray  # first row of each group (and the end)
    missed: np.ndarray
    dpd: np.ndarray
    paid_off: np.ndarray
    outstanding: np.ndarray
    arrears: np.ndarray
    late_recent: np.ndarray
    signal_bits: np.ndarray
    recovery: np.ndarray
    written_off: np.ndarray


def _status_rows(ix: ScheduleIndex, as_of, keep: np.ndarray, policy: Policy) -> dict:
    """The rule inputs of the loans ``keep`` (positions) as of one date."""
    cp = policy["classification"]
    st = status_arrays(ix, as_of, policy)
    missed = st["missed_periods"]
    few = np.zeros(len(missed), dtype=bool)
    few[keep] = (missed[keep] > 0) & (missed[keep] < cp["missed_periods"]["special_mention"])
    late = late_within(ix, few, as_of, int(cp["incidental_lookback_months"]), policy)
    return {
        "missed": missed[keep],
        "dpd": st["days_past_due"][keep],
        "paid_off": st["paid_off"][keep],
        "outstanding": st["outstanding_principal"][keep],
        "arrears": st["arrears"][keep],
        "late_recent": late[keep],
    }


def _signal_table(book, extra_signals, errors: ProblemCollector) -> pd.DataFrame:
    """The book's signals and ``extra_signals`` (checked like the book's own)."""
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
    return signals


def _check_book(book, ix: ScheduleIndex, as_of, errors: ProblemCollector) -> None:
    """Loans disbursed after ``as_of`` (None: not checked), without schedule, rows of
    unknown loans, duplicate ids."""
    if as_of is not None:
        errors.check(
            "loans",
            "disbursement_date",
            ix.disb > _as_day(as_of),
            ix.loan_ids,
            f"disbursed after the as-of date {as_of.date()} "
            "(classify book.disbursed_by(as_of) instead)",
        )
    errors.check(
        "loans", "loan_id", ix.first_row < 0, ix.loan_ids, "loan has no repayment schedule"
    )
    if len(ix.code) and (ix.code < 0).any():
        sid = book.schedule["loan_id"]
        bad = sid[~isin_values(sid, ix.loan_ids)].to_numpy()
        errors.add("schedule", "loan_id", "unknown loan", ids=bad)
    if (ix.pay_code < 0).any():
        errors.check(
            "payments", "loan_id", ix.pay_code < 0, book.payments["loan_id"], "unknown loan"
        )
    if not ix.loan_ids.is_unique:
        dup = ix.loan_ids.duplicated(keep=False)
        errors.check("loans", "loan_id", dup, ix.loan_ids, "duplicate id")


def _is_store(obj) -> bool:
    return hasattr(obj, "has_table") and hasattr(obj, "read")


def _overrides_at(overrides, as_of, loan_pos: pd.Index, errors: ProblemCollector):
    """The overrides that apply at ``as_of`` (indexed by loan id), or None. ``overrides``
    already validated (a frame from :func:`validate_overrides`) are only checked against
    ``loan_pos``."""
    if overrides is None:
        return None
    if isinstance(overrides, _Validated):
        ov = effective_overrides(overrides.frame, as_of)
        unknown = ~isin_values(pd.Series(ov.index), loan_pos)
        rule = "unknown loan (not in the classified book)"
        errors.check("overrides", "loan_id", unknown, ov.index, rule)
        return ov
    if _is_store(overrides):
        stored = load_overrides(overrides, as_of)
        ov = effective_overrides(stored, as_of) if len(stored) else None
        if ov is not None:
            unknown = ~isin_values(pd.Series(ov.index), loan_pos)
            errors.check("classification_overrides", "loan_id", unknown, ov.index, "unknown loan")
        return ov
    try:
        return effective_overrides(
            validate_overrides(overrides, loan_ids=loan_pos, as_of=as_of), as_of
        )
    except ValidationError as exc:  # collect with the other problems
        errors.problems.extend(exc.problems)
        return None


@dataclass
class _Validated:
    """Overrides validated once for a whole history."""

    frame: pd.DataFrame


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
        as_of = book._as_of(as_of)
        ix = book.schedule_index
        errors = ProblemCollector("classification input")
        _check_book(book, ix, as_of, errors)
        signals = _signal_table(book, extra_signals, errors)
        n = len(ix.loan_ids)
        sig_bits = np.zeros(n, np.int64)
        if not errors:
            sig_bits = _signal_arrays(signals, ix.loan_ids, as_of, self.policy, errors)
        recovery = recovery_rows(book.recovery_status, ix.loan_ids).latest(as_of, n)
        written_off = written_off_mask(write_offs, ix.loan_ids, as_of, errors)
        ov = _overrides_at(overrides, as_of, ix.loan_ids, errors)
        errors.raise_if_any()
        keep = np.arange(n)
        inputs = _status_rows(ix, as_of, keep, self.policy)
        panel = _Panel(
            pos=keep, group=np.zeros(n, np.int64), starts=np.array([0, n]),
            signal_bits=sig_bits, recovery=recovery, written_off=written_off, **inputs,
        )  # fmt: skip
        cols = self._decide(book.loans, ix, panel, [ov])
        frame = pd.DataFrame(cols, index=pd.Index(ix.loan_ids, name="loan_id"))
        return ClassificationResult(frame, as_of=as_of, policy=self.policy)

    def classify_history(
        self, book, dates, overrides=None, extra_signals=None, columns=None, write_offs=None
    ) -> pd.DataFrame:
        """The classification at each of ``dates``, in one pass over the loan-month panel.

        Equal, row for row, to ``classify(book.disbursed_by(d), d, overrides, extra,
        write_offs)`` for
        each date ``d`` stacked (:meth:`ClassificationResult.to_frame`), with ``extra`` the
        ``extra_signals`` of the loans disbursed by ``d``; the delinquency is derived once
        per date on the whole book's index and everything else (signals, rules, borrower
        consistency, explanations) runs once over all loan-dates.

        Parameters
        ----------
        book : LoanBook
        dates : sequence of date-like
            As-of dates (month-ends); dates with no loan disbursed yet give no rows.
        overrides, extra_signals, write_offs : optional
            As for :meth:`classify` (a Store's overrides apply per date).
        columns : list of str, optional
            Only these result columns (besides ``as_of`` and ``loan_id``): a long history of
            a large book is several GB with every column; migration needs five.

        Returns
        -------
        DataFrame
            Columns ``as_of``, ``loan_id`` and those of :class:`ClassificationResult`,
            sorted by date and then in the book's loan order.
        """
        dates = sorted(pd.Timestamp(d) for d in dates)
        ix = book.schedule_index
        errors = ProblemCollector("classification input")
        _check_book(book, ix, None, errors)
        signals = _signal_table(book, extra_signals, errors)
        wo = write_off_rows(write_offs, ix.loan_ids, errors)
        errors.raise_if_any()
        panel, used, ovs = self._history_panel(book, ix, dates, signals, overrides, wo)
        cols = self._decide(book.loans, ix, panel, ovs, columns)
        frame = pd.DataFrame(cols, index=pd.RangeIndex(len(panel.pos)))
        frame.insert(0, "loan_id", ix.loan_ids.take(panel.pos))
        as_of = np.asarray([np.datetime64(d.date(), "ns") for d in used], dtype="datetime64[ns]")
        frame.insert(0, "as_of", as_of[panel.group] if len(used) else as_of[:0])
        return frame

    def _history_panel(self, book, ix: ScheduleIndex, dates, signals, overrides, wo):
        """Stack the per-date rule inputs of the loans disbursed by each date."""
        parts, used, ovs = [], [], []
        errors = ProblemCollector("classification input")
        if overrides is not None and not _is_store(overrides):
            try:  # once; rows without an as_of date apply at every date
                overrides = _Validated(validate_overrides(overrides, loan_ids=ix.loan_ids))
            except ValidationError as exc:
                errors.problems.extend(exc.problems)
                overrides = None
        sr = _SignalRows.build(signals, ix.loan_ids, self.policy)
        rr = recovery_rows(book.recovery_status, ix.loan_ids)
        n = len(ix.loan_ids)
        for d in dates:  # a loop over month-ends, not loans
            keep = np.flatnonzero(ix.disb <= _as_day(d))
            if not len(keep):
                continue
            on_book = np.zeros(n, dtype=bool)
            on_book[keep] = True
            # the signals of the loans on the book then (as book.disbursed_by(d) holds)
            rows = sr.active(d, self.policy) & (sr.pos >= 0) & on_book[np.maximum(sr.pos, 0)]
            bits = sr.arrays(np.flatnonzero(rows), n, errors)
            ovs.append(_overrides_at(overrides, d, ix.loan_ids[keep], errors))
            part = _status_rows(ix, d, keep, self.policy)
            part.update(
                pos=keep,
                signal_bits=bits[keep],
                recovery=rr.latest(d, n)[keep],
                written_off=wo.latest(d, n)[keep] > 0,
            )
            parts.append(part)
            used.append(d)
        errors.raise_if_any()
        sizes = [len(p["pos"]) for p in parts]
        stacked = {k: np.concatenate([p[k] for p in parts]) for k in (parts[0] if parts else {})}
        if not parts:
            raise ValueError(f"no loan disbursed by {dates[-1].date() if dates else '-'}")
        panel = _Panel(
            group=np.repeat(np.arange(len(parts)), sizes),
            starts=np.r_[0, np.cumsum(sizes)],
            **stacked,
        )
        return panel, used, ovs

    def _decide(
        self, loans, ix: ScheduleIndex, panel: _Panel, overrides: list, columns=None
    ) -> dict:
        """Rules, borrower consistency, overrides and explanations of every panel row; the
        result columns (only ``columns`` when given: the others are not built)."""

        def want(c: str) -> bool:
            return columns is None or c in columns

        policy = self.policy
        out = apply_rules(
            panel.missed,
            panel.dpd,
            signal_bits=panel.signal_bits,
            recovery_status=panel.recovery,
            late_recent=panel.late_recent,
            paid_off=panel.paid_off,
            policy=policy,
        )
        final = out.final
        bits = out.bits | (panel.written_off.astype(np.int64) << BIT["written_off"])
        if policy["classification"]["borrower_consistency"]:
            final, bits = _borrower_consistency(loans, ix, panel, final, bits)
        final, bits, ov_cols = _apply_overrides(ix, panel, overrides, final, bits)
        whole = len(panel.pos) == len(loans) and bool((panel.pos == np.arange(len(loans))).all())
        cols: dict[str, object] = {
            c: loans[c].array if whole else loans[c].array.take(panel.pos)  # no copy if all
            for c in _LOAN_COLS
            if c in loans.columns and want(c)
        }
        cols.update(
            {
                "category": pd.Categorical.from_codes(final, dtype=CATEGORY_DTYPE),
                "quantitative_category": pd.Categorical.from_codes(
                    out.quantitative, dtype=CATEGORY_DTYPE
                ),
                "outstanding_principal": np.where(panel.written_off, 0.0, panel.outstanding),
                "arrears": np.where(panel.written_off, 0.0, panel.arrears),
                "missed_periods": panel.missed,
                "days_past_due": panel.dpd,
                "paid_off": panel.paid_off,
                "written_off": panel.written_off,
            }
        )
        if want("rules"):
            ub, inv = np.unique(bits, return_inverse=True)
            names = pd.Index([",".join(rule_codes(b)) for b in ub], dtype="str")
            cols["rules"] = pd.Categorical.from_codes(inv, categories=names)
        cols["rule_bits"] = bits
        if want("explanation_en") or want("explanation_zh"):
            en, zh = explain(bits, panel.missed, out.quantitative, final, policy)
            cols.update(explanation_en=en, explanation_zh=zh)
        cols.update(ov_cols)
        return {c: v for c, v in cols.items() if want(c)}


def _borrower_consistency(loans, ix: ScheduleIndex, panel: _Panel, final, bits):
    """Every loan of a borrower takes the borrower's worst category at the same date;
    written-off loans are off the balance sheet: they neither set nor take it."""
    borrower = loans["borrower_id"] if "borrower_id" in loans.columns else ix.loan_ids
    bcode, uniq = factorize_ids(borrower)
    key = panel.group * max(len(uniq), 1) + bcode[panel.pos]
    worst = np.zeros(int(key.max()) + 1 if len(key) else 0, dtype=np.int8)
    np.maximum.at(worst, key, np.where(panel.written_off, np.int8(0), final))
    raised = (worst[key] > final) & ~panel.paid_off & ~panel.written_off
    bits = bits | (raised.astype(np.int64) << BIT["borrower_consistency"])
    return np.where(raised, worst[key], final).astype(np.int8), bits


def _apply_overrides(ix: ScheduleIndex, panel: _Panel, overrides: list, final, bits):
    """Manual overrides per date group; the override columns."""
    n = len(panel.pos)
    author = pd.Series(pd.NA, index=pd.RangeIndex(n), dtype="str").array
    reason = pd.Series(pd.NA, index=pd.RangeIndex(n), dtype="str").array
    created = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    hit = np.zeros(n, dtype=bool)
    final = final.copy()
    for g, ov in enumerate(overrides):
        if ov is None or not len(ov):
            continue
        lo, hi = panel.starts[g], panel.starts[g + 1]
        at = positions(pd.Index(ix.loan_ids.take(panel.pos[lo:hi])), pd.Series(ov.index))
        rows = lo + at[at >= 0]
        ov = ov[at >= 0]
        final[rows] = np.array([int(Category.parse(c)) for c in ov["category"]], dtype=np.int8)
        hit[rows] = True
        author[rows] = ov["author"].astype("str").array
        reason[rows] = ov["reason"].astype("str").array
        created[rows] = ov["created_at"].to_numpy(dtype="datetime64[ns]")
    bits = bits | (hit.astype(np.int64) << BIT["manual_override"])
    cols = {"override_author": author, "override_reason": reason, "override_created_at": created}
    return final, bits, cols


def category_summary(counts: pd.DataFrame, npl_ratio: float, as_of) -> pd.DataFrame:
    """The five-category summary (:meth:`ClassificationResult.summary`) from ``counts``, the
    loans and balance per category (index: categories, columns ``loans`` and ``balance``; a
    book's partitions' counts added together give the book's), with Chinese labels, shares
    and a total row; ``attrs``: ``npl_ratio`` and ``as_of``."""
    out = counts.copy()
    out.index = pd.Index([Category.parse(c).code for c in out.index], name="category")
    out["label_zh"] = [Category.parse(c).zh for c in out.index]
    tot_n, tot_b = out["loans"].sum(), out["balance"].sum()
    out["loan_share"] = out["loans"] / tot_n if tot_n else 0.0
    out["balance_share"] = out["balance"] / tot_b if tot_b else 0.0
    out.loc["total"] = [tot_n, tot_b, "合计", 1.0 if tot_n else 0.0, 1.0 if tot_b else 0.0]
    out["loans"] = out["loans"].astype(np.int64)
    out.attrs["npl_ratio"] = npl_ratio
    out.attrs["as_of"] = pd.Timestamp(as_of)
    return out


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
        counts = pd.DataFrame({"loans": g.size(), "balance": g.sum()})
        out = category_summary(counts, self.npl_ratio, self.as_of)
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
