"""Persistence in a real database through SQLAlchemy.

The embedded default is an SQLite file (``data/riskkit.db``, or ``$RISKKIT_DB_URL``); any
SQLAlchemy URL (for example ``postgresql+psycopg://user@host/risk``) works the same. Every write
runs in one transaction: if anything fails, the previous state is left intact.

The loan book itself (tens of millions of rows at a large lender) is kept as Parquet beside the
database when the store has a folder for it: ``<database>.book/`` next to an SQLite file, or
``book_path=`` / ``$RISKKIT_BOOK_PATH`` (any store). The database then holds the results
(classification history, overrides, the inspection ledger, manual signals) and a catalog row
naming the current version of the book folder. Saving writes a new version folder completely,
then switches the catalog row in the caller's transaction, so a failed save leaves the previous
book in place. Without a folder (an in-memory SQLite database, a server database with no
``book_path``) the book is stored in database tables as before.

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
import shutil
import warnings
from collections.abc import Collection, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from .book import parsing
from .book.loanbook import LoanBook
from .book.schema import TABLES
from .errors import ProblemCollector, ValidationError

DEFAULT_DB = Path("data") / "riskkit.db"
#: Seconds a writer waits for another writer's lock on an SQLite store before giving up
#: (``Store(busy_timeout=...)`` or ``$RISKKIT_DB_BUSY_TIMEOUT``).
DEFAULT_BUSY_TIMEOUT = 30.0
_META = "riskkit_columns"
BOOK_PREFIX = "book_"
#: Catalog of the book kept as Parquet beside the database (one row: the current version).
BOOK_CATALOG = "book_catalog"
BOOK_STORAGE = ("auto", "parquet", "database")
#: Column holding each book row's position, so a book reads back in the order it was saved.
_POSITION = "row_position_"


def default_url() -> str:
    """``$RISKKIT_DB_URL`` if set, else the SQLite file ``data/riskkit.db``."""
    url = os.environ.get("RISKKIT_DB_URL")
    if url:
        return url
    DEFAULT_DB.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DB}"


def busy_timeout_from_env() -> float:
    """``$RISKKIT_DB_BUSY_TIMEOUT`` in seconds, else :data:`DEFAULT_BUSY_TIMEOUT`."""
    raw = os.environ.get("RISKKIT_DB_BUSY_TIMEOUT")
    if not raw:
        return DEFAULT_BUSY_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise ValueError(f"RISKKIT_DB_BUSY_TIMEOUT must be a number of seconds >= 0, got {raw!r}")
    return value


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
    busy_timeout : float, optional
        SQLite: seconds a writer waits while another process holds the write lock, then
        fails with "database is locked" (default :func:`busy_timeout_from_env`, 30 s).
        Writes take the lock when their transaction begins (``BEGIN IMMEDIATE``), so
        concurrent writers queue instead of failing at once.
    book_path : path, optional
        Folder for the loan book as Parquet (default ``$RISKKIT_BOOK_PATH``, else
        ``<database>.book`` next to an SQLite file).
    book_storage : {"auto", "parquet", "database"}
        ``"auto"``: Parquet when there is a folder, else database tables; ``"database"``:
        always tables; ``"parquet"``: always Parquet (a folder is then required).
    """

    def __init__(
        self,
        url: str | None = None,
        busy_timeout: float | None = None,
        book_path: str | os.PathLike | None = None,
        book_storage: str = "auto",
        **engine_kwargs,
    ):
        self.url = url or default_url()
        self.busy_timeout = busy_timeout_from_env() if busy_timeout is None else busy_timeout
        if sa.engine.make_url(self.url).get_backend_name() == "sqlite":
            engine_kwargs.setdefault("connect_args", {}).setdefault("timeout", self.busy_timeout)
        self.engine = sa.create_engine(self.url, **engine_kwargs)
        if self.engine.dialect.name == "sqlite":
            _sqlite_transactions(self.engine)
        if book_storage not in BOOK_STORAGE:
            raise ValueError(f"book_storage must be one of {BOOK_STORAGE}, got {book_storage!r}")
        self.book_path = _book_folder(self.engine, book_path, book_storage)

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def transaction(self):
        """A connection inside one transaction: commit on success, roll back on any error.

        On SQLite the transaction takes the write lock when it begins, waiting up to
        ``busy_timeout`` seconds for another writer to finish."""
        with self.engine.connect() as conn:
            conn.execution_options(**{_WRITE_OPTION: True})
            with conn.begin():
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

    def read(
        self,
        table: str,
        where: dict | None = None,
        order_by: str | None = None,
        allowed: Mapping[str, Collection] | None = None,
        where_in: Mapping[str, Collection] | None = None,
    ) -> pd.DataFrame:
        """Rows of ``table`` (optionally filtered by equality on columns, or with ``where_in``
        by membership: column -> values) with their dtypes.

        Values read back are validated like input: a date, number or flag that does not parse
        as the kind it was written with, or a value outside ``allowed`` (column -> allowed
        values), is a :class:`~riskkit.errors.ValidationError` naming table, column, loan id
        (or row) and rule, never a missing value or a bare pandas error."""
        if not self.has_table(table):
            raise KeyError(f"no table {table!r} in {self!r}")
        sql = f"SELECT * FROM {table}"
        params = {}
        conds = [f"{k} = :{k}" for k in (where or {})]
        params = {k: self._param(v) for k, v in (where or {}).items()}
        for i, (k, values) in enumerate((where_in or {}).items()):
            conds.append(f"{k} IN :in_{i}")
            params[f"in_{i}"] = [self._param(v) for v in values]
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        if order_by:
            sql += f" ORDER BY {order_by}"
        stmt = sa.text(sql)
        if where_in:
            stmt = stmt.bindparams(
                *(sa.bindparam(f"in_{i}", expanding=True) for i in range(len(where_in)))
            )
        with self.engine.connect() as conn:
            df = pd.read_sql(stmt, conn, params=params)
            kinds = {}
            if sa.inspect(conn).has_table(_META):
                m = pd.read_sql(
                    sa.text(f"SELECT column_name, kind FROM {_META} WHERE table_name = :t"),
                    conn,
                    params={"t": table},
                )
                kinds = dict(zip(m["column_name"], m["kind"], strict=True))
        return restore_kinds(df, kinds, table, allowed, where=f"stored table {table!r} in {self!r}")

    # --- the loan book --------------------------------------------------------------------
    def save_book(self, book: LoanBook, conn=None) -> None:
        """Replace the stored loan book with ``book`` in one transaction (as Parquet beside
        the database when the store has a book folder, see the module notes)."""
        if self.book_path is not None:
            self._save_book_parquet(book, conn)
            return
        self._save_book_tables(book, conn)

    def _save_book_tables(self, book: LoanBook, conn=None) -> None:
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
        return self._book_version() is not None or self.has_table(BOOK_PREFIX + "loans")

    def load_book(self, validate: bool = True, compact: bool = False) -> LoanBook:
        """The stored loan book, validated: every value that does not read back as the kind it
        was saved with, in any table, is reported in one :class:`ValidationError`. With
        ``compact`` its ids are held as codes (:meth:`LoanBook.compact`)."""
        if self._book_version() is not None:
            return self.book_dataset().to_book(validate=validate, compact=compact)
        if not self.has_book():
            raise KeyError(f"no loan book stored in {self!r}; save one with store.save_book(book)")
        tables: dict[str, pd.DataFrame | None] = {}
        problems = []
        for name in TABLES:
            t = BOOK_PREFIX + name
            tables[name] = None
            try:
                if self.has_table(t):
                    tables[name] = _conform(self._read_in_order(t), name)
            except ValidationError as exc:
                problems.extend(exc.problems)
        if problems:
            raise ValidationError(problems, f"stored loan book in {self!r}")
        info = self.read(BOOK_PREFIX + "info")
        as_of = info.loc[info["key"] == "as_of_date", "value"]
        as_of = as_of.iloc[0] if len(as_of) and as_of.iloc[0] else None
        book = LoanBook(as_of_date=as_of, validate=validate, **tables)
        return book.compact() if compact else book

    # --- the book as Parquet beside the database ------------------------------------------
    def _book_version(self) -> str | None:
        if self.book_path is None or not self.has_table(BOOK_CATALOG):
            return None
        with self.engine.connect() as c:
            row = c.execute(sa.text(f"SELECT version FROM {BOOK_CATALOG}")).scalar()
        return row or None

    def book_dataset(self):
        """The stored book as a lazily read :class:`~riskkit.partitioned.PartitionedBook`
        (for the Dask engine); KeyError when the book is not kept as Parquet."""
        from .partitioned import read_partitioned

        version = self._book_version()
        if version is None:
            raise KeyError(f"no loan book kept as Parquet in {self!r}")
        return read_partitioned(self._folder() / version)

    def _folder(self) -> Path:
        """The book folder (the store keeps its book as Parquet)."""
        if self.book_path is None:
            raise KeyError(f"{self!r} keeps its loan book in database tables")
        return self.book_path

    def _save_book_parquet(self, book: LoanBook, conn=None) -> None:
        from .partitioned import write_partitioned

        folder = self._folder()
        folder.mkdir(parents=True, exist_ok=True)
        version = f"v{pd.Timestamp.now('UTC'):%Y%m%dT%H%M%S%f}-{os.getpid()}"
        write_partitioned(book, folder / version, buckets=1)
        row = pd.DataFrame(
            {
                "version": [version],
                "n_loans": [book.n_loans],
                "as_of_date": [str(book.as_of_date or "")],
                "saved_at": [pd.Timestamp.now("UTC").isoformat()],
            }
        )

        def run(c):
            if sa.inspect(c).has_table(BOOK_CATALOG):
                c.execute(sa.text(f"DELETE FROM {BOOK_CATALOG}"))
            row.to_sql(BOOK_CATALOG, c, if_exists="append", index=False)

        try:
            if conn is None:
                with self.transaction() as c:
                    run(c)
            else:
                run(conn)
        except BaseException:
            shutil.rmtree(folder / version, ignore_errors=True)
            raise
        self._prune_book_versions(keep={version, *self._recent_versions(version)})

    def _recent_versions(self, current: str) -> list[str]:
        """The version before ``current`` (kept for readers still reading it)."""
        older = sorted(p.name for p in self._folder().glob("v*") if p.name < current)
        return older[-1:]

    def _prune_book_versions(self, keep: set[str]) -> None:
        for p in self._folder().glob("v*"):
            if p.is_dir() and p.name not in keep:
                shutil.rmtree(p, ignore_errors=True)


