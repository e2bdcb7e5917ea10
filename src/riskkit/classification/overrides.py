"""Manual overrides of the five-category result, with author, reason and date, kept for audit.

An override says: for the classification as of ``as_of``, loan ``loan_id`` is in ``category``,
because ``reason``, decided by ``author`` at ``created_at``. Overrides are validated as a
whole (unknown category, missing reason or author, unknown loan: a
:class:`~riskkit.errors.ValidationError` naming column, loan id and rule; nothing applied or
written). In the store they live in the append-only table ``classification_overrides``: rows
are never updated or deleted; when a loan has several overrides for one as-of date the latest
``created_at`` applies.

Examples
--------
>>> import pandas as pd
>>> from riskkit.classification.overrides import validate_overrides
>>> ov = validate_overrides(pd.DataFrame({"loan_id": ["L1"], "category": ["可疑"],
...     "author": ["Wang"], "reason": ["enforcement filed in court"],
...     "created_at": [pd.Timestamp("2026-10-30")]}))
>>> ov.loc[0, "category"]
'doubtful'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..categories import Category
from ..errors import ProblemCollector, is_blank

TABLE = "classification_overrides"
COLUMNS = ("override_id", "as_of", "loan_id", "category", "author", "reason", "created_at")
_CODES = {}
for _c in Category:
    for _k in (_c.code, _c.en.lower(), _c.zh, _c.code.replace("_", " ")):
        _CODES[_k] = _c.code


def validate_overrides(overrides, loan_ids=None, as_of=None) -> pd.DataFrame:
    """Check and normalise overrides; raise ValidationError listing every problem.

    Parameters
    ----------
    overrides : DataFrame or list of dict
        Columns ``loan_id``, ``category`` (code, English or Chinese label, or 0-4), ``author``,
        ``reason``; optional ``created_at`` (default: now) and ``as_of``.
    loan_ids : array-like, optional
        Loans that may be overridden (those classified); others are an error.
    as_of : date-like, optional
        Fills a missing ``as_of`` column.

    Returns
    -------
    DataFrame with ``as_of, loan_id, category`` (code), ``author, reason, created_at``.
    """
    df = pd.DataFrame(overrides).copy() if not isinstance(overrides, pd.DataFrame) else overrides
    df = df.reset_index(drop=True)
    errors = ProblemCollector("classification overrides")
    errors.require("overrides", df, ("loan_id", "category", "author", "reason"))
    errors.raise_if_any()
    ids = df["loan_id"]
    errors.check("overrides", "loan_id", df["loan_id"].isna().to_numpy(), ids, "missing loan id")
    raw = df["category"]
    if pd.api.types.is_integer_dtype(raw.dtype):
        ok = raw.between(0, 4).to_numpy(dtype=bool)
        codes = pd.Series(
            np.where(ok, np.array(Category.codes(), dtype=object)[np.clip(raw, 0, 4)], None)
        )
    else:
        key = raw.astype(str).str.strip()
        codes = key.map(_CODES).fillna(key.str.lower().map(_CODES))
        ok = codes.notna().to_numpy(dtype=bool) & raw.notna().to_numpy(dtype=bool)
    if (~ok).any():
        vals = sorted({str(v) for v in raw[~ok].head(20)})[:5]
        errors.check(
            "overrides",
            "category",
            ~ok,
            ids,
            f"unknown category {vals}; expected one of {Category.codes()} or 正常/关注/次级/可疑/损失",
        )
    errors.check("overrides", "author", is_blank(df["author"]), ids, "author is required")
    errors.check("overrides", "reason", is_blank(df["reason"]), ids, "a reason is required")
    if loan_ids is not None:
        unknown = ~df["loan_id"].isin(pd.Index(loan_ids)).to_numpy(dtype=bool)
        errors.check(
            "overrides", "loan_id", unknown, ids, "unknown loan (not in the classified book)"
        )
    if "created_at" in df.columns:
        created = pd.to_datetime(df["created_at"], errors="coerce", format="mixed")
        errors.check(
            "overrides", "created_at", created.isna().to_numpy(), ids, "not a valid timestamp"
        )
    else:
        created = pd.Series(pd.Timestamp.now().floor("s"), index=df.index)
    if "as_of" in df.columns:
        given = df["as_of"].notna().to_numpy()
        asof = pd.to_datetime(df["as_of"], errors="coerce", format="mixed")
        # a value that does not parse is an error; only a value left empty takes the run's date
        errors.check("overrides", "as_of", given & asof.isna().to_numpy(), ids, "not a valid date")
        if as_of is not None:
            asof = asof.where(given, pd.Timestamp(as_of))
    elif as_of is not None:
        asof = pd.Series(pd.Timestamp(as_of), index=df.index)
    else:
        asof = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    errors.raise_if_any()
    return pd.DataFrame(
        {
            "as_of": asof.astype("datetime64[ns]").to_numpy(),
            "loan_id": df["loan_id"].to_numpy(),
            "category": codes.astype(str).to_numpy(),
            "author": df["author"].astype(str).str.strip().to_numpy(),
            "reason": df["reason"].astype(str).str.strip().to_numpy(),
            "created_at": created.astype("datetime64[ns]").to_numpy(),
        }
    )


def effective_overrides(overrides: pd.DataFrame, as_of) -> pd.DataFrame:
    """The override that applies to each loan at ``as_of``: the latest ``created_at`` among
    those for that as-of date (rows without ``as_of`` apply to any date). Indexed by loan_id."""
    d = pd.Timestamp(as_of)
    if len(overrides) == 0:
        return overrides.set_index("loan_id")
    hit = overrides["as_of"].isna() | (overrides["as_of"] == d)
    o = overrides[hit.to_numpy(dtype=bool)]
    sort_cols = ["created_at"] + (["override_id"] if "override_id" in o.columns else [])
    o = o.sort_values(sort_cols, kind="stable").drop_duplicates("loan_id", keep="last")
    return o.set_index("loan_id")


def record_overrides(store, overrides, as_of, loan_ids=None) -> pd.DataFrame:
    """Validate and append overrides to the audit table ``classification_overrides``.

    Nothing is written if any override is invalid. Returns the rows written, with their
    ``override_id`` (increasing). Rows are never updated or deleted afterwards.

    Parameters
    ----------
    store : riskkit.store.Store
    overrides : DataFrame or list of dict
    as_of : date-like
        The classification date the overrides are for.
    loan_ids : array-like, optional
        Valid loan ids (e.g. ``result.table.index``); others are an error.
    """
    ov = validate_overrides(overrides, loan_ids=loan_ids, as_of=as_of)
    with store.transaction() as conn:
        return store.append_numbered(TABLE, ov, "override_id", conn)


def load_overrides(store, as_of=None) -> pd.DataFrame:
    """All recorded overrides (or those for one as-of date), oldest first."""
    if not store.has_table(TABLE):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    where = {"as_of": pd.Timestamp(as_of)} if as_of is not None else None
    return store.read(
        TABLE, where=where, order_by="override_id", allowed={"category": Category.codes()}
    )
