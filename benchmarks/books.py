"""Benchmark books shaped like a real extract.

Every benchmark runs on the sample generator's book (:func:`riskkit.datasets.make_microloan_book`):
string ids (``L0000001``, ``B0000001``, ``P0000001``...), all seven tables (loans, borrowers,
guarantors, collateral, schedule, payments, signals) and the generator's behaviour mix (partial
payments, spirals, cures, prepayment, harvest seasonality, qualitative events). Above 100,000
loans the generated 100,000-loan book is copied with distinct ids
(:func:`riskkit.datasets.replicate_book`: ``R01-L0000001``...), which keeps the shape of the
data at any size without simulating millions of loans every run.

Generated books are cached as Parquet extracts under ``benchmarks/.data/`` (or
``$RISKKIT_BENCH_DATA``); a benchmark reads its book from there like a real extract, in a fresh
process, so its memory is what a user who loads the extract would see.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import pandas as pd

from riskkit.book import LoanBook
from riskkit.datasets import make_microloan_book, replicate_book
from riskkit.io import read_book, release_arrow_memory, write_book

BASE_LOANS = 100_000
AS_OF = pd.Timestamp("2026-10-31")
#: books below this size are generated in memory every run (seconds), not cached
CACHE_FROM = 50_000


def data_dir() -> Path:
    """Where generated benchmark books are cached: one folder per version of the generator
    (a changed generator never reuses books made by an older one)."""
    env = os.environ.get("RISKKIT_BENCH_DATA")
    root = Path(env) if env else Path(__file__).resolve().parent / ".data"
    return root / f"generator-{generator_version()}"


def generator_version() -> str:
    """A short hash of what the sample generator makes (every table of a 500-loan, 36-month
    book), the code that copies and pieces books, and the riskkit version: a behaviour change
    makes new benchmark books, a refactoring that keeps the output does not."""
    import hashlib
    import inspect

    import pandas as pd

    import riskkit
    from riskkit.datasets import large, make_microloan_book, replicate

    h = hashlib.sha256(
        (riskkit.__version__ + "".join(map(inspect.getsource, (replicate, large)))).encode()
    )
    sample = make_microloan_book(n_loans=500, months=36, seed=0)
    for name, df in sorted(sample.tables.items()):
        h.update(name.encode())
        h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()[:10]


def _cached(name: str, make) -> LoanBook:
    path = data_dir() / name
    if not (path / "loans.parquet").is_file():
        t0 = time.perf_counter()
        write_book(make(), path, format="parquet")
        print(f"[books] wrote {path} in {time.perf_counter() - t0:.1f} s", flush=True)
    return read_book(path, validate=False)


def generated_book(n_loans: int, months: int = 36, seed: int = 0) -> LoanBook:
    """The generator's book of ``n_loans`` (cached on disk from :data:`CACHE_FROM` loans)."""

    def make():
        return make_microloan_book(n_loans=n_loans, months=months, seed=seed, as_of=AS_OF)

    if n_loans < CACHE_FROM:
        return make()
    return _cached(f"microloan-{n_loans}-m{months}-s{seed}", make)


def realistic_book(n_loans: int, months: int = 36, seed: int = 0) -> LoanBook:
    """A book of exactly ``n_loans`` loans shaped like a real extract (see the module)."""
    if n_loans <= BASE_LOANS:
        return generated_book(n_loans, months, seed)
    base = generated_book(BASE_LOANS, months, seed)
    copies = math.ceil(n_loans / BASE_LOANS)
    book = replicate_book(base, copies)
    if n_loans % BASE_LOANS:
        book = book.subset(book.loans["loan_id"].iloc[:n_loans])
    return book


def _extract_path(n_loans: int, months: int, seed: int) -> Path:
    return data_dir() / f"realistic-{n_loans}-m{months}-s{seed}"


def realistic_extract(n_loans: int, months: int = 36, seed: int = 0) -> Path:
    """A Parquet extract (folder) of :func:`realistic_book`, written once and reused."""
    path = _extract_path(n_loans, months, seed)
    if not (path / "loans.parquet").is_file():
        book = realistic_book(n_loans, months, seed)
        t0 = time.perf_counter()
        write_book(book, path, format="parquet")
        print(f"[books] wrote {path} in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


def describe(book: LoanBook) -> str:
    """One line: loans and rows of every table."""
    rows = sum(len(df) for df in book.tables.values())
    sizes = ", ".join(f"{k} {len(v):,}" for k, v in book.tables.items() if k != "loans")
    return f"{book.n_loans:,} loans ({sizes}; {rows:,} rows in all)"


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far (GiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def ensure_extract(n_loans: int, months: int = 36, seed: int = 0) -> Path:
    """:func:`realistic_extract`, built in a separate process when missing, so that the
    calling benchmark's peak memory is only what reading and computing take."""
    import subprocess
    import sys

    path = _extract_path(n_loans, months, seed)
    if not (path / "loans.parquet").is_file():
        cmd = [sys.executable, "-m", "benchmarks.books", str(n_loans), str(months), str(seed)]
        subprocess.run(cmd, check=True)
    return path


def load_extract(n_loans: int, months: int = 36, seed: int = 0) -> tuple[LoanBook, dict]:
    """Read the realistic extract of ``n_loans`` (built first if missing) and hold its ids
    as codes (:meth:`LoanBook.compact`); returns the book and the seconds each step took."""
    path = ensure_extract(n_loans, months, seed)
    t0 = time.perf_counter()
    book = read_book(path, validate=False)
    t1 = time.perf_counter()
    book = book.compact()
    release_arrow_memory()  # the text ids just replaced by codes
    t2 = time.perf_counter()
    return book, {"read": t1 - t0, "compact": t2 - t1}


if __name__ == "__main__":
    import sys

    realistic_extract(*(int(a) for a in sys.argv[1:4]))


def benchmark_book(n_loans: int) -> tuple[LoanBook, dict]:
    """The realistic book of ``n_loans`` with its ids held as codes, and the seconds its
    loading took: read from the cached extract (from :data:`CACHE_FROM` loans), or generated
    in memory (smaller books)."""
    if n_loans >= CACHE_FROM:
        return load_extract(n_loans)
    t0 = time.perf_counter()
    book = realistic_book(n_loans).compact()
    return book, {"generate": time.perf_counter() - t0}


def text_ids(book: LoanBook) -> LoanBook:
    """``book`` with every categorical ``loan_id`` as plain text again (what the plain-pandas
    peers get: they see an extract as a user's own code would)."""
    tables = {
        name: df.astype({"loan_id": "str"})
        if "loan_id" in df.columns and isinstance(df["loan_id"].dtype, pd.CategoricalDtype)
        else df
        for name, df in book.tables.items()
    }
    return LoanBook(**tables, as_of_date=book.as_of_date, validate=False)