def _book_folder(engine, book_path, storage: str) -> Path | None:
    """Where the book is kept as Parquet, or None to keep it in database tables."""
    if storage == "database":
        return None
    if book_path is not None:
        return Path(book_path)
    env = os.environ.get("RISKKIT_BOOK_PATH")
    if env:
        return Path(env)
    db = engine.url.database if engine.dialect.name == "sqlite" else None
    if db and db != ":memory:" and not db.startswith("file:"):
        return Path(db).with_suffix(".book")
    if storage == "parquet":
        raise ValueError(
            "book_storage='parquet' needs a folder: give book_path= or $RISKKIT_BOOK_PATH"
        )
    return None


_WRITE_OPTION = "riskkit_write"


def _sqlite_transactions(engine) -> None:
    """pysqlite's legacy mode only opens a transaction before DML, so CREATE TABLE would
    commit at once and a failed first write could leave half a book behind. SQLAlchemy's
    documented recipe: let SQLAlchemy emit BEGIN itself. Write transactions begin with
    ``BEGIN IMMEDIATE``: a deferred transaction that read first and then wants to write fails
    at once with "database is locked" when another writer is active (the busy timeout does
    not apply to that lock upgrade); an immediate one waits for the lock."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - driver hook
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA foreign_keys=ON")

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover - driver hook
        write = conn.get_execution_options().get(_WRITE_OPTION)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


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


def restore_kinds(
    df: pd.DataFrame,
    kinds: Mapping[str, str],
    table: str,
    allowed: Mapping[str, Collection] | None = None,
    *,
    where: str = "stored table",
) -> pd.DataFrame:
    """Give the columns of ``df`` (as a database returned them) the kinds they were written
    with, by the extract parsing rules (:mod:`riskkit.book.parsing`); check ``allowed`` values.

    Raises
    ------
    ValidationError
        Every value that does not parse or is not allowed, naming table, column and rows.
    """
    errors = ProblemCollector(where)
    ids = _row_ids(df)
    for col, kind in kinds.items():
        if col in df.columns:
            df[col] = _restore_column(df[col], kind, table, col, ids, errors)
    for col, values in (allowed or {}).items():
        if col in df.columns and len(df):
            s = df[col]
            bad = s.notna().to_numpy(dtype=bool) & ~s.astype(object).isin(list(values)).to_numpy()
            if bad.any():
                shown = sorted({str(v) for v in s[bad].head(50)})[:5]
                rule = f"unknown value(s) {shown}; allowed: {list(values)}"
                errors.check(table, col, bad, ids, rule)
    errors.raise_if_any()
    return df


def _row_ids(df: pd.DataFrame) -> pd.Series:
    for c in ("loan_id", "borrower_id", "collateral_id"):
        if c in df.columns:
            return df[c].astype(str)
    return pd.Series("row " + (np.arange(len(df)) + 1).astype(str), index=df.index)


def _restore_column(s: pd.Series, kind: str, table: str, col: str, ids, errors) -> pd.Series:
    numeric = pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
    if kind in ("num", "int") and numeric:
        return _stored_number(s, kind, table, col, ids, errors)
    if kind not in parsing.RULES:  # text kinds: as stored
        return s
    if kind == "date" and pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s
    if kind == "bool" and pd.api.types.is_bool_dtype(s.dtype):
        return s
    p = parsing.parse_cells(s, kind)
    bad = p.bad | p.odd | p.inexact
    if bad.any():
        shown = sorted({str(v) for v in s[bad].head(20)})[:3]
        errors.check(table, col, bad, ids, f"{parsing.RULES[kind]}: values {shown}")
    if kind == "int" and p.values.isna().any():
        return p.values.astype(float)  # whole numbers with gaps stay float, as pandas reads them
    return p.values


def _stored_number(s: pd.Series, kind: str, table: str, col: str, ids, errors) -> pd.Series:
    v = s.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isnan(v) & ~np.isfinite(v)
    if kind == "int":
        bad |= np.isfinite(v) & (np.mod(np.where(np.isfinite(v), v, 0), 1.0) != 0)
    if bad.any():
        shown = sorted({str(x) for x in s[bad].head(20)})[:3]
        rule = "not a finite number" if kind == "num" else parsing.RULES["int"]
        errors.check(table, col, bad, ids, f"{rule}: values {shown}")
        return s
    if kind == "int" and not s.isna().any():
        return s.astype(np.int64)
    return s.astype(float)


def _conform(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Empty tables read back without dtypes: give them the schema's."""
    if len(df):
        return df
    dtypes = {"date": "datetime64[ns]", "num": float, "int": np.int64}
    for col in TABLES[name].columns:
        if col.name in df.columns and col.kind in dtypes:
            df[col.name] = df[col.name].astype(dtypes[col.kind])
    return df
