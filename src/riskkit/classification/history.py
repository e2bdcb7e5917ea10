"""Monthly classification history in the store, and what changed since the month before.

Results are kept in the table ``classification_results`` (one row per loan and ``as_of``).
Saving a month again replaces that month only, so re-runs are idempotent. Changes compare a
month with the latest earlier month stored: loans moved to a worse category (downgrades, 下调)
or a better one (upgrades, 上调), new loans and loans that left the book (repaid, 已结清; recovered,
closed out of a non-performing category through the workout, 清收结清; written off, 已核销; or
otherwise exited; a repaid loan is never an upgrade and a recovery never a repayment), plus
the migration matrix (counts and balances). :meth:`ClassificationHistory.load` without a date gives every stored month as one
long table, the input of :func:`riskkit.migration.panel_from_history`.

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
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..book.keys import positions
from ..categories import CATEGORY_DTYPE, Category
from ..results import TableResult

TABLE = "classification_results"
_ORDER = Category.codes()
#: Ways of leaving the book between two month-ends (see :func:`compare`).
EXITS = ("repaid", "recovered", "written_off", "exited")
_NPL = [c.code for c in Category if c.is_npl]
CHANGES = ("downgrade", "upgrade", "unchanged", "new", *EXITS)


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


def load_classification(store, as_of=None) -> pd.DataFrame:
    """Stored results of one month, indexed by loan_id; or, with ``as_of=None``, every stored
    month as one long table (columns ``as_of``, ``loan_id``, ..., sorted by month and loan).
    Categories come back as ordered categoricals."""
    if not store.has_table(TABLE):
        raise KeyError(f"no classification stored in {store!r}")
    # a stored category riskkit does not know is an error, never a missing category
    allowed = {"category": _ORDER, "quantitative_category": _ORDER}
    if as_of is None:
        df = store.read(TABLE, allowed=allowed)
    else:
        df = store.read(TABLE, where={"as_of": pd.Timestamp(as_of)}, allowed=allowed)
        if df.empty:
            have = [d.date().isoformat() for d in stored_dates(store)]
            raise KeyError(
                f"no classification stored for {pd.Timestamp(as_of).date()}; have {have}"
            )
    for c in ("category", "quantitative_category"):
        df[c] = df[c].astype(CATEGORY_DTYPE)
    if as_of is None:
        return df.sort_values(["as_of", "loan_id"], kind="stable", ignore_index=True)
    # by loan id, whatever order the database returns rows in
    return df.sort_values("loan_id", kind="stable").set_index("loan_id")


def _flag(frame: pd.DataFrame, col: str, at: np.ndarray) -> np.ndarray:
    """Per id (``at``: its row in ``frame``, -1 if absent): the boolean column ``col``."""
    if col not in frame.columns or not len(frame):
        return np.zeros(len(at), dtype=bool)
    flags = frame[col].fillna(False).to_numpy(dtype=bool)
    return (at >= 0) & flags[np.maximum(at, 0)]


def _on_book(frame: pd.DataFrame, at: np.ndarray):
    """Per id (``at``: its row in ``frame``, -1 if absent): present in ``frame`` and on the
    balance sheet; present and paid off; present and written off."""
    present = at >= 0
    paid = present & _flag(frame, "paid_off", at)
    written = present & _flag(frame, "written_off", at)
    return present & ~paid & ~written, paid & ~written, written


def _take(s: pd.Series, at: np.ndarray) -> pd.Series:
    """Values of ``s`` at rows ``at`` (missing where -1), like ``s.reindex`` by position."""
    return pd.Series(s.array.take(at, allow_fill=True))


def compare(previous: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Per-loan change between two months' results (frames indexed by loan_id with
    ``category``, ``outstanding_principal`` and, as stored results have it, ``paid_off``).

    A loan is *on the book* at a month-end when it is in that month's results, not paid off and
    not written off (a frame without ``paid_off`` / ``written_off`` has every loan on the
    book). A paid-off loan keeps the category ``normal`` in the classification (rule
    ``paid_off``), but here it has left the book: a loan repaid since the previous month is an
    exit (``repaid``), never an upgrade; paid off out of a non-performing category it is
    ``recovered`` (a recovery, not a repayment).

    Returns
    -------
    DataFrame
        One row per loan on the book in either month (loans off the book at both month-ends,
        e.g. repaid earlier, are left out): ``previous_category`` (missing for ``new``),
        ``category`` (missing for the exits), ``change``, ``steps``
        (positive = worse; 0 unless on the book in both months), ``previous_balance`` and
        ``balance`` (0 where not on the book). ``change`` is one of

        * ``downgrade`` / ``upgrade`` / ``unchanged``: on the book in both months;
        * ``new``: on the book now, not at the previous month-end;
        * ``repaid``: on the book then (performing: normal or special mention), paid off now;
        * ``recovered``: on the book then in a non-performing category, paid off now;
        * ``written_off``: on the book then, written off now (the write-off register);
        * ``exited``: on the book then, not in the current results at all (left the book
          otherwise, e.g. sold).
    """
    ids = previous.index.union(current.index)
    at_p, at_c = positions(previous.index, ids), positions(current.index, ids)
    on_p, _, _ = _on_book(previous, at_p)
    on_c, paid_c, written_c = _on_book(current, at_c)
    keep = on_p | on_c
    ids, on_p, on_c = ids[keep], on_p[keep], on_c[keep]
    paid_c, written_c = paid_c[keep], written_c[keep]
    at_p, at_c = at_p[keep], at_c[keep]
    p = _take(previous["category"].astype(CATEGORY_DTYPE), at_p).where(on_p).set_axis(ids)
    c = _take(current["category"].astype(CATEGORY_DTYPE), at_c).where(on_c).set_axis(ids)
    pc = p.cat.codes.to_numpy().astype(np.int64)
    cc = c.cat.codes.to_numpy().astype(np.int64)
    was_npl = p.isin(_NPL).to_numpy(dtype=bool)
    change = np.select(
        [~on_p, written_c, paid_c & was_npl, paid_c, ~on_c, cc > pc, cc < pc],
        ["new", "written_off", "recovered", "repaid", "exited", "downgrade", "upgrade"],
        default="unchanged",
    )
    both = on_p & on_c
    bal_p = _take(previous["outstanding_principal"], at_p).to_numpy(dtype=float, na_value=np.nan)
    bal_c = _take(current["outstanding_principal"], at_c).to_numpy(dtype=float, na_value=np.nan)
    out = pd.DataFrame(
        {
            "previous_category": p,
            "category": c,
            "change": change,
            "steps": np.where(both, cc - pc, 0),
            "previous_balance": np.where(on_p, bal_p, 0.0),
            "balance": np.where(on_c, bal_c, 0.0),
        },
        index=ids,
    )
    out.index.name = "loan_id"
    return out


