"""Partitioned loan books on disk: co-located hash buckets, a manifest, lazy reading,
validation partition by partition with every problem reported together, atomic writes."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from riskkit.book import LoanBook
from riskkit.datasets import make_microloan_book
from riskkit.errors import ValidationError
from riskkit.io import read_book, write_book
from riskkit.partitioned import (
    MANIFEST,
    PartitionedBook,
    bucket_of,
    read_partitioned,
    write_partitioned,
)


@pytest.fixture(scope="module")
def book():
    return make_microloan_book(n_loans=1500, months=24, seed=5)


@pytest.fixture(scope="module")
def dataset(book, tmp_path_factory):
    return write_book(book, tmp_path_factory.mktemp("p") / "book", "parquet", "borrower_id", 4)


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    df = df.astype({c: "str" for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)})
    keys = [c for c in ("loan_id", "borrower_id", "period", "payment_date", "signal_date",
                        "collateral_id", "valuation_date", "guarantor_id") if c in df.columns]  # fmt: skip
    return df.sort_values(keys, kind="stable", ignore_index=True)


def test_round_trip_and_manifest(book, dataset):
    pb = read_book(dataset)
    assert isinstance(pb, PartitionedBook) and pb.n_partitions == 4 and pb.n_loans == 1500
    m = json.loads((dataset / MANIFEST).read_text())
    assert m["schema_version"] == 1 and m["partition_by"] == "borrower_id"
    for name, df in book.tables.items():
        assert sum(p["tables"][name]["rows"] for p in m["partitions"]) == len(df) == m["rows"][name]
    whole = pb.to_book(validate=True)
    assert whole.as_of_date == book.as_of_date
    for name, df in book.tables.items():
        pd.testing.assert_frame_equal(_sorted(whole.tables[name]), _sorted(df), obj=name)


def test_rows_sit_with_their_loan_and_borrower(book, dataset):
    pb = read_partitioned(dataset)
    seen_loans, seen_borrowers = set(), set()
    for part in pb.partitions():
        loans = set(part.loans["loan_id"])
        for name in ("schedule", "payments", "signals", "guarantors", "collateral"):
            assert set(part.tables[name]["loan_id"].astype(str)) <= loans, name
        assert set(part.loans["borrower_id"]) <= set(part.borrowers["borrower_id"])
        assert not (set(part.borrowers["borrower_id"]) & seen_borrowers)
        seen_loans |= loans
        seen_borrowers |= set(part.borrowers["borrower_id"])
        part.validate()  # every partition is a valid book on its own
    assert seen_loans == set(book.loans["loan_id"])


def test_buckets_are_stable_across_processes():
    ids = ["L0000001", "B0012345", "R07-L0099999"]
    here = bucket_of(pd.Series(ids), 16).tolist()
    code = (
        "import pandas as pd; from riskkit.partitioned import bucket_of; "
        f"print(bucket_of(pd.Series({ids!r}), 16).tolist())"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == str(here)
    assert all(0 <= b < 16 for b in here)


def _broken(book: LoanBook) -> tuple[LoanBook, set, int]:
    t = {k: v.copy() for k, v in book.tables.items()}
    ids = book.loans["loan_id"].to_numpy()
    buckets = bucket_of(book.loans["borrower_id"], 4)
    a, b = ids[np.flatnonzero(buckets == 0)[0]], ids[np.flatnonzero(buckets == 2)[0]]
    bad = t["payments"]["loan_id"].isin([a, b])
    t["payments"].loc[bad, "amount"] = -5.0
    return LoanBook(**t, as_of_date=book.as_of_date, validate=False), {a, b}, int(bad.sum())


def test_validation_reports_every_partition_together(book, tmp_path):
    broken, ids, n_bad = _broken(book)
    path = write_partitioned(broken, tmp_path / "bad", buckets=4)
    with pytest.raises(ValidationError) as ei:
        read_book(path, validate=True)
    probs = [p for p in ei.value.problems if p.rule == "must be positive"]
    assert len(probs) == 1  # merged across the two partitions
    assert probs[0].count == n_bad and set(probs[0].ids) == ids
    # the same with every partition checked in its own Dask task
    from riskkit.engine import Engine

    with pytest.raises(ValidationError) as ei2:
        read_partitioned(path).validate(engine=Engine("dask", scheduler="synchronous"))
    assert [str(p) for p in ei2.value.problems] == [str(p) for p in ei.value.problems]


def test_duplicate_loan_ids_across_partitions(book, tmp_path):
    t = {k: v.copy() for k, v in book.tables.items()}
    # two loans of different borrowers (so different buckets, most likely) share an id
    buckets = bucket_of(book.loans["borrower_id"], 4)
    i, j = np.flatnonzero(buckets == 1)[0], np.flatnonzero(buckets == 3)[0]
    lid = t["loans"].loc[i, "loan_id"]
    for name in ("schedule", "payments", "signals", "guarantors", "collateral"):
        df = t[name]
        df.loc[df["loan_id"] == t["loans"].loc[j, "loan_id"], "loan_id"] = lid
    t["loans"].loc[j, "loan_id"] = lid
    path = write_partitioned(LoanBook(**t, validate=False), tmp_path / "dup", buckets=4)
    with pytest.raises(ValidationError, match=rf"loans.loan_id: duplicate id \[2 row.*{lid}"):
        read_partitioned(path).validate()


def test_missing_partition_file_is_named(dataset, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(dataset, copy)
    (copy / "bucket=00002" / "payments.parquet").unlink()
    with pytest.raises(ValidationError, match=r"payments: file missing: bucket=00002/payments"):
        read_partitioned(copy)


def test_failed_write_leaves_previous_dataset(book, dataset, tmp_path, monkeypatch):
    import shutil

    target = tmp_path / "t"
    shutil.copytree(dataset, target)
    before = (target / MANIFEST).read_text()
    calls = {"n": 0}
    real = pd.DataFrame.to_parquet

    def failing(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 9:
            raise OSError("disk full")
        return real(self, *a, **k)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", failing)
    with pytest.raises(OSError, match="disk full"):
        write_partitioned(book, target, buckets=3)
    assert (target / MANIFEST).read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]  # no temporary folder left


def test_never_replaces_what_riskkit_did_not_write(book, tmp_path):
    target = tmp_path / "lake"
    target.mkdir()
    (target / "contract.pdf").write_text("keep me")
    with pytest.raises(FileExistsError, match=r"riskkit did not write \(contract.pdf\)"):
        write_partitioned(book, target, buckets=2)
    assert (target / "contract.pdf").read_text() == "keep me"


def test_partition_by_loan_keeps_each_partition_valid(book, tmp_path):
    path = write_book(book, tmp_path / "byloan", "parquet", partition_by="loan_id", buckets=3)
    pb = read_partitioned(path).validate()
    assert pb.partition_by == "loan_id"
    assert pb.to_book(validate=True).borrowers["borrower_id"].is_unique
    with pytest.raises(ValueError, match="partition_by must be one of"):
        write_partitioned(book, tmp_path / "x", partition_by="branch")
    with pytest.raises(ValueError, match="needs format='parquet'"):
        write_book(book, tmp_path / "y", "csv", partition_by="loan_id")


def test_joint_guarantee_groups_share_a_partition(book, dataset):
    # households of a group (seed 002: three households guarantee each other) hash to
    # different buckets on their own; they are written to the bucket of the group's smallest
    # borrower id, so group exposure and guarantor liability run partition by partition
    from riskkit.partitioned import household_keys

    pb = read_partitioned(dataset)
    where = pd.concat(
        [
            p.loans[["loan_id", "borrower_id"]].assign(bucket=i)
            for i, p in enumerate(pb.partitions())
        ]
    ).astype({"loan_id": str, "borrower_id": str})
    g = book.guarantors.dropna(subset=["group_id"]).astype({"loan_id": str, "group_id": str})
    g = g.merge(where, on="loan_id")
    assert g["group_id"].nunique() > 20
    own = bucket_of(g.drop_duplicates("borrower_id")["borrower_id"], 4)
    per_group = g.groupby("group_id")["bucket"].nunique()
    assert (per_group == 1).all()  # every group in one partition ...
    assert g.groupby("group_id")["borrower_id"].nunique().min() >= 2 and len(set(own)) > 1
    assert (where.groupby("borrower_id")["bucket"].nunique() == 1).all()  # ... and borrowers
    keys = household_keys(book)[1]
    first = g.groupby("group_id")["borrower_id"].min()
    assert (
        keys.reindex(g["borrower_id"]).to_numpy() == first.reindex(g["group_id"]).to_numpy()
    ).all()
