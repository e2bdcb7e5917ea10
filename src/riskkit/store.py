"""Persistence in a real database through SQLAlchemy.

The embedded default is an SQLite file (``data/riskkit.db``, or ``$RISKKIT_DB_URL``); any
SQLAlchemy URL (for example ``postgresql+psycopg://user@host/risk``) works the same. Every write
runs in one transaction: if anything fails, the previous state is left intact.

Examples
--------
>>> from riskkit.store import Store
>>> from riskkit.datasets import make_microloan_book
>>> store = Store("sqlite://")           # in-memory database
>>> store.save_book(make_microloan_book(n_loans=50, months=6, seed=0))
>>> store.load_book().n_loans
50
"""

from __future__ import annotations

import os
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from .book.loanbook import LoanBook
from .book.schema import TABLES

DEFAULT_DB = Path("data") / "riskkit.db"
_META = "riskkit_columns"
BOOK_PREFIX = "book_"
#: Column holding each book row's position, so a book reads back in the order it was saved.
_POSITION = "row_position_"


def default_url() -> str:
    """``$RISKKIT_DB_URL`` if set, else the SQLite file ``data/riskkit.db``."""
    url = os.environ.get("RISKKIT_DB_URL")
    if url:
        return url
    DEFAULT_DB.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DB}"


def _kind(dtype) -> str:
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "num"
    return "str"


