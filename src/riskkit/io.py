"""Loan-book extracts: CSV folders, Parquet folders and Excel workbooks.

Every column is parsed explicitly by the kind the schema gives it
(:data:`riskkit.book.schema.TABLES`): ids and text stay text, amounts are numbers, dates are
ISO dates (``YYYY-MM-DD``, optionally with a time). Nothing is guessed or coerced silently: a
value that does not parse is a :class:`~riskkit.errors.ValidationError` naming the file, table,
column, loan id and rule, and every such problem in the extract is reported at once.

Layouts
-------
* a folder with one file per table: ``loans.csv``, ``borrowers.csv``, ``guarantors.csv``,
  ``collateral.csv``, ``schedule.csv``, ``payments.csv``, ``signals.csv`` (or ``.parquet``);
  ``loans``, ``schedule`` and ``payments`` are required;
* one Excel workbook (``.xlsx``) with one sheet per table, named like the files.

:func:`write_book` adds a small ``riskkit_meta`` table (file or sheet) with the kind of every
column and the book's ``as_of_date``; :func:`read_book` uses it for columns beyond the schema
(which are read as text when it is absent) and for the as-of date.

Examples
--------
>>> import tempfile, pathlib
>>> from riskkit.datasets import make_microloan_book
>>> from riskkit.io import read_book, write_book
>>> book = make_microloan_book(n_loans=50, months=6, seed=0)
>>> folder = pathlib.Path(tempfile.mkdtemp()) / "extract"
>>> _ = write_book(book, folder, format="csv")
>>> read_book(folder).n_loans
50
"""

from __future__ import annotations

import csv
import datetime as _dt
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api import types as pdt

from .atomic import atomic_path
from .book.loanbook import LoanBook
from .book.schema import TABLES
from .errors import ProblemCollector

FORMATS = ("csv", "parquet", "excel")
REQUIRED_TABLES = ("loans", "schedule", "payments")
META = "riskkit_meta"
EXCEL_MAX_ROWS = 1_048_575  # one row is the header
_SUFFIX = {"csv": ".csv", "parquet": ".parquet", "excel": ".xlsx"}
_ID_COLUMNS = ("loan_id", "borrower_id", "collateral_id")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
_KIND_TEXT = {
    "num": "not a number",
    "int": "not a whole number",
    "date": "not a date (expected ISO YYYY-MM-DD)",
    "bool": "not a boolean (true/false/1/0/yes/no)",
}


# ------------------------------------------------------------------------ reading
def read_table(
    path,
    table: str,
    kinds: dict[str, str] | None = None,
    *,
    frame: pd.DataFrame | None = None,
    errors: ProblemCollector | None = None,
) -> pd.DataFrame:
    """Read and parse one table of an extract.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` or ``.parquet`` file (for Excel use :func:`read_book`, or pass the sheet as
        ``frame`` read with ``dtype=object``).
    table : str
        Table name in :data:`riskkit.book.schema.TABLES` (``"loans"``, ``"payments"``, ...).
    kinds : dict, optional
        Kinds (``id``, ``str``, ``enum``, ``num``, ``int``, ``date``, ``bool``) of columns beyond
        the schema; other extra columns are kept as text.
    frame : DataFrame, optional
        Already-read raw cells (used for Excel sheets).
    errors : ProblemCollector, optional
        Collect problems here instead of raising (used by :func:`read_book`).

    Returns
    -------
    DataFrame with schema dtypes: ids and text as ``str``, ``num`` as float64, ``int`` as
    int64, dates as datetime64[ns].

    Raises
    ------
    ValidationError
        A value that does not parse; the message names file, table, column, loan id and rule.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "payments.csv"
    >>> _ = p.write_text("loan_id,payment_date,amount\\nL1,2026-02-15,1000.50\\n")
    >>> read_table(p, "payments").dtypes.astype(str).tolist()
    ['str', 'datetime64[ns]', 'float64']
    """
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; known: {list(TABLES)}")
    path = Path(path)
    own = errors is None
    errors = errors if errors is not None else ProblemCollector(f"extract {path}")
    if frame is None:
        frame = _read_raw(path, errors, table)
    out = _parse_frame(frame, table, path.name, kinds or {}, errors)
    if own:
        errors.raise_if_any()
    return out


