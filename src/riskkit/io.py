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
import functools
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api import types as pdt

from .atomic import atomic_path
from .book import parsing
from .book.loanbook import LoanBook
from .book.schema import TABLES
from .errors import ProblemCollector
from .partitioned import (
    PartitionedBook,
    is_partitioned,
    kind_for_dtype,
    read_partitioned,
    replace_folder,
    write_partitioned,
)

FORMATS = ("csv", "parquet", "excel")
REQUIRED_TABLES = ("loans", "schedule", "payments")
META = "riskkit_meta"
EXCEL_MAX_ROWS = 1_048_575  # one row is the header
_SUFFIX = {"csv": ".csv", "parquet": ".parquet", "excel": ".xlsx"}
_ID_COLUMNS = ("loan_id", "borrower_id", "collateral_id")
DEFAULT_ENCODING = "utf-8"


# ------------------------------------------------------------------------ reading
def read_table(
    path,
    table: str,
    kinds: dict[str, str] | None = None,
    *,
    frame: pd.DataFrame | None = None,
    errors: ProblemCollector | None = None,
    encoding: str | None = None,
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
    encoding : str, optional
        Text encoding of a CSV file (default UTF-8, with or without BOM). A file in another
        encoding is an error that names the encoding it decodes as (e.g. GB18030).

    Returns
    -------
    DataFrame with schema dtypes: ids and text as ``str``, ``num`` as float64, ``int`` as
    int64, dates as datetime64[ns].

    Raises
    ------
    ValidationError
        A file that cannot be read, or a value that does not parse; the message names file,
        table, column, loan id and rule.

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
    errors = errors if errors is not None else ProblemCollector(f"extract {path}")
    if frame is None:
        frame = _read_raw(path, errors, table, encoding)
    if frame is None:  # unreadable: the collected problem says why
        errors.raise_if_any()
    out = _parse_frame(frame, table, path.name, _checked_kinds(kinds, table, errors), errors)
    errors.raise_if_any()
    return out


def read_book(
    path,
    format: str | None = None,
    as_of_date=None,
    validate: bool = True,
    encoding: str | None = None,
) -> LoanBook | PartitionedBook:
    """Read a loan-book extract (CSV or Parquet folder, or Excel workbook) into a LoanBook.

    A partitioned Parquet dataset (written with ``write_book(..., partition_by=...)``) is
    opened lazily as a :class:`~riskkit.partitioned.PartitionedBook` (validated partition by
    partition when ``validate``; ``as_of_date`` does not apply).

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
    encoding : str, optional
        Text encoding of CSV files (default UTF-8); see :func:`read_table`.

    Returns
    -------
    LoanBook

    Raises
    ------
    ValidationError
        Every unreadable file, unparseable value, missing required table or column, with file,
        table, column, loan id (Excel: the cell) and rule; then every validation problem of
        the book.
    FileNotFoundError
        ``path`` does not exist or holds no loan-book tables.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no loan-book extract at {path}")
    if format in (None, "parquet") and is_partitioned(path):
        pb = read_partitioned(path)  # lazy: the manifest only
        return pb.validate() if validate else pb
    fmt, files = _locate(path, format)
    errors = ProblemCollector(f"extract {path}")
    sources = _raw_tables(fmt, files, path, errors, encoding)
    meta = sources.pop(META, None)
    kinds, meta_as_of = _parse_meta(meta[0]() if meta else None, errors)
    tables: dict[str, pd.DataFrame | None] = {}
    for name in TABLES:
        read, note = sources.pop(name, (None, ""))
        raw = read() if read is not None else None  # read, parsed, dropped: one at a time
        tables[name] = None
        if raw is not None:
            tables[name] = _parse_frame(
                raw, name, note, kinds.get(name, {}), errors, excel=fmt == "excel"
            )
        del raw
    errors.raise_if_any()
    if fmt == "parquet":
        release_arrow_memory()  # the decoding buffers, not the book's columns
    as_of = as_of_date if as_of_date is not None else meta_as_of
    return LoanBook(as_of_date=as_of, validate=validate, **tables)


def release_arrow_memory() -> None:
    """Give memory that Arrow's allocator holds but no longer uses back to the system (after
    reading a large Parquet extract the decoding buffers would otherwise stay resident)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _given(frame: pd.DataFrame) -> pd.DataFrame:
    return frame


