"""A loan book on disk as a partitioned Parquet dataset, read lazily, partition by partition.

Layout of ``path/``::

    _riskkit_manifest.json          schema version, partition key, buckets, row counts, as-of
    bucket=00000/loans.parquet      one folder per hash bucket, one file per table
    bucket=00000/schedule.parquet   (or several: ``schedule-00003.parquet`` ... when the book
    ...                              was written in pieces, e.g. generated partition by partition)

Every row sits in the bucket of its loan's **borrower** (``partition_by="borrower_id"``, the
default): a loan's schedule, payments, signals, guarantors and collateral, and every loan of a
borrower, are in the same partition, so everything the classification does per loan or per
borrower (borrower-level consistency) runs partition by partition without a shuffle.
Households tied by a joint-guarantee group share the bucket of the group's smallest borrower
id (:func:`household_keys`), so group exposure and guarantor liability stay within a
partition too.
``partition_by="loan_id"`` buckets by the loan itself (then borrower-level rules need the whole
book; :mod:`riskkit.engine` refuses them). The bucket is ``siphash(id) mod buckets``
(``pandas.util.hash_array``, a fixed key: the same id lands in the same bucket in every process
and on every machine).

:func:`write_partitioned` writes atomically (a temporary folder renamed into place).
:func:`read_partitioned` returns a :class:`PartitionedBook`: nothing is read until a partition
is asked for; :meth:`PartitionedBook.validate` checks partition by partition (plus loan ids
unique across partitions) and reports every problem of the dataset together.

Examples
--------
>>> import tempfile, pathlib
>>> from riskkit.datasets import make_microloan_book
>>> book = make_microloan_book(n_loans=300, months=12, seed=0)
>>> path = write_partitioned(book, pathlib.Path(tempfile.mkdtemp()) / "book", buckets=4)
>>> pb = read_partitioned(path)
>>> pb.n_partitions, pb.n_loans, sum(p.n_loans for p in pb.partitions())
(4, 300, 300)
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .book.keys import positions
from .book.loanbook import LoanBook
from .book.schema import TABLES
from .errors import Problem, ValidationError

MANIFEST = "_riskkit_manifest.json"
SCHEMA_VERSION = 1
FORMAT = "riskkit-partitioned-book"
PARTITION_KEYS = ("borrower_id", "loan_id")
HASH = "pandas.util.hash_array(siphash-2-4, key 0123456789123456) mod buckets"


def bucket_of(ids, buckets: int) -> np.ndarray:
    """Bucket (0..buckets-1) of every id: a stable hash, the same in every process."""
    values = np.asarray(pd.Series(ids).astype(object), dtype=object)
    h = pd.util.hash_array(values, categorize=True)
    return (h % np.uint64(buckets)).astype(np.int64)


def household_keys(book: LoanBook) -> tuple[np.ndarray, pd.Series]:
    """The partition key of every loan and every borrower under ``partition_by="borrower_id"``:
    the borrower's id, or, for borrowers tied together by joint-guarantee groups
    (``guarantors.group_id``, :mod:`riskkit.book.groups`), the smallest borrower id of the
    households so tied. Every loan of a borrower and every loan of a group then share one
    partition, so group exposure and guarantor liability run partition by partition.

    Returns the loans' keys (in ``book.loans`` order) and a Series borrower id -> key.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    loans, g = book.loans, book.guarantors
    b_ids = pd.unique(
        pd.concat([loans["borrower_id"], book.borrowers["borrower_id"]]).astype(object)
    )
    b_code = pd.Index(b_ids).get_indexer(loans["borrower_id"].astype(object))
    grouped = g[g["group_id"].notna().to_numpy(dtype=bool)] if "group_id" in g else g.iloc[:0]
    pos = positions(loans["loan_id"], grouped["loan_id"])
    known = pos >= 0
    g_code = pd.factorize(grouped["group_id"].astype(object).to_numpy()[known])[0]
    n_b, n_g = len(b_ids), int(g_code.max()) + 1 if len(g_code) else 0
    rows, cols = b_code[pos[known]], n_b + g_code
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_b + n_g,) * 2)
    n_comp, label = connected_components(graph, directed=False)
    order, uniq = pd.factorize(b_ids, sort=True)  # codes in the ids' sort order
    smallest = np.full(n_comp, len(b_ids), dtype=np.int64)
    np.minimum.at(smallest, label[:n_b], order)  # the smallest id of each component
    key = pd.Series(np.asarray(uniq, dtype=object)[smallest[label[:n_b]]], index=b_ids)
    return key.to_numpy()[b_code], key


