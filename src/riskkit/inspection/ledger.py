"""The inspection ledger (贷后检查台账) in the store: one row per inspection, append-only.

Each row: ``inspection_id``, ``loan_id``, ``inspection_date``, ``officer_id``, ``method``
(``phone`` 电话提示, ``meeting`` 约见借款人, ``on_site`` 现场核验, ``employer_visit`` 走访借款人
所在单位), ``findings`` (free text), ``signals`` (comma-separated risk-signal codes observed),
``proposed_action`` (``collection`` 催收, ``enforcement`` 强制清收, ``restructuring`` 重组,
``none``), optional ``category_assessed``, and ``created_at``. Rows are validated as a whole
(nothing is written if any row is wrong) and never updated or deleted. Signals observed in an
inspection are also appended, in the same transaction, to the manual risk-signal table so the
classifier and the watch list see them.

Examples
--------
>>> from riskkit.inspection.ledger import METHODS, ACTIONS
>>> METHODS, ACTIONS
(('phone', 'meeting', 'on_site', 'employer_visit'), ('collection', 'enforcement', 'restructuring', 'none'))
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..book.schema import SIGNAL_CODES
from ..categories import Category
from ..errors import ProblemCollector, is_blank
from ..privacy import mask_text
from .signals import MANUAL_TABLE

TABLE = "inspection_ledger"
METHODS = ("phone", "meeting", "on_site", "employer_visit")
ACTIONS = ("collection", "enforcement", "restructuring", "none")
METHOD_ZH = {"phone": "电话提示", "meeting": "约见借款人", "on_site": "现场核验",
             "employer_visit": "走访借款人所在单位"}  # fmt: skip
ACTION_ZH = {"collection": "催收", "enforcement": "强制清收", "restructuring": "重组",
             "none": "无"}  # fmt: skip


def validate_inspections(rows, loan_ids=None, as_of=None) -> pd.DataFrame:
    """Check ledger rows; raise :class:`~riskkit.errors.ValidationError` listing every problem.

    Parameters
    ----------
    rows : DataFrame or list of dict
        ``loan_id, inspection_date, officer_id, method, findings, proposed_action``; optional
        ``signals`` (list or comma-separated codes) and ``category_assessed``.
    loan_ids : array-like, optional
        Known loans; others are an error.
    as_of : date-like, optional
        Inspections dated after it are an error.
    """
    df = pd.DataFrame(rows).reset_index(drop=True)
    errors = ProblemCollector("inspection ledger")
    need = ("loan_id", "inspection_date", "officer_id", "method", "findings", "proposed_action")
    errors.require(TABLE, df, need)
    errors.raise_if_any()
    ids = df["loan_id"]
    date = pd.to_datetime(df["inspection_date"], errors="coerce", format="mixed")
    errors.check(TABLE, "inspection_date", date.isna().to_numpy(), ids, "not a valid date")
    if as_of is not None:
        fut = (date > pd.Timestamp(as_of)).to_numpy(dtype=bool, na_value=False)
        errors.check(TABLE, "inspection_date", fut, ids, "in the future")
    errors.check(TABLE, "officer_id", is_blank(df["officer_id"]), ids, "officer is required")
    errors.check(TABLE, "findings", is_blank(df["findings"]), ids, "findings are required")
    errors.check(
        TABLE,
        "method",
        ~df["method"].isin(METHODS).to_numpy(dtype=bool),
        ids,
        f"unknown method; allowed: {list(METHODS)}",
    )
    errors.check(
        TABLE,
        "proposed_action",
        ~df["proposed_action"].isin(ACTIONS).to_numpy(dtype=bool),
        ids,
        f"unknown proposed action; allowed: {list(ACTIONS)}",
    )
    if loan_ids is not None:
        unk = ~df["loan_id"].isin(pd.Index(loan_ids)).to_numpy(dtype=bool)
        errors.check(TABLE, "loan_id", unk, ids, "unknown loan")
    if "signals" in df.columns:
        sig = df["signals"].map(
            lambda v: (
                ",".join(v)
                if isinstance(v, (list, tuple, set))
                else ("" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
            )
        )
    else:
        sig = pd.Series("", index=df.index)
    sig = sig.str.replace(" ", "", regex=False)
    exploded = sig.str.split(",").explode()
    exploded = exploded[exploded != ""]
    bad = ~exploded.isin(SIGNAL_CODES)
    if bad.any():
        rows_bad = np.zeros(len(df), dtype=bool)
        rows_bad[exploded.index[bad.to_numpy()].to_numpy()] = True
        errors.check(
            TABLE,
            "signals",
            rows_bad,
            ids,
            f"unknown signal(s) {sorted(set(exploded[bad]))[:5]}; allowed: {list(SIGNAL_CODES)}",
        )
    cat = pd.Series(pd.NA, index=df.index, dtype="str")
    if "category_assessed" in df.columns:
        raw = df["category_assessed"]
        parsed = raw.map(lambda v: None if v is None or v is pd.NA or v != v else _try_cat(v))
        badc = raw.notna().to_numpy(dtype=bool) & parsed.isna().to_numpy(dtype=bool)
        errors.check(TABLE, "category_assessed", badc, ids, "unknown category")
        cat = parsed.astype("str")
    errors.raise_if_any()
    return pd.DataFrame(
        {
            "loan_id": df["loan_id"].to_numpy(),
            "inspection_date": date.astype("datetime64[ns]").to_numpy(),
            "officer_id": df["officer_id"].astype(str).to_numpy(),
            "method": df["method"].astype(str).to_numpy(),
            "findings": df["findings"].astype(str).str.strip().to_numpy(),
            "signals": sig.astype(str).to_numpy(),
            "proposed_action": df["proposed_action"].astype(str).to_numpy(),
            "category_assessed": cat.array,
        }
    )


def _try_cat(v):
    try:
        return Category.parse(v).code
    except ValueError:
        return None


def record_inspections(store, rows, loan_ids=None, as_of=None, conn=None) -> pd.DataFrame:
    """Validate and append inspections to the ledger (and their signals to the manual signal
    table) in one transaction -- the caller's, when ``conn`` is given (e.g. to store a book and
    its ledger together). Returns the rows written with their ``inspection_id``."""
    led = validate_inspections(rows, loan_ids=loan_ids, as_of=as_of)
    if conn is None:
        with store.transaction() as c:
            return _append_inspections(store, led, c)
    return _append_inspections(store, led, conn)


def _append_inspections(store, led: pd.DataFrame, conn) -> pd.DataFrame:

    now = pd.Timestamp.now().floor("s")
    led = store.append_numbered(TABLE, led.assign(created_at=now), "inspection_id", conn)
    s = led[["loan_id", "inspection_date", "signals", "officer_id", "findings"]]
    s = s.assign(signal=s["signals"].str.split(",")).explode("signal")
    s = s[s["signal"].notna() & (s["signal"] != "")]
    if len(s):
        manual = pd.DataFrame(
            {
                "loan_id": s["loan_id"].to_numpy(),
                "signal_date": s["inspection_date"].to_numpy(),
                "signal": s["signal"].astype(str).to_numpy(),
                "source": "manual",
                "note": ("inspection " + led.loc[s.index, "inspection_id"].astype(str)).to_numpy(),
                "author": s["officer_id"].to_numpy(),
                "created_at": now,
            }
        )
        store.append(MANUAL_TABLE, manual, conn=conn)
    return led


def load_ledger(store, start=None, end=None, masked: bool = True) -> pd.DataFrame:
    """Ledger rows (optionally with ``inspection_date`` in ``[start, end]``), oldest first.
    ``findings`` are shown with ID and phone numbers masked unless ``masked=False``."""
    if not store.has_table(TABLE):
        return pd.DataFrame(
            {
                "inspection_id": pd.Series(dtype=np.int64),
                "loan_id": pd.Series(dtype=object),
                "inspection_date": pd.Series(dtype="datetime64[ns]"),
                "officer_id": pd.Series(dtype=object),
                "method": pd.Series(dtype=object),
                "findings": pd.Series(dtype=object),
                "signals": pd.Series(dtype=object),
                "proposed_action": pd.Series(dtype=object),
                "category_assessed": pd.Series(dtype=object),
                "created_at": pd.Series(dtype="datetime64[ns]"),
            }
        )
    codes = Category.codes()
    df = store.read(TABLE, order_by="inspection_id", allowed={"category_assessed": codes})
    if start is not None:
        df = df[df["inspection_date"] >= pd.Timestamp(start)]
    if end is not None:
        df = df[df["inspection_date"] <= pd.Timestamp(end)]
    if masked and len(df):
        df = df.assign(findings=df["findings"].map(mask_text))
    return df.reset_index(drop=True)