def read_book(path, format: str | None = None, as_of_date=None, validate: bool = True) -> LoanBook:
    """Read a loan-book extract (CSV or Parquet folder, or Excel workbook) into a LoanBook.

    Parameters
    ----------
    path : str or Path
        A folder of table files, or an ``.xlsx`` workbook (or a folder holding one).
    format : {"csv", "parquet", "excel"}, optional
        Default: detected from the files present.
    as_of_date : date-like, optional
        Overrides the as-of date recorded in ``riskkit_meta``.
    validate : bool, default True
        Validate the book (schema, cross-references) after parsing.

    Returns
    -------
    LoanBook

    Raises
    ------
    ValidationError
        Every unparseable value, missing required table or column, with file, table, column,
        loan id and rule; then every validation problem of the book.
    FileNotFoundError
        ``path`` does not exist.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no loan-book extract at {path}")
    fmt, files = _locate(path, format)
    errors = ProblemCollector(f"extract {path}")
    if fmt == "excel":
        raw = _read_excel(files["__workbook__"])
        meta = raw.pop(META, None)
        sources = {name: (files["__workbook__"], raw.get(name)) for name in TABLES}
        sheet_note = {name: f"{files['__workbook__'].name}[{name}]" for name in TABLES}
    else:
        meta_file = files.get(META)
        meta = _read_raw(meta_file, errors, META) if meta_file is not None else None
        sources = {name: (files.get(name), None) for name in TABLES}
        sheet_note = {name: files[name].name for name in TABLES if name in files}
    kinds, meta_as_of = _parse_meta(meta)
    tables: dict[str, pd.DataFrame | None] = {}
    for name in TABLES:
        file, frame = sources[name]
        missing = frame is None if fmt == "excel" else file is None
        if missing:
            if name in REQUIRED_TABLES:
                where = "sheet" if fmt == "excel" else "file"
                want = name if fmt == "excel" else name + _SUFFIX[fmt]
                errors.add(name, "", f"required table missing: no {where} {want!r} in {path}")
            tables[name] = None
            continue
        if fmt != "excel":
            frame = _read_raw(file, errors, name)
            if frame is None:
                tables[name] = None
                continue
        tables[name] = _parse_frame(frame, name, sheet_note[name], kinds.get(name, {}), errors)
    errors.raise_if_any()
    as_of = as_of_date if as_of_date is not None else meta_as_of
    return LoanBook(as_of_date=as_of, validate=validate, **tables)


def _locate(path: Path, format: str | None) -> tuple[str, dict[str, Path]]:
    if format is not None and format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    if path.is_file():
        if path.suffix.lower() in (".xlsx", ".xlsm") and format in (None, "excel"):
            return "excel", {"__workbook__": path}
        raise ValueError(
            f"{path}: give a folder of table files or an .xlsx workbook "
            "(use read_table for a single CSV or Parquet table)"
        )
    found: dict[str, dict[str, Path]] = {f: {} for f in FORMATS}
    for f in FORMATS:
        for name in (*TABLES, META):
            p = path / (name + _SUFFIX[f])
            if p.is_file():
                found[f][name] = p
    books = sorted(path.glob("*.xlsx"))
    if books:
        found["excel"] = {"__workbook__": books[0]}
    if format is None:
        have = [f for f in FORMATS if any(k != META for k in found[f])]
        if not have:
            raise FileNotFoundError(
                f"{path} holds no loan-book tables (loans.csv, loans.parquet or a .xlsx workbook)"
            )
        if len(have) > 1:
            raise ValueError(f"{path} holds tables in several formats {have}; pass format=")
        format = have[0]
    if format == "excel":
        if len(books) != 1:
            raise FileNotFoundError(
                f"expected exactly one .xlsx workbook in {path}, found {len(books)}"
            )
    return format, found[format]


def _read_raw(path: Path, errors: ProblemCollector, table: str) -> pd.DataFrame | None:
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            with open(path, encoding="utf-8-sig", newline="") as fh:
                header = next(csv.reader(fh), [])
            names = [h.strip() for h in header]
            for c in sorted({h for h in names if names.count(h) > 1}):
                errors.add(table, c, f"column appears more than once in {path.name}")
            return pd.read_csv(
                path, dtype="str", keep_default_na=False, na_values=[""], encoding="utf-8-sig"
            )
        if suffix == ".parquet":
            return pd.read_parquet(path)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        errors.add(table, "", f"cannot read {path.name}: {exc}")
        return None
    raise ValueError(f"{path}: unsupported file type {suffix!r} (use .csv or .parquet)")


def _read_excel(path: Path) -> dict[str, pd.DataFrame]:
    return pd.read_excel(path, sheet_name=None, dtype=object, engine="openpyxl")


def _parse_meta(meta: pd.DataFrame | None):
    kinds: dict[str, dict[str, str]] = {}
    as_of = None
    if meta is None or not len(meta):
        return kinds, as_of
    m = meta.astype(object).where(meta.notna(), None)
    for t, c, k, v in zip(m["table"], m["column"], m["kind"], m["value"], strict=True):
        if t == "_book" and c == "as_of_date":
            as_of = _cell_text(v, "date") or None
        elif t and c and k:
            kinds.setdefault(str(t), {})[str(c)] = str(k)
    return kinds, as_of


def _cell_text(v, kind: str):
    """Text of one raw cell (Excel or object column); None for empty."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT or v is pd.NA:
        return None
    if isinstance(v, pd.Timestamp | _dt.datetime):
        ts = pd.Timestamp(v)
        return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, float | np.floating) and kind != "num" and float(v).is_integer():
        return str(int(v))  # an id or phone typed as a number in Excel
    if isinstance(v, float | np.floating):
        return repr(float(v))
    s = str(v)
    return s if s.strip() != "" else None