def _loan_buckets(book: LoanBook, partition_by: str, buckets: int) -> np.ndarray:
    loans = book.loans
    if partition_by not in PARTITION_KEYS:
        raise ValueError(f"partition_by must be one of {PARTITION_KEYS}, got {partition_by!r}")
    if buckets == 1:  # one partition: nothing to place
        return np.zeros(len(loans), dtype=np.int64)
    if partition_by == "borrower_id":
        return bucket_of(household_keys(book)[0], buckets)
    return bucket_of(loans[partition_by], buckets)


def _row_buckets(book: LoanBook, name: str, loan_bucket: np.ndarray, key: str, buckets: int):
    """Bucket of every row of table ``name`` (rows naming an unknown loan or borrower go to
    the bucket of their own id, where validation will report them)."""
    df = book.tables[name]
    if name == "loans":
        return loan_bucket
    if buckets == 1:
        return np.zeros(len(df), dtype=np.int64)
    if name == "borrowers":  # partitioned by borrower: the bucket of the borrower's key
        keys = household_keys(book)[1]
        return bucket_of(keys.reindex(df["borrower_id"].astype(object)).to_numpy(), buckets)
    pos = positions(book.loans["loan_id"], df["loan_id"])
    own = bucket_of(df["loan_id"], buckets) if (pos < 0).any() else 0
    return np.where(pos >= 0, loan_bucket[np.maximum(pos, 0)], own)


