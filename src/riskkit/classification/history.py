"""Monthly classification history in the store, and what changed since the month before.

Results are kept in the table ``classification_results`` (one row per loan and ``as_of``).
Saving a month again replaces that month only, so re-runs are idempotent. Changes compare a
month with the latest earlier month stored: loans moved to a worse category (downgrades, 下调)
or a better one (upgrades, 上调), new loans and loans that left the book, plus the migration
matrix (counts and balances).

Examples
--------
>>> from riskkit.store import Store
>>> from riskkit.classification.history import ClassificationHistory
>>> h = ClassificationHistory(Store("sqlite://"))
>>> h.dates()
[]
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from ..categories import CATEGORY_DTYPE, Category

TABLE = "classification_results"
_ORDER = Category.codes()


def save_classification(store, result, conn=None) -> int:
    """Store ``result`` as the month ``result.as_of`` (replacing that month if present)."""
    df = result.to_frame()
    for c in ("category", "quantitative_category", "rules", "explanation_en", "explanation_zh"):
        df[c] = df[c].astype("str")
    return store.replace_where(TABLE, df, where={"as_of": result.as_of}, conn=conn)


def stored_dates(store) -> list[pd.Timestamp]:
    """As-of dates stored, oldest first."""
    if not store.has_table(TABLE):
        return []
    import sqlalchemy as sa

    with store.engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT DISTINCT as_of FROM {TABLE}")).scalars().all()
    return sorted(pd.to_datetime(pd.Series(rows), format="ISO8601").tolist())


def load_classification(store, as_of) -> pd.DataFrame:
    """Stored results of one month, indexed by loan_id, categories as ordered categoricals."""
    if not store.has_table(TABLE):
        raise KeyError(f"no classification stored in {store!r}")
    df = store.read(TABLE, where={"as_of": pd.Timestamp(as_of)})
    if df.empty:
        have = [d.date().isoformat() for d in stored_dates(store)]
        raise KeyError(f"no classification stored for {pd.Timestamp(as_of).date()}; have {have}")
    for c in ("category", "quantitative_category"):
        df[c] = df[c].astype(CATEGORY_DTYPE)
    return df.set_index("loan_id")


def compare(previous: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Per-loan change between two months' results (frames indexed by loan_id with
    ``category`` and ``outstanding_principal``).

    Returns one row per loan in either month: ``previous_category``, ``category``,
    ``change`` (``downgrade``, ``upgrade``, ``unchanged``, ``new``, ``exited``), ``steps``
    (positive = worse), previous and current balance.
    """
    ids = previous.index.union(current.index)
    p = previous["category"].astype(CATEGORY_DTYPE).reindex(ids)
    c = current["category"].astype(CATEGORY_DTYPE).reindex(ids)
    pc = p.cat.codes.to_numpy().astype(np.int64)
    cc = c.cat.codes.to_numpy().astype(np.int64)
    change = np.select(
        [pc < 0, cc < 0, cc > pc, cc < pc],
        ["new", "exited", "downgrade", "upgrade"],
        default="unchanged",
    )
    out = pd.DataFrame(
        {
            "previous_category": p,
            "category": c,
            "change": change,
            "steps": np.where((pc >= 0) & (cc >= 0), cc - pc, 0),
            "previous_balance": previous["outstanding_principal"].reindex(ids).fillna(0.0),
            "balance": current["outstanding_principal"].reindex(ids).fillna(0.0),
        },
        index=ids,
    )
    out.index.name = "loan_id"
    return out


def migration_matrix(changes: pd.DataFrame, value: str = "loans") -> pd.DataFrame:
    """Previous category (rows, plus ``new``) x current category (columns, plus ``exited``):
    loan counts (``value="loans"``) or previous balances (``value="balance"``)."""
    rows = ["new"] + _ORDER
    cols = _ORDER + ["exited"]
    r = changes["previous_category"].astype(object).where(changes["change"] != "new", "new")
    c = changes["category"].astype(object).where(changes["change"] != "exited", "exited")
    if value == "loans":
        m = pd.crosstab(r, c)
    elif value == "balance":
        w = changes["previous_balance"].where(changes["change"] != "new", changes["balance"])
        m = pd.crosstab(r, c, values=w, aggfunc="sum").fillna(0.0)
    else:
        raise ValueError(f"value must be 'loans' or 'balance', got {value!r}")
    m = m.reindex(index=rows, columns=cols, fill_value=0)
    m.index.name, m.columns.name = "previous", "current"
    return m


class ClassificationChanges:
    """Changes of one month against the previous stored month."""

    def __init__(self, table: pd.DataFrame, as_of, previous_as_of):
        self.table = table
        self.as_of = pd.Timestamp(as_of)
        self.previous_as_of = pd.Timestamp(previous_as_of)

    @property
    def downgrades(self) -> pd.DataFrame:
        return self.table[self.table["change"] == "downgrade"]

    @property
    def upgrades(self) -> pd.DataFrame:
        return self.table[self.table["change"] == "upgrade"]

    def counts(self) -> pd.Series:
        return (
            self.table["change"]
            .value_counts()
            .reindex(["downgrade", "upgrade", "unchanged", "new", "exited"], fill_value=0)
        )

    def migration(self, value: str = "loans") -> pd.DataFrame:
        return migration_matrix(self.table, value)

    def __repr__(self) -> str:
        c = self.counts()
        return (
            f"ClassificationChanges({self.previous_as_of.date()} -> {self.as_of.date()}: "
            + ", ".join(f"{k}={v:,}" for k, v in c.items())
            + ")"
        )

    def _repr_html_(self) -> str:
        return (
            f"<div><b>Classification changes 分类变动</b> {self.previous_as_of.date()} → "
            f"{self.as_of.date()}: {html.escape(', '.join(f'{k} {v:,}' for k, v in self.counts().items()))}"
            f"{self.migration().to_html()}</div>"
        )


class ClassificationHistory:
    """Monthly classification results kept in a :class:`~riskkit.store.Store`.

    Parameters
    ----------
    store : riskkit.store.Store
    """

    def __init__(self, store):
        self.store = store

    def __repr__(self) -> str:
        d = self.dates()
        span = f"{d[0].date()}..{d[-1].date()}" if d else "empty"
        return f"ClassificationHistory({len(d)} month(s), {span})"

    def save(self, result) -> int:
        """Store a result (idempotent per as-of date)."""
        return save_classification(self.store, result)

    def dates(self) -> list[pd.Timestamp]:
        return stored_dates(self.store)

    def load(self, as_of) -> pd.DataFrame:
        return load_classification(self.store, as_of)

    def previous(self, as_of) -> pd.Timestamp | None:
        """Latest stored as-of date before ``as_of``."""
        earlier = [d for d in self.dates() if d < pd.Timestamp(as_of)]
        return earlier[-1] if earlier else None

    def changes(self, as_of, previous=None) -> ClassificationChanges:
        """Upgrades/downgrades of ``as_of`` against ``previous`` (default: the month before)."""
        prev = pd.Timestamp(previous) if previous is not None else self.previous(as_of)
        if prev is None:
            raise KeyError(f"no stored classification before {pd.Timestamp(as_of).date()}")
        table = compare(self.load(prev), self.load(as_of))
        return ClassificationChanges(table, as_of, prev)
