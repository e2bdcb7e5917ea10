"""One switch for where the month-end runs: ``engine="pandas"`` (the whole book in one
process) or ``engine="dask"`` (the book's partitions as tasks on a Dask cluster).

With ``"dask"`` the book is a partitioned dataset (:mod:`riskkit.partitioned`; an in-memory
:class:`~riskkit.book.LoanBook` is split into hash buckets by borrower first). Every loan-local
step (delinquency, classification with borrower consistency, signals, the inspection plan,
provisions per loan) runs unchanged on each partition in a ``dask.delayed`` task; book-level
results (category totals, provisions by branch/product/officer, migration counts, compliance
per officer) are combined with tree reductions. No data moves between partitions (no
shuffle): a partition holds every row of its borrowers' loans.

The cluster is a :class:`distributed.LocalCluster` on this machine (``n_workers`` processes of
``threads_per_worker`` threads, ``memory_limit`` each) unless ``scheduler`` names a running
scheduler (``"tcp://host:8786"``); workers must then reach the dataset's path (a shared or
object-store file system) and have riskkit installed.

Examples
--------
>>> eng = open_engine("pandas")
>>> eng.compute(eng.reduce(eng.map(len, [[1, 2], [3]]), lambda a, b: a + b))
3
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

ENGINES = ("pandas", "dask")
#: Memory limit of each local Dask worker unless told otherwise.
DEFAULT_WORKER_MEMORY = "4GiB"


@dataclass
class Engine:
    """Runs functions over a book's partitions and combines their results.

    Parameters
    ----------
    name : {"pandas", "dask"}
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); default a LocalCluster.
        ``"synchronous"`` runs the tasks one after the other in this process (Dask's
        single-threaded scheduler: the same partitions and reductions, no cluster; for
        tests and debugging).
    n_workers : int, optional
        Local workers (default: the machine's cores, at most 4).
    threads_per_worker : int, default 1
    memory_limit : str, default "4GiB"
        Per local worker; a worker past it is paused, then restarted by Dask.
    buckets : int, optional
        Partitions an in-memory book is split into (default: twice the workers).
    """

    name: str = "pandas"
    scheduler: str | None = None
    n_workers: int | None = None
    threads_per_worker: int = 1
    memory_limit: str = DEFAULT_WORKER_MEMORY
    buckets: int | None = None
    _client: Any = field(default=None, repr=False)
    _cluster: Any = field(default=None, repr=False)

    def __post_init__(self):
        if self.name not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {self.name!r}")
        if self.name == "pandas" and self.scheduler:
            raise ValueError("a scheduler address needs engine='dask'")

    @property
    def is_dask(self) -> bool:
        return self.name == "dask"

    # --- the cluster ------------------------------------------------------------------------
    @property
    def client(self):
        """The ``distributed.Client`` (started on first use)."""
        if not self.is_dask or self.scheduler == "synchronous":
            return None
        if self._client is None:
            self._client = _start_client(self)
        return self._client

    def close(self) -> None:
        """Close the client, and the local cluster this engine started."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- lazy values ----------------------------------------------------------------------
    def share(self, obj):
        """``obj`` once for every task (a single graph key with Dask)."""
        if not self.is_dask:
            return obj
        import dask

        return dask.delayed(obj, pure=True, traverse=False)

    def map(self, fn: Callable, *per_part: Sequence, **const) -> list:
        """``fn(a_i, b_i, ..., **const)`` for every partition ``i`` (lazy with Dask)."""
        if not self.is_dask:
            return [fn(*args, **const) for args in zip(*per_part, strict=True)]
        import dask

        task = dask.delayed(fn, pure=False)
        return [task(*args, **const) for args in zip(*per_part, strict=True)]

    def apply(self, fn: Callable, *args, **kwargs):
        """``fn(*args, **kwargs)`` on lazy values (one task with Dask)."""
        if not self.is_dask:
            return fn(*args, **kwargs)
        import dask

        return dask.delayed(fn, pure=False)(*args, **kwargs)

    def reduce(self, values: list, combine: Callable):
        """Tree reduction: ``combine(a, b)`` pairwise, level by level (log2(n) levels)."""
        if not values:
            raise ValueError("nothing to reduce")
        level = list(values)
        while len(level) > 1:
            nxt = [self.apply(combine, a, b) for a, b in zip(level[::2], level[1::2], strict=False)]
            if len(level) % 2:
                nxt.append(level[-1])
            level = nxt
        return level[0]

    def compute(self, *values):
        """Concrete results of lazy values (runs the graph on the cluster)."""
        if not self.is_dask:
            return values[0] if len(values) == 1 else values
        import dask

        if self.scheduler == "synchronous":
            out = dask.compute(*values, scheduler="synchronous")
        else:
            self.client  # noqa: B018  (the distributed client becomes dask's scheduler)
            out = dask.compute(*values)
        return out[0] if len(values) == 1 else out

    def worker_peak_memory(self) -> dict[str, float]:
        """Peak resident memory (GiB) of every worker process so far."""
        if self.client is None:
            return {}
        return self.client.run(_peak_rss_gib)

    def __repr__(self) -> str:
        where = self.scheduler or ("LocalCluster" if self.is_dask else "this process")
        return f"Engine({self.name!r}, {where})"


def _peak_rss_gib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _start_client(eng: Engine):
    try:
        from distributed import Client, LocalCluster
    except ImportError as e:  # pragma: no cover - the extra is installed by make test
        raise ImportError("engine='dask' needs Dask: pip install 'riskkit[dask]'") from e
    if eng.scheduler:
        return Client(eng.scheduler)
    n = eng.n_workers or min(os.cpu_count() or 1, 4)
    eng._cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=eng.threads_per_worker,
        memory_limit=eng.memory_limit,
        processes=True,
        dashboard_address=":0",
    )
    return Client(eng._cluster)


