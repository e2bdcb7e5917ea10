"""A synthetic book of millions of loans, generated piece by piece straight into a partitioned
dataset (no piece, and never the whole book, in one process's memory).

Piece *k* is :func:`~riskkit.datasets.make_microloan_book` with its own seed and every id
prefixed ``G<k>-`` (distinct across pieces); its rows go into the hash bucket of their
borrower, as files ``bucket=<b>/<table>-<k>.parquet``. The pieces are tasks: with
``engine="dask"`` they run on the workers, each writing its own files; the manifest is written
last, and the folder is put in place only when every piece is written.

Examples
--------
>>> import tempfile, pathlib
>>> from riskkit.partitioned import read_partitioned
>>> path = pathlib.Path(tempfile.mkdtemp()) / "big"
>>> _ = make_partitioned_book(path, n_loans=600, buckets=3, piece_loans=250, months=12)
>>> pb = read_partitioned(path)
>>> pb.n_loans, pb.n_partitions, len(pb.partition_info(0).tables["schedule"]["files"])
(600, 3, 3)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _piece(k: int, n: int, folder: str, buckets: int, months: int, seed: int, as_of) -> dict:
    """Generate piece ``k`` (``n`` loans) and write it into the bucket folders."""
    from ..partitioned import write_buckets
    from .microloan import make_microloan_book
    from .replicate import relabel_book

    piece_seed = int(np.random.SeedSequence([seed, k]).generate_state(1)[0])
    book = make_microloan_book(n_loans=n, months=months, seed=piece_seed, as_of=as_of)
    book = relabel_book(book, f"G{k:04d}-")
    return write_buckets(book, Path(folder), buckets, "borrower_id", piece=k)


def make_partitioned_book(
    path,
    n_loans: int,
    buckets: int = 16,
    piece_loans: int = 250_000,
    months: int = 36,
    seed: int = 0,
    as_of="2026-10-31",
    engine="pandas",
) -> Path:
    """Generate a book of ``n_loans`` loans as a partitioned dataset at ``path``.

    Parameters
    ----------
    path : str or Path
        Target folder (new, empty, or a partitioned book riskkit wrote).
    n_loans : int
    buckets : int, default 16
        Hash buckets (partitions) by borrower.
    piece_loans : int, default 250,000
        Loans generated per task (about 1.5 GB of memory each).
    months, seed, as_of :
        As for :func:`~riskkit.datasets.make_microloan_book` (piece *k* uses a seed drawn
        from ``SeedSequence([seed, k])``).
    engine : {"pandas", "dask"} or riskkit.engine.Engine

    Returns
    -------
    Path
    """
    from ..engine import open_engine
    from ..partitioned import column_kinds, dataset_writer, write_manifest
    from .microloan import make_microloan_book

    if int(n_loans) < 1 or int(piece_loans) < 1:
        raise ValueError("n_loans and piece_loans must be at least 1")
    sizes = [piece_loans] * (int(n_loans) // piece_loans)
    if int(n_loans) % piece_loans:
        sizes.append(int(n_loans) % piece_loans)
    path = Path(path)
    eng = open_engine(engine)
    with dataset_writer(path) as tmp:
        tasks = eng.map(
            _piece, list(range(len(sizes))), sizes, folder=str(tmp), buckets=int(buckets),
            months=months, seed=seed, as_of=as_of,
        )  # fmt: skip
        pieces = eng.compute(*tasks) if len(tasks) > 1 else [eng.compute(tasks[0])]
        kinds = column_kinds(make_microloan_book(n_loans=30, months=months, seed=0, as_of=as_of))
        write_manifest(tmp, pd.Timestamp(as_of), kinds, "borrower_id", int(buckets), pieces)
    if eng is not engine:
        eng.close()
    return path