def _raw_tables(fmt: str, files: dict[str, Path], path: Path, errors, encoding) -> dict:
    """Every table present: name -> (a call giving its raw cells, or None if unreadable;
    source note), the ``riskkit_meta`` table included. Files are read when called, one table
    at a time (a large extract is never in memory raw and parsed at once). Missing required
    tables are recorded as problems."""
    if fmt == "excel":
        book = files["__workbook__"]
        sheets = _read_excel(book, errors)
        if sheets is None:  # not a workbook: the problem is recorded
            return {}
        out = {
            name: (functools.partial(_given, frame), f"{book.name}[{name}]")
            for name, frame in sheets.items()
        }
    else:
        out = {
            name: (functools.partial(_read_raw, file, errors, name, encoding), file.name)
            for name, file in files.items()
        }
    for name in REQUIRED_TABLES:
        if name not in out:
            where = "sheet" if fmt == "excel" else "file"
            want = name if fmt == "excel" else name + _SUFFIX[fmt]
            errors.add(name, "", f"required table missing: no {where} {want!r} in {path}")
    return {k: v for k, v in out.items() if k in TABLES or k == META}


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
    if format == "excel" and len(books) != 1:
        raise FileNotFoundError(
            f"expected exactly one .xlsx workbook in {path}, found {len(books)}"
        )
    return format, found[format]


def _read_raw(
    path: Path, errors: ProblemCollector, table: str, encoding: str | None = None
) -> pd.DataFrame | None:
    """Raw cells of one CSV (all text) or Parquet file; None (problem recorded) if unreadable."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ValueError(f"{path}: unsupported file type {suffix!r} (use .csv or .parquet)")
    try:
        if suffix == ".csv":
            return _read_csv(path, errors, table, encoding)
        return pd.read_parquet(path)
    except UnicodeDecodeError:
        errors.add(table, "", _encoding_problem(path, encoding))
    except (ValueError, OSError, csv.Error) as exc:
        errors.add(table, "", f"cannot read {path.name}: {exc}")
    return None


def _read_csv(path: Path, errors: ProblemCollector, table: str, encoding: str | None):
    enc = encoding or "utf-8-sig"
    with open(path, encoding=enc, newline="") as fh:
        header = next(csv.reader(fh), [])
    names = [h.strip() for h in header]
    for c in sorted({h for h in names if names.count(h) > 1}):
        errors.add(table, c, f"column appears more than once in {path.name}")
    return pd.read_csv(path, dtype="str", keep_default_na=False, na_values=[""], encoding=enc)


#: Encodings a Chinese extract is likely to be in when it is not UTF-8.
_LIKELY_ENCODINGS = ("gb18030", "big5")


def _encoding_problem(path: Path, encoding: str | None) -> str:
    """Why ``path`` does not decode, naming the encoding it does decode as, and the fix."""
    data = path.read_bytes()
    want = encoding or DEFAULT_ENCODING
    for enc in _LIKELY_ENCODINGS:
        if enc == (encoding or "").lower():
            continue
        try:
            data.decode(enc)
        except UnicodeDecodeError:
            continue
        name = "GB18030 (GBK)" if enc == "gb18030" else enc
        return (
            f"{path.name} is not {want} text; it decodes as {name}. Save it as UTF-8 "
            f"(Excel: 'CSV UTF-8') or read it with encoding={enc!r}"
        )
    return f"{path.name} is not {want} text; save it as UTF-8 (Excel: 'CSV UTF-8')"


def _read_excel(path: Path, errors: ProblemCollector) -> dict[str, pd.DataFrame] | None:
    """Every sheet's raw cells; None (problem recorded) when ``path`` is not a workbook."""
    try:
        return pd.read_excel(path, sheet_name=None, dtype=object, engine="openpyxl")
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        errors.add("workbook", "", _not_a_workbook(path, exc))
    return None


