"""Risk signals that put a loan under special watch (seed 002, art. 5; DOMAIN.md s.5).

* :func:`signal_catalogue`: the 16 signals of article 5 and ``guarantor_liability`` (a joint
  guarantee partner in arrears) with English and Chinese wording, severity (from
  ``inspection.severe_signals``), the minimum category each implies (from
  ``classification.signal_minimum``) and how riskkit learns of it (``detection``):
  ``derived`` (computed from the book by :func:`detect_signals`), ``feed`` (arrives in the
  book's ``signals`` table from other systems: contact changes, guarantor downgrade, missing
  documents, enforcement) or ``manual`` (recorded by the officer with :func:`record_signals`).
* :func:`detect_signals`: signals visible in the data as of a date: ``missed_installment``
  (consecutive missed periods > 0), ``income_drop`` (the borrower's regular monthly
  installments exceed ``income_installment_max_share`` x a *re-assessed* income,
  ``borrowers.current_monthly_income``: the income known at onboarding says nothing about a
  drop, so without a re-assessed income this signal is left to inspections; the principal due
  at maturity of bullet and interest-only loans is planned, not regular, and is left out) and
  ``collateral_value_low`` (latest appraised value of the loan's collateral <=
  ``collateral_value_warn_ratio`` x outstanding principal).
* :func:`record_signals`: manual recording, validated, appended to the store table
  ``risk_signals_manual`` with author and time (never updated or deleted).
* :func:`watch_list`: loans with any active signal or a category of special mention or worse.

Examples
--------
>>> from riskkit.inspection.signals import signal_catalogue
>>> cat = signal_catalogue()
>>> len(cat), cat.loc["enforcement_started", "minimum_category"], cat.loc["income_drop", "zh"]
(17, 'doubtful', '收入明显下降，不足以还款')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..book.delinquency import day_numbers, status_arrays
from ..categories import Category
from ..errors import ProblemCollector, is_blank
from ..policy import Policy, load_policy
from ..risk_signals import SIGNAL_CODES, RiskSignal

MANUAL_TABLE = "risk_signals_manual"
_SIGNAL_COLS = ["loan_id", "signal_date", "signal", "source", "note"]


def signal_catalogue(policy: Policy | dict | None = None) -> pd.DataFrame:
    """The risk signals (the 16 of seed 002 art. 5 in the seed's order, then
    ``guarantor_liability``), indexed by code."""
    pol = load_policy(policy)
    severe = set(pol["inspection"]["severe_signals"])
    minimum = pol["classification"]["signal_minimum"]
    rows = [
        {
            "code": sig.code,
            "number": sig.number,
            "en": sig.en,
            "zh": sig.zh,
            "severity": "severe" if sig.code in severe else "adverse",
            "minimum_category": Category.parse(minimum.get(sig.code, "special_mention")).code,
            "detection": sig.detection,
            "detectable_from_data": sig.detection != "manual",
        }
        for sig in RiskSignal
    ]
    return pd.DataFrame(rows).set_index("code")


def _regular_installment(book, a: int) -> np.ndarray:
    """Per loan: the first installment due after day ``a`` (0 when matured), without the
    principal that bullet and interest-only loans repay at maturity."""
    ix = book.schedule_index
    n = len(ix.loan_ids)
    future = ix.due > a
    rows = np.flatnonzero(future)
    out = np.zeros(n)
    if len(rows):
        c = ix.code[rows]
        first = rows[np.r_[True, c[1:] != c[:-1]]]
        balloon = np.isin(
            book.loans["repayment_method"].to_numpy(dtype=object), ("bullet", "interest_only")
        )
        amount = np.where(balloon[ix.code[first]], ix.interest[first], ix.amount_due_at(first))
        out[ix.code[first]] = amount
    return out


def detect_signals(book, as_of=None, policy: Policy | dict | None = None) -> pd.DataFrame:
    """Signals visible in the book's data as of a date (``source == "data"``).

    Returns a signals table (``loan_id, signal_date, signal, source, note``) that can be
    passed to :meth:`~riskkit.classification.Classifier.classify` as ``extra_signals``.
    """
    pol = load_policy(policy)
    ip = pol["inspection"]
    as_of = book._as_of(as_of)
    a = int(day_numbers(np.datetime64(as_of.date())))
    ix = book.schedule_index
    st = status_arrays(ix, as_of, pol)
    ids = ix.loan_ids
    active = (ix.disb <= a) & ~st["paid_off"]
    frames = []

    m = active & (st["missed_periods"] > 0)
    oldest = st["oldest_unpaid_due"][m].astype("datetime64[D]").astype("datetime64[ns]")
    frames.append(
        pd.DataFrame(
            {
                "loan_id": ids[m],
                "signal_date": oldest,
                "signal": "missed_installment",
                "note": pd.Series(st["missed_periods"][m]).astype(str)
                + " missed period(s), "
                + pd.Series(st["days_past_due"][m]).astype(str)
                + " days past due",
            }
        )
    )

    b = book.borrowers
    if "current_monthly_income" in b.columns and "borrower_id" in book.loans.columns and len(b):
        inst = np.where(active, _regular_installment(book, a), 0.0)
        per_b = pd.Series(inst).groupby(book.loans["borrower_id"].to_numpy()).sum()
        income = b.drop_duplicates("borrower_id").set_index("borrower_id")["current_monthly_income"]
        inc = income.reindex(per_b.index).to_numpy(dtype=float, na_value=np.nan)
        short = per_b.to_numpy() > ip["income_installment_max_share"] * inc
        bad_b = per_b.index[np.nan_to_num(short, nan=0).astype(bool) & ~np.isnan(inc)]
        hit = active & book.loans["borrower_id"].isin(bad_b).to_numpy() & (inst > 0)
        frames.append(
            pd.DataFrame(
                {
                    "loan_id": ids[hit],
                    "signal_date": np.datetime64(as_of.date(), "ns"),
                    "signal": "income_drop",
                    "note": "monthly installments exceed the share of re-assessed income "
                    f"{ip['income_installment_max_share']:g}",
                }
            )
        )

    col = book.collateral
    if len(col):
        c = col[(col["valuation_date"] <= as_of).to_numpy(dtype=bool)]
        c = c.sort_values("valuation_date", kind="stable").drop_duplicates(
            "collateral_id", keep="last"
        )
        val = c.groupby("loan_id")["appraised_value"].sum()
        when = c.groupby("loan_id")["valuation_date"].max()
        pos = pd.Index(ids).get_indexer(val.index)
        ok = pos >= 0
        bal = st["outstanding_principal"][pos[ok]]
        low = (val.to_numpy()[ok] <= ip["collateral_value_warn_ratio"] * bal) & active[pos[ok]]
        frames.append(
            pd.DataFrame(
                {
                    "loan_id": ids[pos[ok][low]],
                    "signal_date": when.to_numpy()[ok][low],
                    "signal": "collateral_value_low",
                    "note": "latest appraised value at or below "
                    f"{ip['collateral_value_warn_ratio']:g} x outstanding principal",
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out["source"] = "data"
    out["signal_date"] = out["signal_date"].astype("datetime64[ns]")
    return out[_SIGNAL_COLS]


def validate_signals(rows, loan_ids=None, as_of=None) -> pd.DataFrame:
    """Check manually recorded signals (``loan_id, signal_date, signal, author``, optional
    ``note``); raise ValidationError listing every problem."""
    df = pd.DataFrame(rows).reset_index(drop=True)
    errors = ProblemCollector("risk signals")
    errors.require("signals", df, ("loan_id", "signal_date", "signal", "author"))
    errors.raise_if_any()
    ids = df["loan_id"]
    errors.check(
        "signals",
        "signal",
        ~df["signal"].isin(SIGNAL_CODES).to_numpy(dtype=bool),
        ids,
        f"unknown signal; allowed: {list(SIGNAL_CODES)}",
    )
    errors.check("signals", "author", is_blank(df["author"]), ids, "author is required")
    date = pd.to_datetime(df["signal_date"], errors="coerce", format="mixed")
    errors.check("signals", "signal_date", date.isna().to_numpy(), ids, "not a valid date")
    if as_of is not None:
        late = (date > pd.Timestamp(as_of)).to_numpy(dtype=bool, na_value=False)
        errors.check("signals", "signal_date", late, ids, "in the future")
    if loan_ids is not None:
        unk = ~df["loan_id"].isin(pd.Index(loan_ids)).to_numpy(dtype=bool)
        errors.check("signals", "loan_id", unk, ids, "unknown loan")
    errors.raise_if_any()
    note = df["note"] if "note" in df.columns else pd.Series(pd.NA, index=df.index, dtype="str")
    return pd.DataFrame(
        {
            "loan_id": df["loan_id"].to_numpy(),
            "signal_date": date.astype("datetime64[ns]").to_numpy(),
            "signal": df["signal"].astype(str).to_numpy(),
            "source": "manual",
            "note": note.astype("str").array,
            "author": df["author"].astype(str).str.strip().to_numpy(),
        }
    )


def record_signals(store, rows, loan_ids=None, as_of=None) -> pd.DataFrame:
    """Validate and append manually observed signals to ``risk_signals_manual`` (with
    ``created_at``); nothing is written if any row is invalid."""
    df = validate_signals(rows, loan_ids=loan_ids, as_of=as_of)
    df["created_at"] = pd.Timestamp.now().floor("s")
    store.append(MANUAL_TABLE, df)
    return df


def load_manual_signals(store) -> pd.DataFrame:
    """Manually recorded signals (empty signals table if none)."""
    if not store.has_table(MANUAL_TABLE):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in _SIGNAL_COLS}).astype(
            {"signal_date": "datetime64[ns]"}
        )
    df = store.read(MANUAL_TABLE)
    # in recording order (then loan, date, signal), whatever order the database returns
    keys = ["created_at", "loan_id", "signal_date", "signal"]
    return df.sort_values(keys, kind="stable", ignore_index=True)


def active_signals(book, as_of=None, policy=None, store=None, detect: bool = True):
    """All signals active at ``as_of``: the book's table, detected ones and (with ``store``)
    manually recorded ones, within ``classification.signal_active_months`` (persistent
    signals for ever)."""
    pol = load_policy(policy)
    as_of = book._as_of(as_of)
    parts = [book.signals.reindex(columns=_SIGNAL_COLS)]
    if detect:
        parts.append(detect_signals(book, as_of, pol))
    if store is not None:
        parts.append(load_manual_signals(store).reindex(columns=_SIGNAL_COLS))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=_SIGNAL_COLS)
    s = pd.concat(parts, ignore_index=True)
    s["signal_date"] = pd.to_datetime(s["signal_date"])
    cp = pol["classification"]
    s = s[(s["signal_date"] <= as_of).to_numpy(dtype=bool)]
    months = cp.get("signal_active_months", 0)
    if months:
        since = as_of - pd.DateOffset(months=int(months))
        keep = (s["signal_date"] > since) | s["signal"].isin(cp.get("persistent_signals", []))
        s = s[keep.to_numpy(dtype=bool)]
    return s.reset_index(drop=True)


def watch_list(book, as_of=None, result=None, policy=None, store=None) -> pd.DataFrame:
    """Loans under special watch (特别监管) at ``as_of``.

    A loan is on the list if it has an active signal (book, detected, manual) or, given a
    classification ``result``, a category of special mention or worse or a joint-guarantee
    partner at special mention or worse (``guarantor_liability``). Columns:
    ``borrower_id, officer_id, branch, category, outstanding_principal, signals`` (codes),
    ``n_signals``, ``severe`` (any severe signal), ``latest_signal_date``; sorted by severe
    first, then category, then balance.
    """
    pol = load_policy(policy)
    as_of = book._as_of(as_of)
    s = active_signals(book, as_of, pol, store=store)
    if result is not None and len(book.guarantors):
        from ..book.groups import guarantor_liability_signals

        liable = guarantor_liability_signals(book.loans, book.guarantors, result, pol)
        s = pd.concat([s, liable], ignore_index=True) if len(liable) else s
    severe = set(pol["inspection"]["severe_signals"])
    s = s.assign(severe=s["signal"].isin(severe))
    g = s.groupby("loan_id")
    sig = pd.DataFrame(
        {
            "signals": g["signal"].agg(lambda x: ",".join(sorted(set(x)))),
            "n_signals": g["signal"].nunique(),
            "severe": g["severe"].any(),
            "latest_signal_date": g["signal_date"].max(),
        }
    )
    loans = book.loans.set_index("loan_id")
    keep_cols = [c for c in ("borrower_id", "officer_id", "branch") if c in loans.columns]
    base = loans[keep_cols]
    if result is not None:
        f = result.table
        base = base.join(f[["category", "outstanding_principal"]], how="left")
        flagged = f.index[f["category"].cat.codes.to_numpy() >= int(Category.SPECIAL_MENTION)]
        ids = sig.index.union(flagged)
    else:
        st = status_arrays(book.schedule_index, as_of, pol)
        base = base.assign(outstanding_principal=st["outstanding_principal"])
        ids = sig.index
    out = base.reindex(ids).join(sig, how="left")
    out["n_signals"] = out["n_signals"].fillna(0).astype(np.int64)
    out["severe"] = out["severe"].fillna(False).astype(bool)
    out["signals"] = out["signals"].fillna("")
    sort = ["severe", "outstanding_principal"]
    asc = [False, False]
    if "category" in out.columns:
        out["_c"] = out["category"].cat.codes
        sort, asc = ["severe", "_c", "outstanding_principal"], [False, False, False]
    out = out.sort_values(sort, ascending=asc, kind="stable").drop(columns="_c", errors="ignore")
    out.index.name = "loan_id"
    return out