def _as_text(s: pd.Series, kind: str) -> pd.Series:
    if pdt.is_string_dtype(s.dtype) and not pdt.is_object_dtype(s.dtype):
        t = s.astype("str")
        return t.where(t.str.strip() != "", pd.NA) if len(t) else t
    vals = [_cell_text(v, kind) for v in s.to_numpy(dtype=object)]
    return pd.Series(pd.array(vals, dtype="str"), index=s.index)


def _kind_of(col: str, spec_kinds: dict[str, str], extra: dict[str, str]) -> str:
    return spec_kinds.get(col) or extra.get(col) or "str"


def _parse_frame(
    raw: pd.DataFrame, table: str, source: str, extra: dict[str, str], errors: ProblemCollector
) -> pd.DataFrame:
    spec = TABLES[table]
    spec_kinds = {c.name: c.kind for c in spec.columns}
    raw = raw.reset_index(drop=True)
    raw.columns = [str(c).strip() for c in raw.columns]
    dup = pd.Index(raw.columns)[pd.Index(raw.columns).duplicated()]
    for c in dup.unique():
        errors.add(table, c, f"column appears more than once in {source}")
    for c in spec.required:
        if c.name not in raw.columns:
            errors.add(table, c.name, f"required column is missing in {source}")
    ids = _row_labels(raw)
    out = {}
    for col in raw.columns:
        if col in dup:
            continue
        kind = _kind_of(col, spec_kinds, extra)
        out[col] = _parse_column(raw[col], kind, table, col, source, ids, errors)
    return pd.DataFrame(out, index=raw.index)


def _row_labels(raw: pd.DataFrame) -> pd.Series:
    rows = "row " + pd.Series(np.arange(2, len(raw) + 2), index=raw.index).astype("str")
    for c in _ID_COLUMNS:
        if c in raw.columns:
            return _as_text(raw[c], "id").fillna(rows)
    return rows


def _parse_column(s, kind, table, col, source, ids, errors) -> pd.Series:
    # typed input (Parquet): keep it when it already has the right kind
    if kind == "num" and pdt.is_numeric_dtype(s.dtype) and not pdt.is_bool_dtype(s.dtype):
        return s.astype("float64")
    if kind == "int" and pdt.is_integer_dtype(s.dtype) and not pdt.is_bool_dtype(s.dtype):
        return s.astype("int64") if not s.isna().any() else s.astype("Int64")
    if kind == "date" and pdt.is_datetime64_any_dtype(s.dtype):
        if getattr(s.dt, "tz", None) is not None:
            errors.add(table, col, f"timezone-aware dates are not supported (in {source})")
            return s
        return s.astype("datetime64[ns]")
    if kind == "bool" and pdt.is_bool_dtype(s.dtype):
        return s
    if kind == "id" and pdt.is_integer_dtype(s.dtype) and not pdt.is_bool_dtype(s.dtype):
        return s
    typed_num = pdt.is_numeric_dtype(s.dtype) or pdt.is_datetime64_any_dtype(s.dtype)
    if typed_num and kind in ("id", "str", "enum", "date", "num", "int", "bool"):
        if not (kind == "int" and pdt.is_float_dtype(s.dtype)):
            errors.add(
                table,
                col,
                f"stored as {s.dtype} in {source}; expected {kind} "
                "(store it as text or with the schema's type)",
            )
            return s
    text = _as_text(s, kind)
    present = text.notna().to_numpy()
    if kind in ("id", "str", "enum"):
        return text
    if kind in ("num", "int"):
        v = pd.to_numeric(text, errors="coerce").astype("float64")
        bad = present & v.isna().to_numpy()
        if kind == "int":
            frac = v.notna().to_numpy() & (np.mod(v.fillna(0).to_numpy(), 1.0) != 0)
            bad = bad | frac
        _report(errors, table, col, source, kind, bad, ids, text)
        if kind == "num":
            return v
        return v.astype("int64") if not v.isna().any() else v.round().astype("Int64")
    if kind == "date":
        v = pd.to_datetime(text, format="ISO8601", errors="coerce")
        bad = present & v.isna().to_numpy()
        _report(errors, table, col, source, kind, bad, ids, text)
        return v.astype("datetime64[ns]")
    if kind == "bool":
        low = text.str.strip().str.lower()
        t = low.isin(list(_TRUE)).to_numpy()
        f = low.isin(list(_FALSE)).to_numpy()
        bad = present & ~t & ~f
        _report(errors, table, col, source, kind, bad, ids, text)
        if present.all():
            return pd.Series(t, index=s.index)
        return pd.Series(pd.array(np.where(present, t, None), dtype="boolean"), index=s.index)
    raise ValueError(f"unknown column kind {kind!r} for {table}.{col}")


