"""Loan-book extracts: CSV / Parquet / Excel round trips and bad-input errors."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskkit.datasets import make_microloan_book
from riskkit.errors import ValidationError
from riskkit.io import read_book, read_table, write_book


@pytest.fixture(scope="module")
def book():
    return make_microloan_book(n_loans=400, months=18, seed=5)


@pytest.fixture(scope="module")
def small():
    return make_microloan_book(n_loans=60, months=12, seed=6)


def _assert_same(a, b):
    assert b.as_of_date == a.as_of_date
    for name, df in a.tables.items():
        pd.testing.assert_frame_equal(df, b.tables[name], obj=name)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip_folder(book, tmp_path, fmt):
    out = write_book(book, tmp_path / "extract", format=fmt)
    assert (out / f"loans.{fmt}").is_file()
    _assert_same(book, read_book(out))
    _assert_same(book, read_book(out, format=fmt))


def test_round_trip_excel(small, tmp_path):
    wb = write_book(small, tmp_path / "book.xlsx", format="excel")
    assert wb.is_file()
    _assert_same(small, read_book(wb))
    folder = write_book(small, tmp_path / "xl", format="excel")
    _assert_same(small, read_book(folder))
    sheets = pd.ExcelFile(wb).sheet_names
    assert sheets[:3] == ["loans", "borrowers", "guarantors"] and "riskkit_meta" in sheets


def test_hand_written_csv_parses_by_schema(tmp_path):
    d = tmp_path / "ext"
    d.mkdir()
    (d / "loans.csv").write_text(
        "loan_id,borrower_id,product,amount,disbursement_date,term_months,annual_rate,"
        "repayment_method,guarantee_type,purpose,officer_id,branch\n"
        "00123,B1,business,100000,2026-01-15,12,0.12,annuity,credit,stock,O1,城关\n",
        encoding="utf-8",
    )
    (d / "schedule.csv").write_text(
        "loan_id,period,due_date,principal_due,interest_due\n"
        "00123,1,2026-02-15,50000,1000\n00123,2,2026-03-15,50000,500\n"
    )
    (d / "payments.csv").write_text("loan_id,payment_date,amount\n00123,2026-02-14,51000\n")
    b = read_book(d)
    assert b.loans.loc[0, "loan_id"] == "00123"  # ids stay text: leading zeros kept
    assert b.loans["amount"].dtype == "float64" and b.loans["term_months"].dtype == "int64"
    assert b.schedule["due_date"].iloc[1] == pd.Timestamp("2026-03-15")
    assert b.as_of_date is None
    st = b.status("2026-03-20")
    assert st.loc["00123", "missed_periods"] == 1 and st.loc["00123", "arrears"] == 50500.0
    assert read_table(d / "payments.csv", "payments")["amount"].iloc[0] == 51000.0


def test_unparseable_date_names_table_column_loan_and_rule(book, tmp_path):
    out = write_book(book, tmp_path / "bad", format="csv")
    pay = pd.read_csv(out / "payments.csv", dtype=str)
    lid = pay.loc[3, "loan_id"]
    pay.loc[3, "payment_date"] = "2026-02-30"
    pay.loc[5, "amount"] = "1,000.00"
    pay.to_csv(out / "payments.csv", index=False)
    with pytest.raises(ValidationError) as ei:
        read_book(out)
    msg = str(ei.value)
    assert "payments.payment_date: not a date" in msg
    assert "in payments.csv" in msg and "2026-02-30" in msg and lid in msg
    assert "payments.amount: not a number" in msg and "1,000.00" in msg
    probs = ei.value.to_frame()
    assert set(probs["table"]) == {"payments"}
    assert set(probs["column"]) == {"payment_date", "amount"}
    assert probs.loc[probs["column"] == "payment_date", "ids"].iloc[0] == [lid]


def test_bad_values_in_excel_and_parquet(small, tmp_path):
    wb = write_book(small, tmp_path / "b.xlsx", format="excel")
    sheets = pd.read_excel(wb, sheet_name=None, dtype=object)
    lid = sheets["schedule"].loc[0, "loan_id"]
    sheets["schedule"].loc[0, "due_date"] = "soon"
    sheets["loans"].loc[1, "term_months"] = 12.5
    with pd.ExcelWriter(wb) as xw:
        for k, v in sheets.items():
            v.to_excel(xw, sheet_name=k, index=False)
    with pytest.raises(ValidationError) as ei:
        read_book(wb)
    msg = str(ei.value)
    assert "schedule.due_date: not a date (expected ISO YYYY-MM-DD) in b.xlsx[schedule]" in msg
    assert lid in msg and "'soon'" in msg
    assert "loans.term_months: not a whole number" in msg
    assert small.loans.loc[1, "loan_id"] in msg

    pq = write_book(small, tmp_path / "pq", format="parquet")
    loans = pd.read_parquet(pq / "loans.parquet")
    loans["amount"] = loans["amount"].astype(str)
    loans.loc[2, "amount"] = "n/a"
    loans.to_parquet(pq / "loans.parquet")
    with pytest.raises(ValidationError, match=r"loans\.amount: not a number in loans\.parquet"):
        read_book(pq)


def test_missing_tables_and_columns_are_reported(book, tmp_path):
    out = write_book(book, tmp_path / "m", format="csv")
    (out / "schedule.csv").unlink()
    loans = pd.read_csv(out / "loans.csv", dtype=str).drop(columns=["annual_rate"])
    loans.to_csv(out / "loans.csv", index=False)
    with pytest.raises(ValidationError) as ei:
        read_book(out)
    msg = str(ei.value)
    assert "required table missing: no file 'schedule.csv'" in msg
    assert "loans.annual_rate: required column is missing in loans.csv" in msg
    with pytest.raises(FileNotFoundError):
        read_book(tmp_path / "nowhere")


def test_validation_after_parsing_still_applies(book, tmp_path):
    out = write_book(book, tmp_path / "v", format="csv")
    pay = pd.read_csv(out / "payments.csv", dtype=str)
    pay.loc[0, "loan_id"] = "L9999999"
    pay.to_csv(out / "payments.csv", index=False)
    with pytest.raises(ValidationError, match=r"payments\.loan_id: unknown loan .*L9999999"):
        read_book(out)


def test_write_is_atomic(book, small, tmp_path, monkeypatch):
    target = write_book(book, tmp_path / "atomic", format="csv")
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    import riskkit.io as rio

    calls = {"n": 0}
    real = rio._for_csv

    def failing(df):
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError("disk full")
        return real(df)

    monkeypatch.setattr(rio, "_for_csv", failing)
    with pytest.raises(OSError, match="disk full"):
        write_book(small, target, format="csv")
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["atomic"]  # no temp leftovers
    monkeypatch.undo()
    write_book(small, target, format="csv")  # a successful write replaces it whole
    assert read_book(target).n_loans == small.n_loans
    assert [p.name for p in tmp_path.iterdir()] == ["atomic"]


def test_format_argument_checked(book, tmp_path):
    with pytest.raises(ValueError, match="format must be one of"):
        write_book(book, tmp_path / "x", format="json")


def test_duplicate_csv_column_is_an_error(book, tmp_path):
    out = write_book(book, tmp_path / "dup", format="csv")
    text = (out / "payments.csv").read_text().splitlines()
    text = [text[0] + ",amount"] + [line + ",1" for line in text[1:]]
    (out / "payments.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(ValidationError, match=r"payments\.amount: column appears more than once"):
        read_book(out)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 120),
    months=st.integers(1, 20),
    seed=st.integers(0, 2**31),
    fmt=st.sampled_from(["csv", "parquet"]),
)
def test_any_generated_book_round_trips(tmp_path_factory, n, months, seed, fmt):
    b = make_microloan_book(n_loans=n, months=months, seed=seed)
    out = write_book(b, tmp_path_factory.mktemp("rt") / "x", format=fmt)
    _assert_same(b, read_book(out))


# --- issue 15 (8): extracts parse by explicit rules ----------------------------------------


def _hand_extract(folder, payments="L1,2026-02-14,51000\n", periods=(1, 2)):
    folder.mkdir()
    (folder / "loans.csv").write_text(
        "loan_id,borrower_id,product,amount,disbursement_date,term_months,annual_rate,"
        "repayment_method,guarantee_type,purpose,officer_id,branch\n"
        "L1,B1,business,100000,2026-01-15,2,0.12,annuity,credit,stock,O1,城关支行\n",
        encoding="utf-8",
    )
    (folder / "schedule.csv").write_text(
        "loan_id,period,due_date,principal_due,interest_due\n"
        f"L1,{periods[0]},2026-02-15,50000,1000\nL1,{periods[1]},2026-03-15,50000,500\n"
    )
    (folder / "payments.csv").write_text("loan_id,payment_date,amount\n" + payments)
    return folder


def test_partial_date_is_an_error_not_the_first_of_the_month(tmp_path):
    d = _hand_extract(tmp_path / "e", payments="L1,2026-05,51000\nL1,2026-02-14,10\n")
    with pytest.raises(ValidationError) as ei:
        read_book(d)
    msg = str(ei.value)
    assert "payments.payment_date: not a date (expected ISO YYYY-MM-DD) in payments.csv" in msg
    assert "['2026-05']" in msg and "loan id L1" in msg
    for partial in ("2026", "2026-5-1", "20260501", "2026-05-01+08:00"):
        p = tmp_path / f"p{partial.replace(':', '')}.csv"
        p.write_text(f"loan_id,payment_date,amount\nL1,{partial},1\n")
        with pytest.raises(ValidationError, match="not a date"):
            read_table(p, "payments")
    ok = tmp_path / "ok.csv"
    ok.write_text("loan_id,payment_date,amount\nL1,2026-05-01,1\nL1,2026-05-01T10:30:00,2\n")
    got = read_table(ok, "payments")["payment_date"].tolist()
    assert got == [pd.Timestamp("2026-05-01"), pd.Timestamp("2026-05-01 10:30")]


def test_schedule_periods_in_an_extract_must_start_at_1(tmp_path):
    d = _hand_extract(tmp_path / "e", periods=(2, 3))
    with pytest.raises(ValidationError, match=r"schedule\.period: must start at 1 .*loan id L1"):
        read_book(d)


def _edit_sheet(wb_path, sheet, column, values):
    """Write ``values`` (typed Python values) into ``column`` of ``sheet`` from row 2."""
    from openpyxl import load_workbook

    wb = load_workbook(wb_path)
    ws = wb[sheet]
    col = [c.column_letter for c in ws[1] if c.value == column][0]
    for i, v in enumerate(values, start=2):
        ws[f"{col}{i}"].value = v
    wb.save(wb_path)
    return col


def test_excel_ids_and_phones_typed_as_numbers(small, tmp_path):
    wb = write_book(small, tmp_path / "b.xlsx", format="excel")
    phones = [int(p) for p in small.borrowers["phone"].head(3)]
    _edit_sheet(wb, "borrowers", "phone", phones)  # 11 digits: exact as a number
    back = read_book(wb)
    assert back.borrowers["phone"].head(3).tolist() == [str(p) for p in phones]
    assert back.borrowers["phone"].dtype == small.borrowers["phone"].dtype  # text
    # an 18-digit ID typed as a number: Excel has already changed its last digits
    col = _edit_sheet(wb, "borrowers", "id_number", [110101199003071234, 110101199003071235])
    with pytest.raises(ValidationError) as ei:
        read_book(wb)
    msg = str(ei.value)
    assert "borrowers.id_number: number with more than 15 digits in a text column" in msg
    assert f"in b.xlsx[borrowers] (cell {col}2, {col}3)" in msg
    assert "format the column as Text" in msg


def test_a_file_that_is_not_a_workbook_names_the_file_and_the_fix(small, tmp_path):
    fake = tmp_path / "book.xlsx"
    fake.write_text("loan_id,amount\nL1,100\n")
    with pytest.raises(ValidationError) as ei:
        read_book(fake)
    msg = str(ei.value)
    assert "cannot read book.xlsx: not an Excel workbook (is it CSV or text renamed" in msg
    assert "save it from Excel as .xlsx" in msg
    old = tmp_path / "old.xlsx"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    with pytest.raises(ValidationError, match=r"old Excel 97-2003 \(\.xls\) file"):
        read_book(old)


def test_gbk_csv_is_detected_and_named_with_the_fix(tmp_path):
    d = _hand_extract(tmp_path / "e")
    text = (d / "loans.csv").read_text(encoding="utf-8")
    (d / "loans.csv").write_bytes(text.encode("gb18030"))
    with pytest.raises(ValidationError) as ei:
        read_book(d)
    msg = str(ei.value)
    assert "loans.csv is not utf-8 text; it decodes as GB18030 (GBK)" in msg
    assert "encoding='gb18030'" in msg and "CSV UTF-8" in msg
    book = read_book(d, encoding="gb18030")
    assert book.loans["branch"].tolist() == ["城关支行"]


# --- issue 15 (9): nothing riskkit did not write is deleted ---------------------------------


def test_write_book_refuses_a_folder_with_other_files(small, tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "contract.pdf").write_bytes(b"%PDF-1.4 signed contract")
    with pytest.raises(
        FileExistsError, match=r"holds files riskkit did not write \(contract\.pdf\)"
    ):
        write_book(small, target)
    assert (target / "contract.pdf").read_bytes() == b"%PDF-1.4 signed contract"
    assert sorted(p.name for p in target.iterdir()) == ["contract.pdf"]
    # an extract made by hand (riskkit's file names, but no riskkit_meta) is not replaced
    hand = _hand_extract(tmp_path / "hand")
    with pytest.raises(FileExistsError, match="without a riskkit_meta table"):
        write_book(small, hand)
    assert (hand / "loans.csv").read_text(encoding="utf-8").count("城关支行") == 1
    # a workbook riskkit did not write is not overwritten either
    other = tmp_path / "budget.xlsx"
    pd.DataFrame({"x": [1]}).to_excel(other, index=False)
    with pytest.raises(FileExistsError, match="not a workbook riskkit wrote"):
        write_book(small, other, format="excel")
    assert pd.read_excel(other)["x"].tolist() == [1]


def test_write_book_replaces_its_own_extract_and_fills_an_empty_folder(small, book, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    write_book(small, empty, format="parquet")
    write_book(book, empty, format="csv")  # riskkit's own extract (another format) is replaced
    assert read_book(empty).n_loans == book.n_loans
    assert not (empty / "loans.parquet").exists()
    (empty / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"notes\.txt"):
        write_book(small, empty)
    assert read_book(empty).n_loans == book.n_loans
    wb = write_book(small, tmp_path / "b.xlsx", format="excel")
    write_book(small, wb, format="excel")  # its own workbook: replaced