def _not_a_workbook(path: Path, exc: BaseException) -> str:
    head = path.read_bytes()[:8] if path.is_file() else b""
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        what = "an old Excel 97-2003 (.xls) file; open it in Excel and save it as .xlsx"
    elif head.startswith(b"PK"):
        what = f"a zip archive without an Excel workbook inside ({type(exc).__name__}: {exc})"
    else:
        what = (
            "not an Excel workbook (is it CSV or text renamed to .xlsx?); save it from Excel as "
            ".xlsx, or give a folder of CSV files named loans.csv, schedule.csv, payments.csv"
        )
    return f"cannot read {path.name}: {what}"


_META_COLUMNS = ("table", "column", "kind", "value")


def _parse_meta(meta: pd.DataFrame | None, errors: ProblemCollector):
    """Column kinds beyond the schema and the as-of date from ``riskkit_meta``."""
    kinds: dict[str, dict[str, str]] = {}
    as_of = None
    if meta is None or not len(meta):
        return kinds, as_of
    if not errors.require(META, meta, _META_COLUMNS):
        return kinds, as_of
    m = meta.astype(object).where(meta.notna(), None)
    for t, c, k, v in zip(m["table"], m["column"], m["kind"], m["value"], strict=True):
        if t == "_book" and c == "as_of_date":
            as_of = parsing.cell_text(v, "date")
            if as_of is not None and not parsing.is_full_date(as_of):
                errors.add(META, "as_of_date", f"not a date (expected ISO YYYY-MM-DD): {v!r}")
                as_of = None
        elif t and c and k:
            kinds.setdefault(str(t), {})[str(c)] = str(k)
    return {t: _checked_kinds(cols, t, errors) for t, cols in kinds.items()}, as_of


def _checked_kinds(kinds: dict[str, str] | None, table: str, errors: ProblemCollector) -> dict:
    """``kinds`` with unknown kinds recorded as problems (and left out)."""
    out = {}
    for col, kind in (kinds or {}).items():
        if kind in parsing.KINDS:
            out[col] = kind
        else:
            known = list(parsing.KINDS)
            errors.add(table, str(col), f"unknown column kind {kind!r}; known: {known}")
    return out


def _kind_of(col: str, spec_kinds: dict[str, str], extra: dict[str, str]) -> str:
    return spec_kinds.get(col) or extra.get(col) or "str"