def _split(df: pd.DataFrame, bucket: np.ndarray, buckets: int) -> list[np.ndarray]:
    """Row numbers of ``df`` per bucket, each in the table's original order."""
    order = np.argsort(bucket, kind="stable")
    cuts = np.searchsorted(bucket[order], np.arange(buckets + 1))
    return [order[cuts[b] : cuts[b + 1]] for b in range(buckets)]


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Categorical ids back to text for the file (a Parquet reader sees plain columns)."""
    cat = [c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)]
    return df.astype(dict.fromkeys(cat, "str")) if cat else df


def _table_rows(book: LoanBook, key: str, buckets: int) -> dict[str, list[np.ndarray]]:
    loan_bucket = _loan_buckets(book, key, buckets)
    out = {}
    for name, df in book.tables.items():
        if name == "borrowers" and key == "loan_id":
            out[name] = _borrower_rows(book, loan_bucket, buckets)
            continue
        out[name] = _split(df, _row_buckets(book, name, loan_bucket, key, buckets), buckets)
    return out


def _borrower_rows(book: LoanBook, loan_bucket: np.ndarray, buckets: int) -> list[np.ndarray]:
    """Partitioned by loan: each bucket holds the borrowers of its loans (a borrower with
    loans in several buckets is written to each), so every partition validates on its own."""
    b = book.borrowers
    pos = positions(b["borrower_id"], book.loans["borrower_id"])
    known = pos >= 0
    pairs = pd.DataFrame({"bucket": loan_bucket[known], "row": pos[known]}).drop_duplicates()
    pairs = pairs.sort_values(["bucket", "row"], kind="stable")
    grouped = dict(iter(pairs.groupby("bucket")["row"]))
    return [np.asarray(grouped.get(k, []), dtype=np.int64) for k in range(buckets)]


def _bucket_dir(k: int) -> str:
    return f"bucket={k:05d}"


def write_partitioned(
    book: LoanBook, path, buckets: int = 16, partition_by: str = "borrower_id"
) -> Path:
    """Write ``book`` as a partitioned Parquet dataset at ``path`` (replaced atomically).

    Parameters
    ----------
    book : LoanBook
    path : str or Path
        Target folder (created, or replaced only once the new dataset is complete).
    buckets : int, default 16
        Number of hash buckets (partitions).
    partition_by : {"borrower_id", "loan_id"}
        Key whose hash picks the bucket (see the module notes).

    Returns
    -------
    Path
    """
    if int(buckets) < 1:
        raise ValueError(f"buckets must be at least 1, got {buckets}")
    path = Path(path)
    with dataset_writer(path) as tmp:
        written = write_buckets(book, tmp, int(buckets), partition_by)
        write_manifest(tmp, book.as_of_date, column_kinds(book), partition_by, int(buckets),
                       [written])  # fmt: skip
    return path


@contextmanager
def dataset_writer(path: Path):
    """A temporary folder beside ``path`` to write a dataset into, put in place (replacing a
    previous dataset) when the block completes, removed when it fails."""
    check_dataset_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    try:
        yield tmp
        replace_folder(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_buckets(book: LoanBook, folder: Path, buckets: int, partition_by: str, piece=None):
    """Write every row of ``book`` into its bucket's folder under ``folder``; returns rows per
    bucket and table. ``piece`` (an int) names the files ``<table>-<piece>.parquet``, so
    several pieces of a book (written by different tasks) can share the bucket folders."""
    rows = _table_rows(book, partition_by, buckets)
    out = {}
    for k in range(buckets):
        d = folder / _bucket_dir(k)
        d.mkdir(exist_ok=True)
        for name, df in book.tables.items():
            sel = rows[name][k]
            file = f"{name}.parquet" if piece is None else f"{name}-{piece:05d}.parquet"
            _plain(df.iloc[sel]).to_parquet(d / file, index=False)
            out[(k, name)] = (file, int(len(sel)))
    return out


def write_manifest(folder: Path, as_of, kinds: dict, partition_by: str, buckets: int, pieces):
    """The manifest of the bucket folders under ``folder`` from what :func:`write_buckets`
    returned for every piece (in piece order)."""
    parts: list[dict[str, Any]] = []
    for k in range(buckets):
        tables = {}
        for name in TABLES:
            got = [w[(k, name)] for w in pieces if (k, name) in w]
            tables[name] = {"files": [f for f, _ in got], "rows": sum(n for _, n in got)}
        parts.append({"bucket": k, "dir": _bucket_dir(k), "tables": tables})
    totals = {name: sum(p["tables"][name]["rows"] for p in parts) for name in TABLES}
    as_of = pd.Timestamp(as_of).strftime("%Y-%m-%d") if as_of is not None else None
    manifest = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "partition_by": partition_by,
        "buckets": buckets,
        "hash": HASH,
        "as_of_date": as_of,
        "columns": kinds,
        "rows": totals,
        "partitions": parts,
        "written": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def kind_for_dtype(dtype) -> str:
    """The loan-book kind (``date``, ``bool``, ``int``, ``num``, ``str``) of a column's dtype."""
    from pandas.api import types as pdt

    if pdt.is_datetime64_any_dtype(dtype):
        return "date"
    if pdt.is_bool_dtype(dtype):
        return "bool"
    if pdt.is_integer_dtype(dtype):
        return "int"
    if pdt.is_float_dtype(dtype):
        return "num"
    return "str"


def column_kinds(book: LoanBook) -> dict[str, dict[str, str]]:
    """The kind of every column of every table (the schema's, else from the dtype)."""
    out = {}
    for name, df in book.tables.items():
        spec = {c.name: c.kind for c in TABLES[name].columns}
        out[name] = {c: spec.get(c, kind_for_dtype(df[c].dtype)) for c in df.columns}
    return out


def check_dataset_target(path: Path) -> None:
    """Refuse to replace ``path`` unless it is absent, an empty folder or a partitioned book
    riskkit wrote (its manifest and bucket folders only): nothing else is ever deleted."""
    if not path.exists():
        return
    keep = "nothing was changed; write the dataset into a new or empty folder"
    if not path.is_dir():
        raise FileExistsError(f"{path} exists and is not a folder; {keep}")
    names = sorted(p.name for p in path.iterdir())
    if not names:
        return
    foreign = [
        n for n in names if n != MANIFEST and not (n.startswith("bucket=") and (path / n).is_dir())
    ]
    if foreign or MANIFEST not in names:
        shown = ", ".join((foreign or names)[:5])
        raise FileExistsError(f"{path} holds files riskkit did not write ({shown}); {keep}")


def replace_folder(tmp: Path, path: Path) -> None:
    """Put the complete folder ``tmp`` at ``path``; a previous folder there is removed only
    once the new one is in place."""
    if not path.exists():
        os.replace(tmp, path)
        return
    if not path.is_dir():
        raise FileExistsError(f"{path} exists and is not a folder")
    old = Path(tempfile.mkdtemp(prefix=f".{path.name}-old-", dir=path.parent))
    old.rmdir()
    os.replace(path, old)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.replace(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)


