"""Fuzz: extracts (`read_table`, `read_book`) raise only ValidationError (or return), and a
value that parses is exactly the value written."""

from __future__ import annotations

import csv
import functools
import io
import math
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from riskkit.datasets import make_microloan_book
from riskkit.errors import ValidationError
from riskkit.io import read_book, read_table, write_book

from .conftest import fuzz_settings

EDGE_CELLS = [
    "",
    " ",
    "\u00a0",
    "nan",
    "NaN",
    "None",
    "inf",
    "-inf",
    "1e309",
    "-0",
    "0042",
    "１２",
    "1,000.50",
    "1_000",
    "0x10",
    "2026-02-30",
    "2026-05",
    "2026-5-1",
    "20260501",
    "2026-05-01T10:30:00",
    "2026-05-01 10:30",
    "2026-05-01+08:00",
    "9999-12-31",
    "1677-09-21",
    "true",
    "[1, 2]",
    '{"a": 1}',
    "L1",
    "=HYPERLINK(1)",
    "\x00",
]
cells = st.one_of(
    st.sampled_from(EDGE_CELLS),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
    st.dates().map(lambda d: d.isoformat()),
)


def _csv_bytes(rows, encoding="utf-8") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["loan_id", "payment_date", "amount"])
    w.writerows(rows)
    return buf.getvalue().encode(encoding, errors="replace")


def _expected_amount(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


@fuzz_settings(150)
@given(rows=st.lists(st.tuples(cells, cells, cells), max_size=6), gbk=st.booleans())
def test_read_table_raises_only_validation_errors_and_changes_no_value(tmp_path, rows, gbk):
    path = tmp_path / "payments.csv"
    path.write_bytes(_csv_bytes(rows, "gb18030" if gbk else "utf-8"))
    try:
        got = read_table(path, "payments")
    except ValidationError:
        return
    assert len(got) == len(rows)
    for (lid, date, amount), (_, row) in zip(rows, got.iterrows(), strict=True):
        assert (row["loan_id"] if pd.notna(row["loan_id"]) else "") == (lid if lid.strip() else "")
        if date.strip():
            assert row["payment_date"] == pd.Timestamp(date.strip())
        else:
            assert pd.isna(row["payment_date"])
        want = _expected_amount(amount)
        if amount.strip():
            assert want is not None and not math.isnan(want)
            assert row["amount"] == want or (math.isinf(want) and row["amount"] == want)
        else:
            assert pd.isna(row["amount"])


@functools.cache
def _extract() -> dict[str, str]:
    """A small valid extract: file name -> CSV text."""
    book = make_microloan_book(n_loans=12, months=6, seed=3)
    folder = write_book(book, Path(tempfile.mkdtemp()) / "book", format="csv")
    return {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}


@fuzz_settings(30)
@given(data=st.data())
def test_read_book_on_damaged_extracts_raises_only_validation_errors(tmp_path, data):
    folder = tmp_path / "book"
    folder.mkdir(exist_ok=True)
    for p in folder.iterdir():
        p.unlink()
    files = dict(_extract())
    for _ in range(data.draw(st.integers(1, 4))):
        name = data.draw(st.sampled_from(sorted(files)))
        table = list(csv.reader(io.StringIO(files[name])))
        action = data.draw(st.sampled_from(["cell", "drop_file", "drop_column", "truncate"]))
        if action == "drop_file":
            files.pop(name)
            if not files:
                break
            continue
        if action == "cell" and len(table) > 1:
            r = data.draw(st.integers(1, len(table) - 1))
            c = data.draw(st.integers(0, len(table[0]) - 1))
            table[r][c] = data.draw(cells)
        elif action == "drop_column" and table and table[0]:
            c = data.draw(st.integers(0, len(table[0]) - 1))
            table = [row[:c] + row[c + 1 :] for row in table]
        elif action == "truncate":
            table = table[: data.draw(st.integers(0, len(table)))]
        buf = io.StringIO()
        csv.writer(buf).writerows(table)
        files[name] = buf.getvalue()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    try:
        book = read_book(folder)
    except (ValidationError, FileNotFoundError):  # FileNotFoundError: no table file left
        return
    status = book.status(book.loans["disbursement_date"].max() if book.n_loans else "2026-01-31")
    assert len(status) == book.n_loans