class Store:
    """A riskkit database: the loan book, classification history, overrides, ledger.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL; default :func:`default_url`.
    """

    def __init__(self, url: str | None = None, **engine_kwargs):
        self.url = url or default_url()
        self.engine = sa.create_engine(self.url, **engine_kwargs)
        if self.engine.dialect.name == "sqlite":
            # pysqlite's legacy mode only opens a transaction before DML, so CREATE TABLE would
            # commit at once and a failed first write could leave half a book behind. SQLAlchemy's
            # documented recipe: let SQLAlchemy emit BEGIN itself.
            @sa.event.listens_for(self.engine, "connect")
            def _on_connect(dbapi_conn, _record):  # pragma: no cover - driver hook
                dbapi_conn.isolation_level = None
                dbapi_conn.execute("PRAGMA foreign_keys=ON")

            @sa.event.listens_for(self.engine, "begin")
            def _on_begin(conn):  # pragma: no cover - driver hook
                conn.exec_driver_sql("BEGIN")

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def transaction(self):
        """A connection inside one transaction: commit on success, roll back on any error."""
        with self.engine.begin() as conn:
            yield conn

    def _param(self, v):
        return _param(v, self.engine.dialect.name)

    # --- generic tables -------------------------------------------------------------------
    def has_table(self, table: str) -> bool:
        return sa.inspect(self.engine).has_table(table)

    def _write(self, conn, table: str, df: pd.DataFrame) -> None:
        if df.empty and sa.inspect(conn).has_table(table):
            return
        df = df.copy()
        for c in df.columns:
            if isinstance(df[c].dtype, pd.CategoricalDtype):
                df[c] = df[c].astype(object)
            elif pd.api.types.is_string_dtype(df[c].dtype) and not pd.api.types.is_object_dtype(
                df[c].dtype
            ):
                df[c] = df[c].astype(object)
        df.to_sql(table, conn, if_exists="append", index=False, chunksize=50_000)
        meta = pd.DataFrame(
            {
                "table_name": table,
                "column_name": list(df.columns),
                "kind": [_kind(df[c].dtype) for c in df.columns],
            }
        )
        if sa.inspect(conn).has_table(_META):
            # replace only the kinds of the columns written now; keep the others' kinds
            for col in df.columns:
                conn.execute(
                    sa.text(f"DELETE FROM {_META} WHERE table_name = :t AND column_name = :c"),
                    {"t": table, "c": col},
                )
        meta.to_sql(_META, conn, if_exists="append", index=False)

    def append(self, table: str, df: pd.DataFrame, conn=None) -> int:
        """Append rows to ``table`` (created on first write). Returns the number of rows."""
        if conn is None:
            with self.transaction() as c:
                self._write(c, table, df)
        else:
            self._write(conn, table, df)
        return len(df)

    def append_numbered(self, table: str, df: pd.DataFrame, id_column: str, conn) -> pd.DataFrame:
        """Append ``df`` to an append-only audit table, numbering its rows in ``id_column``
        after the largest id so far (1, 2, ... on an empty table), inside the caller's
        transaction ``conn``. Returns ``df`` with the id as its first column.

        The table has a unique index on ``id_column`` (created with the table; added to a table
        written by an older riskkit when its ids are unique, else a warning says which id is
        duplicated), so a concurrent writer that took the same numbers fails and its
        transaction rolls back: nothing is stored twice, and the caller may retry.
        """
        index = f"ux_{table}_{id_column}"
        insp = sa.inspect(conn)
        existed = insp.has_table(table)
        start = 1
        if existed:
            cur = conn.execute(sa.text(f"SELECT MAX({id_column}) FROM {table}")).scalar()
            start = int(cur or 0) + 1
        out = df.copy()
        out.insert(0, id_column, np.arange(start, start + len(out), dtype=np.int64))
        make_index = not existed
        if existed and index not in {i["name"] for i in insp.get_indexes(table)}:
            dup = conn.execute(
                sa.text(
                    f"SELECT {id_column} FROM {table} GROUP BY {id_column} "
                    "HAVING COUNT(*) > 1 ORDER BY 1 LIMIT 1"
                )
            ).scalar()
            make_index = dup is None
            if dup is not None:
                warnings.warn(
                    f"{table}: {id_column} {dup} occurs more than once (written before ids "
                    "were guarded); the rows are kept and no unique index is created",
                    stacklevel=2,
                )
        self._write(conn, table, out)
        if make_index:
            conn.execute(sa.text(f"CREATE UNIQUE INDEX {index} ON {table} ({id_column})"))
        return out

    def replace_where(self, table: str, df: pd.DataFrame, where: dict, conn=None) -> int:
        """Delete the rows matching ``where`` (column -> value) and insert ``df``, atomically."""

        def run(c):
            if sa.inspect(c).has_table(table):
                cond = " AND ".join(f"{k} = :{k}" for k in where)
                params = {k: self._param(v) for k, v in where.items()}
                c.execute(sa.text(f"DELETE FROM {table} WHERE {cond}"), params)
            self._write(c, table, df)

        if conn is None:
            with self.transaction() as c:
                run(c)
        else:
            run(conn)
        return len(df)

    def read(self, table: str, where: dict | None = None, order_by: str | None = None):
        """Rows of ``table`` (optionally filtered by equality on columns) with their dtypes."""
        if not self.has_table(table):
            raise KeyError(f"no table {table!r} in {self!r}")
        sql = f"SELECT * FROM {table}"
        params = {}
        if where:
            sql += " WHERE " + " AND ".join(f"{k} = :{k}" for k in where)
            params = {k: self._param(v) for k, v in where.items()}
        if order_by:
            sql += f" ORDER BY {order_by}"
        with self.engine.connect() as conn:
            df = pd.read_sql(sa.text(sql), conn, params=params)
            kinds = {}
            if sa.inspect(conn).has_table(_META):
                m = pd.read_sql(
                    sa.text(f"SELECT column_name, kind FROM {_META} WHERE table_name = :t"),
                    conn,
                    params={"t": table},
                )
                kinds = dict(zip(m["column_name"], m["kind"], strict=True))
        return _restore(df, kinds)

    # --- the loan book --------------------------------------------------------------------
    def save_book(self, book: LoanBook, conn=None) -> None:
        """Replace the stored loan book with ``book`` in one transaction."""

        def run(c):
            insp = sa.inspect(c)
            for name, df in book.tables.items():
                t = BOOK_PREFIX + name
                if insp.has_table(t):
                    c.execute(sa.text(f"DELETE FROM {t}"))
                    if _POSITION not in {col["name"] for col in insp.get_columns(t)}:
                        # a book saved by an older riskkit: add the position column in place
                        # (keeping the table's grants, indexes and dependent views)
                        c.execute(sa.text(f"ALTER TABLE {t} ADD COLUMN {_POSITION} BIGINT"))
                # a database returns rows in no particular order: keep each row's position so
                # the book reads back exactly as saved (same order, same results downstream)
                self._write(c, t, df.assign(**{_POSITION: np.arange(len(df), dtype=np.int64)}))
            info = pd.DataFrame({"key": ["as_of_date"], "value": [str(book.as_of_date or "")]})
            if insp.has_table(BOOK_PREFIX + "info"):
                c.execute(sa.text(f"DELETE FROM {BOOK_PREFIX}info"))
            info.to_sql(BOOK_PREFIX + "info", c, if_exists="append", index=False)

        if conn is None:
            with self.transaction() as c:
                run(c)
        else:
            run(conn)

    def _read_in_order(self, table: str) -> pd.DataFrame:
        cols = {c["name"] for c in sa.inspect(self.engine).get_columns(table)}
        if _POSITION not in cols:  # a book saved before positions were kept
            return self.read(table)
        df = self.read(table, order_by=_POSITION)
        return df.drop(columns=_POSITION).reset_index(drop=True)

    def has_book(self) -> bool:
        return self.has_table(BOOK_PREFIX + "loans")

    def load_book(self, validate: bool = True) -> LoanBook:
        """The stored loan book, validated."""
        if not self.has_book():
            raise KeyError(f"no loan book stored in {self!r}; save one with store.save_book(book)")
        tables = {}
        for name in TABLES:
            t = BOOK_PREFIX + name
            tables[name] = self._read_in_order(t) if self.has_table(t) else None
            if tables[name] is not None:
                tables[name] = _conform(tables[name], name)
        info = self.read(BOOK_PREFIX + "info")
        as_of = info.loc[info["key"] == "as_of_date", "value"]
        as_of = as_of.iloc[0] if len(as_of) and as_of.iloc[0] else None
        return LoanBook(as_of_date=as_of, validate=validate, **tables)


def _param(v, dialect: str = ""):
    if isinstance(v, pd.Timestamp | np.datetime64):
        ts = pd.Timestamp(v)
        if dialect == "sqlite":
            # pandas stores datetimes in SQLite as text in this exact form
            return ts.strftime("%Y-%m-%d %H:%M:%S.%f")
        return ts.to_pydatetime()
    if isinstance(v, np.generic):
        return v.item()
    return v


def _restore(df: pd.DataFrame, kinds: dict) -> pd.DataFrame:
    for c, k in kinds.items():
        if c not in df.columns:
            continue
        if k == "date":
            df[c] = pd.to_datetime(df[c], format="ISO8601")
        elif k == "bool":
            df[c] = df[c].astype(bool) if not df[c].isna().any() else df[c].astype("boolean")
        elif k == "int" and not df[c].isna().any():
            df[c] = df[c].astype(np.int64)
        elif k == "num":
            df[c] = df[c].astype(float)
    return df


def _conform(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Empty tables read back without dtypes: give them the schema's."""
    if len(df):
        return df
    dtypes = {"date": "datetime64[ns]", "num": float, "int": np.int64}
    for col in TABLES[name].columns:
        if col.name in df.columns and col.kind in dtypes:
            df[col.name] = df[col.name].astype(dtypes[col.kind])
    return df