def is_partitioned(path) -> bool:
    """Whether ``path`` is a folder holding a partitioned book (a manifest)."""
    return (Path(path) / MANIFEST).is_file()


def read_manifest(path) -> dict:
    """The dataset's manifest, checked: format, schema version, every listed file present."""
    path = Path(path)
    try:
        m = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"no partitioned loan book at {path} (no {MANIFEST})") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path / MANIFEST}: not valid JSON ({e})") from None
    problems = _manifest_problems(path, m)
    if problems:
        raise ValidationError(problems, f"partitioned book {path}")
    return m


def _manifest_problems(path: Path, m) -> list[Problem]:
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        return [Problem("manifest", "format", f"must be {FORMAT!r}")]
    if m.get("schema_version") != SCHEMA_VERSION:
        found = m.get("schema_version")
        return [Problem("manifest", "schema_version", f"{found!r} is not {SCHEMA_VERSION}")]
    out = []
    for p in m.get("partitions", []):
        for name, t in p.get("tables", {}).items():
            for f in t.get("files", []):
                if not (path / p["dir"] / f).is_file():
                    out.append(Problem(name, "", f"file missing: {p['dir']}/{f}"))
    return out


@dataclass(frozen=True)
class Partition:
    """One bucket of a partitioned book on disk: where it is and how many rows it holds."""

    path: Path
    bucket: int
    tables: dict
    as_of_date: str | None
    kinds: dict

    @property
    def n_loans(self) -> int:
        return int(self.tables["loans"]["rows"])

    def read(self, validate: bool = False, compact: bool = True) -> LoanBook:
        """This partition as a :class:`LoanBook` (ids held as codes with ``compact``)."""
        from .io import read_table

        tables = {}
        for name, t in self.tables.items():
            frames = [
                read_table(self.path / f, name, kinds=self.kinds.get(name)) for f in t["files"]
            ]
            tables[name] = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        book = LoanBook(as_of_date=self.as_of_date, validate=validate, **tables)
        return book.compact() if compact else book


class PartitionedBook:
    """A loan book stored as a partitioned dataset (see :mod:`riskkit.partitioned`), read
    lazily: the manifest only, until a partition is asked for.

    Examples
    --------
    >>> pb = read_partitioned(path)   # doctest: +SKIP
    >>> pb.validate()                 # doctest: +SKIP
    >>> book = pb.partition(0)        # doctest: +SKIP
    >>> whole = pb.to_book()          # doctest: +SKIP

    ``validate`` reports every problem of every partition at once; ``partition(i)`` is one
    bucket as a LoanBook; ``to_book`` puts everything in memory (the pandas engine).
    """

    def __init__(self, path, manifest: dict | None = None):
        self.path = Path(path)
        self.manifest = manifest if manifest is not None else read_manifest(self.path)

    @property
    def partition_by(self) -> str:
        return self.manifest["partition_by"]

    @property
    def n_partitions(self) -> int:
        return len(self.manifest["partitions"])

    @property
    def n_loans(self) -> int:
        return int(self.manifest["rows"]["loans"])

    @property
    def as_of_date(self) -> pd.Timestamp | None:
        d = self.manifest.get("as_of_date")
        return pd.Timestamp(d) if d else None

    def partition_info(self, i: int) -> Partition:
        p = self.manifest["partitions"][i]
        return Partition(
            self.path / p["dir"], p["bucket"], p["tables"], self.manifest.get("as_of_date"),
            self.manifest.get("columns", {}),
        )  # fmt: skip

    def partition(self, i: int, validate: bool = False, compact: bool = True) -> LoanBook:
        """Partition ``i`` as a LoanBook."""
        return self.partition_info(i).read(validate=validate, compact=compact)

    def partitions(self, validate: bool = False, compact: bool = True) -> Iterator[LoanBook]:
        """Every partition in turn (one in memory at a time)."""
        for i in range(self.n_partitions):
            yield self.partition(i, validate=validate, compact=compact)

    def validate(self, engine="pandas") -> PartitionedBook:
        """Validate partition by partition (as tasks with ``engine="dask"``), plus loan ids
        unique across partitions; raise one :class:`~riskkit.errors.ValidationError` with
        every problem found (the same problems in different partitions are merged: counts
        added, first ids kept)."""
        from .engine import open_engine

        eng = open_engine(engine)
        infos = [self.partition_info(i) for i in range(self.n_partitions)]
        checked = eng.compute(*eng.map(_partition_problems, infos))
        if eng is not engine:
            eng.close()
        checked = [checked] if len(infos) == 1 else list(checked)
        problems = [p for found, _ in checked for p in found]
        dup = _duplicates_across([ids for _, ids in checked])
        if dup is not None:
            problems.append(dup)
        if problems:
            raise ValidationError(merge_problems(problems), f"partitioned book {self.path}")
        return self

    def to_book(self, validate: bool = False, compact: bool = True) -> LoanBook:
        """All partitions in one LoanBook (ids held as codes with ``compact``, see
        :meth:`LoanBook.compact`; as text, exactly as written, without)."""
        book = concat_partitions(list(self.partitions(compact=compact)), validate=False)
        if self.partition_by == "loan_id":  # a borrower is in every bucket of its loans
            book.borrowers = book.borrowers.drop_duplicates("borrower_id", ignore_index=True)
        return book.validate() if validate else book

    def __repr__(self) -> str:
        rows = ", ".join(f"{k}={v:,}" for k, v in self.manifest["rows"].items())
        return (
            f"PartitionedBook({str(self.path)!r}, {self.n_partitions} partitions by "
            f"{self.partition_by}, {rows})"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{k}</td><td style='text-align:right'>{v:,}</td></tr>"
            for k, v in self.manifest["rows"].items()
        )
        return (
            f"<div><b>Partitioned loan book</b>: {self.n_partitions} partitions by "
            f"{self.partition_by}<table><tr><th>table</th><th>rows</th></tr>{rows}</table></div>"
        )