def _report(errors, table, col, source, kind, bad, ids, text):
    if bad.any():
        shown = sorted({str(x) for x in text[bad].head(20)})[:3]
        errors.check(table, col, bad, ids, f"{_KIND_TEXT[kind]} in {source}: values {shown}")


# ------------------------------------------------------------------------ writing
def write_book(book: LoanBook, path, format: str = "csv") -> Path:
    """Write a loan book as an extract, atomically.

    Parameters
    ----------
    book : LoanBook
    path : str or Path
        Target folder (created or replaced). For ``format="excel"`` a path ending in ``.xlsx``
        is the workbook itself; otherwise the folder receives ``loanbook.xlsx``.
    format : {"csv", "parquet", "excel"}

    Returns
    -------
    Path of what was written.

    Notes
    -----
    Everything is written into a temporary sibling first and moved into place only when
    complete, so a failure leaves any previous extract at ``path`` untouched. Dates are
    written as ISO ``YYYY-MM-DD``; a ``riskkit_meta`` table records column kinds and the
    as-of date. Excel sheets hold at most 1,048,575 rows.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    path = Path(path)
    tables = book.tables
    meta = _meta_frame(book)
    if format == "excel":
        too_big = {k: len(v) for k, v in tables.items() if len(v) > EXCEL_MAX_ROWS}
        if too_big:
            raise ValueError(
                f"tables too large for an Excel sheet (max {EXCEL_MAX_ROWS:,} rows): {too_big}; "
                "use format='parquet' or 'csv'"
            )
        if path.suffix.lower() == ".xlsx":
            with atomic_path(path) as tmp:
                _write_excel(tables, meta, tmp)
            return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    try:
        if format == "excel":
            _write_excel(tables, meta, tmp / "loanbook.xlsx")
        else:
            for name, df in {**tables, META: meta}.items():
                target = tmp / (name + _SUFFIX[format])
                if format == "csv":
                    _for_csv(df).to_csv(target, index=False)
                else:
                    df.to_parquet(target, index=False)
        _swap_in(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _swap_in(tmp: Path, path: Path) -> None:
    """Replace ``path`` by the complete folder ``tmp`` (old one removed only afterwards)."""
    if path.exists():
        if not path.is_dir():
            raise FileExistsError(f"{path} exists and is not a folder")
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}-old-", dir=path.parent))
        old.rmdir()
        os.replace(path, old)
        try:
            os.replace(tmp, path)
        except BaseException:
            os.replace(old, path)  # put the previous extract back
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)


def _kind_for_dtype(dtype) -> str:
    if pdt.is_datetime64_any_dtype(dtype):
        return "date"
    if pdt.is_bool_dtype(dtype):
        return "bool"
    if pdt.is_integer_dtype(dtype):
        return "int"
    if pdt.is_float_dtype(dtype):
        return "num"
    return "str"


def _meta_frame(book: LoanBook) -> pd.DataFrame:
    rows = []
    for name, df in book.tables.items():
        spec = {c.name: c.kind for c in TABLES[name].columns}
        for c in df.columns:
            if c not in spec:
                rows.append((name, c, _kind_for_dtype(df[c].dtype), None))
    as_of = book.as_of_date.strftime("%Y-%m-%d") if book.as_of_date is not None else None
    rows.append(("_book", "as_of_date", "date", as_of))
    m = pd.DataFrame(rows, columns=["table", "column", "kind", "value"])
    return m.astype("str")


def _for_csv(df: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for c in df.columns:
        s = df[c]
        if pdt.is_datetime64_any_dtype(s.dtype):
            d = s.dt.normalize()
            if (d == s).all() or s.isna().all():
                out[c] = s.dt.strftime("%Y-%m-%d")
            else:
                out[c] = s.map(lambda x: x.isoformat() if pd.notna(x) else None)
        else:
            out[c] = s
    return pd.DataFrame(out)


def _write_excel(tables, meta, target: Path) -> None:
    with pd.ExcelWriter(target, engine="openpyxl") as xw:
        for name, df in tables.items():
            x = df.copy()
            for c in x.columns:
                if (
                    not pdt.is_numeric_dtype(x[c].dtype)
                    and not pdt.is_datetime64_any_dtype(x[c].dtype)
                    and not pdt.is_bool_dtype(x[c].dtype)
                ):
                    x[c] = x[c].astype(object)
            x.to_excel(xw, sheet_name=name, index=False)
        meta.astype(object).to_excel(xw, sheet_name=META, index=False)