def open_engine(engine: str | Engine = "pandas", scheduler: str | None = None, **kwargs) -> Engine:
    """An :class:`Engine` from a name (or the engine itself)."""
    if isinstance(engine, Engine):
        return engine
    return Engine(engine, scheduler=scheduler, **kwargs)


# --- the book as partitions -----------------------------------------------------------------
def partitions(book, eng: Engine, buckets: int | None = None) -> list:
    """What each task loads: the :class:`~riskkit.partitioned.Partition` s of a partitioned
    book, or (an in-memory book on Dask) the book split into ``buckets`` hash buckets by
    borrower; the pandas engine gets the whole book as one partition."""
    from .partitioned import PartitionedBook

    if not eng.is_dask:
        return [book.to_book() if isinstance(book, PartitionedBook) else book]
    if isinstance(book, PartitionedBook):
        return [book.partition_info(i) for i in range(book.n_partitions)]
    parts = split_book(book, buckets or eng.buckets or 2 * max(eng.n_workers or 2, 1))
    # in-memory partitions go to the workers once, not inside the task graph
    return eng.client.scatter(parts) if eng.client is not None else parts


def load(part):
    """A partition as a LoanBook (read from disk, ids as codes) or the book itself."""
    from .partitioned import Partition

    return part.read() if isinstance(part, Partition) else part


def split_book(book, buckets: int, partition_by: str = "borrower_id") -> list:
    """``book`` as ``buckets`` in-memory partitions (the buckets a partitioned dataset of the
    same key would hold)."""
    from .partitioned import bucket_of, household_keys

    key = household_keys(book)[0] if partition_by == "borrower_id" else book.loans[partition_by]
    b = bucket_of(key, buckets)
    return [book.subset(book.loans["loan_id"].to_numpy()[b == k]) for k in range(buckets)]


# --- store tables for tasks -----------------------------------------------------------------
class TablesSnapshot:
    """The small store tables a month-end task reads (overrides, manual signals, the
    inspection ledger, the write-off register, the customer register and its reviews), read
    once and shipped to the tasks: it answers ``has_table`` and ``read`` like a
    :class:`~riskkit.store.Store` (a task on a cluster cannot share the client's database
    connection)."""

    TABLES = (
        "classification_overrides",
        "risk_signals_manual",
        "inspection_ledger",
        "write_off_register",
        "customer_register",
        "customer_reviews",
    )

    def __init__(self, tables: dict[str, pd.DataFrame]):
        self.tables = tables

    @classmethod
    def of(cls, store) -> TablesSnapshot | None:
        if store is None:
            return None
        return cls({t: store.read(t) for t in cls.TABLES if store.has_table(t)})

    def has_table(self, table: str) -> bool:
        return table in self.tables

    def read(
        self, table: str, where=None, order_by=None, allowed=None, where_in=None
    ) -> pd.DataFrame:
        from .book.keys import isin_values

        if table not in self.tables:
            raise KeyError(f"no table {table!r} in {self!r}")
        df = self.tables[table]
        for col, value in (where or {}).items():
            df = df[(df[col] == value).to_numpy(dtype=bool)]
        for col, values in (where_in or {}).items():
            df = df[isin_values(df[col], list(values))]
        if order_by:
            df = df.sort_values(order_by, kind="stable")
        return df.reset_index(drop=True)

    def restricted(self, loan_ids) -> TablesSnapshot:
        """Only the rows of ``loan_ids`` (a partition's loans; tables by customer whole)."""
        from .book.keys import isin_values

        return TablesSnapshot(
            {
                t: df[isin_values(df["loan_id"], loan_ids)] if "loan_id" in df.columns else df
                for t, df in self.tables.items()
            }
        )

    def __repr__(self) -> str:
        sizes = ", ".join(f"{t}={len(df):,}" for t, df in self.tables.items())
        return f"TablesSnapshot({sizes})"