def _partition_problems(info: Partition) -> tuple[list[Problem], pd.Series]:
    """The validation problems of one partition and its loan ids."""
    try:
        book = info.read(validate=True, compact=False)
        found = []
    except ValidationError as e:
        book, found = info.read(validate=False, compact=False), e.problems
    return found, pd.Series(book.loans["loan_id"].array)


def _duplicates_across(ids: list[pd.Series]) -> Problem | None:
    allids = pd.concat(ids, ignore_index=True)
    dup = allids.duplicated(keep=False).to_numpy()
    if not dup.any():
        return None
    shown = tuple(pd.unique(allids[dup]).tolist()[:5])
    return Problem("loans", "loan_id", "duplicate id", shown, int(dup.sum()))


def merge_problems(problems: list[Problem]) -> list[Problem]:
    """One problem per (table, column, rule): counts added, the first five ids kept."""
    merged: dict[tuple, Problem] = {}
    for p in problems:
        k = (p.table, p.column, p.rule)
        if k not in merged:
            merged[k] = p
            continue
        q = merged[k]
        ids = tuple(dict.fromkeys(q.ids + p.ids))[:5]
        merged[k] = Problem(q.table, q.column, q.rule, ids, q.count + p.count)
    return list(merged.values())


def concat_partitions(books: list[LoanBook], validate: bool = False) -> LoanBook:
    """One book from partitions; categorical ids are combined into one categorical whose
    categories are the loans' ids of all partitions in order."""
    first = books[0]
    tables = {}
    for name in first.tables:
        frames = [b.tables[name] for b in books]
        tables[name] = _concat(frames)
    return LoanBook(as_of_date=first.as_of_date, validate=validate, **tables)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    cat = [
        c
        for c in frames[0].columns
        if all(isinstance(f[c].dtype, pd.CategoricalDtype) for f in frames if c in f.columns)
        and isinstance(frames[0][c].dtype, pd.CategoricalDtype)
    ]
    if not cat:
        return pd.concat(frames, ignore_index=True)
    from pandas.api.types import union_categoricals

    out = pd.concat([f.drop(columns=cat) for f in frames], ignore_index=True)
    for c in cat:
        out[c] = union_categoricals([f[c].array for f in frames])
    return out[list(frames[0].columns)]


def read_partitioned(path) -> PartitionedBook:
    """Open a partitioned book (manifest checked; no table read yet)."""
    return PartitionedBook(path)