def migration_matrix(changes: pd.DataFrame, value: str = "loans") -> pd.DataFrame:
    """Previous category (rows, plus ``new``) x current category (columns, plus the exits
    ``repaid``, ``recovered``, ``written_off`` and ``exited``): loan counts (``value="loans"``) or balances
    (``value="balance"``: the previous balance, the current one for new loans)."""
    rows = ["new"] + _ORDER
    cols = _ORDER + list(EXITS)
    change = changes["change"]
    r = changes["previous_category"].astype(object).where(change != "new", "new")
    c = changes["category"].astype(object).where(~change.isin(EXITS), change)
    if value == "loans":
        m = pd.crosstab(r, c)
    elif value == "balance":
        w = changes["previous_balance"].where(change != "new", changes["balance"])
        m = pd.crosstab(r, c, values=w, aggfunc="sum").fillna(0.0)
    else:
        raise ValueError(f"value must be 'loans' or 'balance', got {value!r}")
    m = m.reindex(index=rows, columns=cols, fill_value=0)
    m.index.name, m.columns.name = "previous", "current"
    return m


@dataclass(repr=False, eq=False)
class ClassificationChanges(TableResult):
    """Changes of one month against the previous stored month (``table``: one row per loan
    with its previous and current category and the ``change``)."""

    table: pd.DataFrame
    as_of: pd.Timestamp
    previous_as_of: pd.Timestamp

    def __post_init__(self) -> None:
        self.as_of = pd.Timestamp(self.as_of)
        self.previous_as_of = pd.Timestamp(self.previous_as_of)

    @property
    def downgrades(self) -> pd.DataFrame:
        return self.table[self.table["change"] == "downgrade"]

    @property
    def upgrades(self) -> pd.DataFrame:
        return self.table[self.table["change"] == "upgrade"]

    @property
    def exits(self) -> pd.DataFrame:
        """Loans that left the book: ``repaid``, ``recovered``, ``written_off`` or otherwise
        ``exited``."""
        return self.table[self.table["change"].isin(EXITS)]

    def counts(self) -> pd.Series:
        return self.table["change"].value_counts().reindex(list(CHANGES), fill_value=0)

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

    def load(self, as_of=None) -> pd.DataFrame:
        """One month's results indexed by loan_id, or (``as_of=None``) every month as one long
        table with ``as_of`` and ``loan_id`` columns, ready for
        :func:`riskkit.migration.panel_from_history`."""
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