def _parse_frame(
    raw: pd.DataFrame,
    table: str,
    source: str,
    extra: dict[str, str],
    errors: ProblemCollector,
    *,
    excel: bool = False,
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
    for j, col in enumerate(raw.columns):
        if col in dup:
            continue
        where = _Where(table, col, source, ids, _excel_column(j) if excel else None)
        out[col] = _parse_column(raw.iloc[:, j], _kind_of(col, spec_kinds, extra), where, errors)
    return pd.DataFrame(out, index=raw.index, copy=False)  # the parsed columns, not copies


def _excel_column(j: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(j + 1)


class _Where:
    """Where a column's cells come from, for error messages."""

    def __init__(self, table: str, col: str, source: str, ids: pd.Series, letter: str | None):
        self.table, self.col, self.source, self.ids, self.letter = table, col, source, ids, letter

    def cells(self, bad: np.ndarray) -> str:
        """``" (cells D2, D7)"`` for an Excel sheet (header in row 1), else ``""``."""
        if self.letter is None:
            return ""
        rows = np.flatnonzero(bad)[:5] + 2
        more = f", +{int(bad.sum()) - 5} more" if bad.sum() > 5 else ""
        return " (cell " + ", ".join(f"{self.letter}{r}" for r in rows) + more + ")"

    def report(self, errors: ProblemCollector, bad: np.ndarray, rule: str, detail: str = ""):
        """Record ``rule`` (``rule in source (cells): detail``) for the ``bad`` rows."""
        if bad.any():
            text = f"{rule} in {self.source}{self.cells(bad)}" + (f": {detail}" if detail else "")
            errors.check(self.table, self.col, bad, self.ids, text)


def _row_labels(raw: pd.DataFrame) -> pd.Series:
    def rows():  # row numbers only where an id is missing (a million labels cost seconds)
        return "row " + pd.Series(np.arange(2, len(raw) + 2), index=raw.index).astype("str")

    for c in _ID_COLUMNS:
        if c in raw.columns and not isinstance(raw[c], pd.DataFrame):
            ids = parsing.cells_as_text(raw[c], "id").values
            return ids.fillna(rows()) if ids.isna().any() else ids
    return rows()


def _typed_column(s: pd.Series, kind: str, where: _Where, errors) -> pd.Series | None:
    """A column that already has its kind's dtype (Parquet), as it is; None otherwise."""
    d = s.dtype
    not_bool = not pdt.is_bool_dtype(d)
    if kind == "num" and pdt.is_numeric_dtype(d) and not_bool and not pdt.is_complex_dtype(d):
        return s.astype("float64")
    if kind in ("int", "id") and pdt.is_integer_dtype(d) and not_bool:
        if kind == "id":
            return s
        return s.astype("int64") if not s.isna().any() else s.astype("Int64")
    if kind == "date" and pdt.is_datetime64_any_dtype(d):
        if isinstance(d, pd.DatetimeTZDtype):
            errors.add(
                where.table,
                where.col,
                f"timezone-aware dates are not supported (in {where.source})",
            )
            return s
        return s.astype("datetime64[ns]")
    if kind == "bool" and pdt.is_bool_dtype(d):
        return s
    if kind == "id" and isinstance(d, pd.CategoricalDtype) and _clean_text(d.categories):
        return s  # ids held as codes (LoanBook.compact): the distinct ids are clean text
    typed = pdt.is_numeric_dtype(d) or pdt.is_datetime64_any_dtype(d)
    if typed and not (kind == "int" and pdt.is_float_dtype(d)):
        errors.add(
            where.table,
            where.col,
            f"stored as {d} in {where.source}; expected {kind} "
            "(store it as text or with the schema's type)",
        )
        return s
    return None


def _clean_text(values: pd.Index) -> bool:
    """Text values, none missing or blank."""
    if not len(values) or not pdt.is_string_dtype(values.dtype) or values.isna().any():
        return False
    return not parsing.cells_as_text(pd.Series(values), "id").values.isna().any()


def _parse_column(s: pd.Series, kind: str, where: _Where, errors) -> pd.Series:
    typed = _typed_column(s, kind, where, errors)
    if typed is not None:
        return typed
    p = parsing.parse_cells(s, kind)
    where.report(errors, p.odd, parsing.NOT_A_VALUE)
    where.report(errors, p.inexact, parsing.INEXACT, parsing.INEXACT_FIX)
    if p.bad.any():
        shown = sorted({str(x) for x in s[p.bad].head(20)})[:3]
        where.report(errors, p.bad, parsing.RULES[kind], f"values {shown}")
    return p.values


# ------------------------------------------------------------------------ writing
#: The workbook :func:`write_book` puts into a folder for ``format="excel"``.
EXCEL_BOOK = "loanbook.xlsx"


def write_book(
    book: LoanBook,
    path,
    format: str = "csv",
    partition_by: str | None = None,
    buckets: int = 16,
) -> Path:
    """Write a loan book as an extract, atomically.

    With ``partition_by`` (``"borrower_id"`` or ``"loan_id"``, Parquet only) the book is
    written as a partitioned dataset of ``buckets`` hash buckets with a manifest (see
    :mod:`riskkit.partitioned`).

    Parameters
    ----------
    book : LoanBook
    path : str or Path
        Target folder: new, empty, or an extract riskkit wrote before (which is replaced).
        For ``format="excel"`` a path ending in ``.xlsx`` is the workbook itself; otherwise
        the folder receives ``loanbook.xlsx``.
    format : {"csv", "parquet", "excel"}

    Returns
    -------
    Path of what was written.

    Raises
    ------
    FileExistsError
        ``path`` holds anything riskkit did not write (another file, a sub-folder, a workbook
        without a ``riskkit_meta`` sheet): nothing is replaced or deleted.

    Notes
    -----
    Everything is written into a temporary sibling first and moved into place only when
    complete, so a failure leaves any previous extract at ``path`` untouched. Dates are
    written as ISO ``YYYY-MM-DD``; a ``riskkit_meta`` table records column kinds and the
    as-of date. Excel sheets hold at most 1,048,575 rows.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    if partition_by is not None:
        if format != "parquet":
            raise ValueError(f"partition_by needs format='parquet', got {format!r}")
        return write_partitioned(book, path, buckets=buckets, partition_by=partition_by)
    path = Path(path)
    tables = book.tables
    meta = _meta_frame(book)
    if format == "excel":
        _check_excel_size(tables)
    if format == "excel" and path.suffix.lower() == ".xlsx":
        check_extract_target(path, workbook=True)
        with atomic_path(path) as tmp:
            _write_excel(tables, meta, tmp)
        return path
    check_extract_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    try:
        _write_tables(tables, meta, tmp, format)
        check_extract_target(path)  # again: nothing foreign arrived while writing
        replace_folder(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _check_excel_size(tables: dict[str, pd.DataFrame]) -> None:
    too_big = {k: len(v) for k, v in tables.items() if len(v) > EXCEL_MAX_ROWS}
    if too_big:
        raise ValueError(
            f"tables too large for an Excel sheet (max {EXCEL_MAX_ROWS:,} rows): {too_big}; "
            "use format='parquet' or 'csv'"
        )


def _write_tables(tables, meta, folder: Path, format: str) -> None:
    if format == "excel":
        _write_excel(tables, meta, folder / EXCEL_BOOK)
        return
    for name, df in {**tables, META: meta}.items():
        target = folder / (name + _SUFFIX[format])
        if format == "csv":
            _for_csv(df).to_csv(target, index=False)
        else:
            df.to_parquet(target, index=False)


def extract_files() -> frozenset[str]:
    """Names of the files :func:`write_book` writes into an extract folder (any format)."""
    names = {name + suffix for name in (*TABLES, META) for suffix in _SUFFIX.values()}
    return frozenset(names | {EXCEL_BOOK})


def check_extract_target(path: Path, workbook: bool = False) -> None:
    """Refuse to replace ``path`` unless it is absent, an empty folder, or an extract riskkit
    wrote (only riskkit's files, with its ``riskkit_meta`` table).

    Raises
    ------
    FileExistsError
        Naming what riskkit did not write.
    """
    if not path.exists():
        return
    keep = "nothing was changed; write the extract into a new or empty folder"
    if workbook:
        if not path.is_file() or not _is_riskkit_workbook(path):
            raise FileExistsError(
                f"{path} exists and is not a workbook riskkit wrote (no {META} sheet); {keep}"
            )
        return
    if not path.is_dir():
        raise FileExistsError(f"{path} exists and is not a folder; {keep}")
    names = sorted(p.name for p in path.iterdir())
    foreign = [n for n in names if n not in extract_files() or (path / n).is_dir()]
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" (+{len(foreign) - 5} more)" if len(foreign) > 5 else ""
        )
        raise FileExistsError(f"{path} holds files riskkit did not write ({shown}); {keep}")
    written_by_riskkit = any(n.startswith(META + ".") for n in names) or (
        EXCEL_BOOK in names and _is_riskkit_workbook(path / EXCEL_BOOK)
    )
    if names and not written_by_riskkit:
        raise FileExistsError(
            f"{path} holds loan-book files without a {META} table, so riskkit did not write "
            f"them ({', '.join(names[:5])}); {keep}"
        )


def _is_riskkit_workbook(path: Path) -> bool:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        return False
    try:
        return META in wb.sheetnames
    finally:
        wb.close()


def _meta_frame(book: LoanBook) -> pd.DataFrame:
    rows = []
    for name, df in book.tables.items():
        spec = {c.name: c.kind for c in TABLES[name].columns}
        for c in df.columns:
            if c not in spec:
                rows.append((name, c, kind_for_dtype(df[c].dtype), None))
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
