import pandas as pd
import pytest
import sqlalchemy as sa

from riskkit.store import Store
from tests.conftest import hand_book


@pytest.fixture(params=["parquet", "database"])
def store(db_url, request, tmp_path):
    """A store on a new empty database, SQLite and PostgreSQL in turn, with the book kept as
    Parquet beside the database (by default next to an SQLite file, in a given folder for a
    server) and in database tables."""
    if request.param == "database":
        return Store(db_url, book_storage="database")
    folder = None if db_url.startswith("sqlite") else tmp_path / "server.book"
    return Store(db_url, book_path=folder, book_storage="parquet")


def test_book_round_trip(store):
    book = hand_book([("2026-02-15", 1000), ("2026-03-20", 500)])
    book.as_of_date = pd.Timestamp("2026-04-30")
    store.save_book(book)
    back = store.load_book()
    for name, df in book.tables.items():
        got = back.tables[name]
        assert list(got.columns) == list(df.columns), name
        assert len(got) == len(df), name
    pd.testing.assert_frame_equal(
        back.schedule, book.schedule, check_dtype=False, check_index_type=False
    )
    assert back.schedule.due_date.dtype.kind == "M"
    assert back.as_of_date == pd.Timestamp("2026-04-30")
    pd.testing.assert_frame_equal(back.status("2026-04-30"), book.status("2026-04-30"))


def disk_full_at_payments(monkeypatch):
    """Make the store fail while writing the payments table (in the database or as Parquet
    beside it); undo with the returned call."""
    original, parquet = Store._write, pd.DataFrame.to_parquet

    def failing(self, conn, table, df):
        if table == "book_payments":
            raise RuntimeError("disk full")
        return original(self, conn, table, df)

    def failing_parquet(self, path, *a, **k):
        if str(path).endswith("payments.parquet"):
            raise RuntimeError("disk full")
        return parquet(self, path, *a, **k)

    monkeypatch.setattr(Store, "_write", failing)
    monkeypatch.setattr(pd.DataFrame, "to_parquet", failing_parquet)

    def undo():
        monkeypatch.setattr(Store, "_write", original)
        monkeypatch.setattr(pd.DataFrame, "to_parquet", parquet)

    return undo


def test_failed_write_leaves_previous_state(store, monkeypatch):
    store.save_book(hand_book([("2026-02-15", 1000)]))
    second = hand_book([("2026-02-15", 1000), ("2026-03-15", 1000)])
    restore = disk_full_at_payments(monkeypatch)
    with pytest.raises(RuntimeError, match="disk full"):
        store.save_book(second)
    restore()
    back = store.load_book()
    assert len(back.payments) == 1  # the first book, whole
    assert len(back.loans) == 1 and len(back.schedule) == 3


def test_failed_first_write_leaves_no_tables(store, monkeypatch):
    disk_full_at_payments(monkeypatch)
    with pytest.raises(RuntimeError, match="disk full"):
        store.save_book(hand_book([("2026-02-15", 1000)]))
    assert not store.has_book()
    assert sa.inspect(store.engine).get_table_names() == []
    if store.book_path is not None:  # no half-written book folder either
        assert not store.book_path.exists() or not any(store.book_path.iterdir())


def test_a_book_file_changed_behind_the_stores_back_is_a_validation_error(tmp_path):
    from riskkit.errors import ValidationError

    store = _sqlite_store(tmp_path)
    store.save_book(hand_book([("2026-02-15", 1000)]))
    part = next(store.book_path.glob("v*/bucket=*"))
    p = pd.read_parquet(part / "payments.parquet")
    p.assign(payment_date=["yesterday"]).to_parquet(part / "payments.parquet", index=False)
    with pytest.raises(ValidationError, match=r"payments.payment_date: not a date.*yesterday"):
        store.load_book()


def test_book_kept_as_parquet_beside_an_sqlite_file(tmp_path):
    """A file database keeps the book as Parquet in ``<db>.book/``; the database holds the
    catalog row naming the current version; the previous version is kept for readers still
    reading it, older ones are removed."""
    store = Store(f"sqlite:///{tmp_path / 'risk.db'}")
    assert store.book_path == tmp_path / "risk.book"
    books = [hand_book([("2026-02-15", 1000)] * k) for k in (1, 2, 3)]
    for b in books:
        store.save_book(b)
    assert len(store.load_book().payments) == 3
    assert sa.inspect(store.engine).get_table_names() == ["book_catalog"]
    assert len(list(store.book_path.iterdir())) == 2
    back = store.load_book(compact=True)
    assert str(back.payments["loan_id"].dtype) == "category"
    assert Store(f"sqlite:///{tmp_path / 'risk.db'}", book_storage="database").book_path is None
    with pytest.raises(ValueError, match="needs a folder"):
        Store("sqlite://", book_storage="parquet")


def test_replace_where_is_idempotent_and_atomic(store):
    df = pd.DataFrame(
        {"as_of": pd.to_datetime(["2026-01-31"] * 2), "loan_id": ["A", "B"], "category": [0, 2]}
    )
    store.replace_where("results", df, {"as_of": pd.Timestamp("2026-01-31")})
    store.replace_where("results", df, {"as_of": pd.Timestamp("2026-01-31")})
    got = store.read("results")
    assert len(got) == 2 and got.as_of.dtype.kind == "M"
    bad = df.assign(category=["x", None])
    # SQLite stores the text, PostgreSQL refuses it at once; either way nothing is kept
    failed = (sa.exc.SQLAlchemyError, pd.errors.DatabaseError)
    with pytest.raises(failed), store.transaction() as conn:
        store.replace_where("results", bad, {"as_of": pd.Timestamp("2026-01-31")}, conn=conn)
        conn.execute(sa.text("SELECT * FROM no_such_table"))
    assert store.read("results").category.tolist() == [0, 2]


def test_missing_book_is_a_clear_error(store):
    with pytest.raises(KeyError, match="no loan book stored"):
        store.load_book()
    with pytest.raises(KeyError, match="no table 'nothing'"):
        store.read("nothing")


def test_appending_a_subset_of_columns_keeps_the_other_kinds(store):
    full = pd.DataFrame({"d": pd.to_datetime(["2026-01-31"]), "x": [1.5], "k": ["a"]})
    store.append("t", full)
    store.append("t", pd.DataFrame({"x": [2.5], "k": ["b"]}))
    got = store.read("t")
    assert got["d"].dtype.kind == "M" and got["x"].tolist() == [1.5, 2.5]


def test_append_numbered_continues_ids_and_refuses_duplicates(store):
    rows = pd.DataFrame({"loan_id": ["L1", "L2"], "note": ["a", "b"]})
    with store.transaction() as c:
        first = store.append_numbered("audit", rows, "entry_id", c)
    with store.transaction() as c:
        second = store.append_numbered("audit", rows.iloc[:1], "entry_id", c)
    assert first["entry_id"].tolist() == [1, 2] and second["entry_id"].tolist() == [3]
    assert list(first.columns) == ["entry_id", "loan_id", "note"]
    # a writer that took a number already used (as a concurrent one could) fails and rolls back
    with pytest.raises(sa.exc.IntegrityError), store.transaction() as c:
        c.execute(sa.text("INSERT INTO audit (entry_id, loan_id, note) VALUES (2, 'L9', 'x')"))
    assert store.read("audit", order_by="entry_id")["entry_id"].tolist() == [1, 2, 3]


def test_book_reads_back_in_saved_order_with_every_value(store):
    from riskkit.datasets import make_microloan_book

    book = make_microloan_book(300, months=18, seed=3)
    # rows in no sorted order, as an extract may deliver them
    tables = {n: df.sample(frac=1.0, random_state=1) for n, df in book.tables.items()}
    shuffled = type(book)(as_of_date=book.as_of_date, **tables)
    store.save_book(shuffled)
    if store.engine.dialect.name == "postgresql" and store.book_path is None:
        # an update writes new row versions at the end of the heap: a plain SELECT then
        # returns those rows last (as a large table's parallel scan returns rows in any order)
        with store.transaction() as c:
            for t, col in (("book_loans", "amount"), ("book_payments", "amount")):
                c.execute(sa.text(f"UPDATE {t} SET {col} = {col} WHERE {col} > 5000"))
    back = store.load_book()
    for name, df in shuffled.tables.items():
        got = back.tables[name].reset_index(drop=True)
        # same values in the same order; datetimes may come back in another unit (us vs ns),
        # compared in ns (pandas compares a column with NaT in two units as raw integers)
        got = got.astype({c: "datetime64[ns]" for c in got if got[c].dtype.kind == "M"})
        pd.testing.assert_frame_equal(got, df.reset_index(drop=True), check_dtype=False, obj=name)
        assert [got[c].dtype.kind for c in got] == [df[c].dtype.kind for c in df], name
    # saving again replaces the book (no duplicate rows, same order)
    store.save_book(shuffled)
    assert len(store.load_book().payments) == len(shuffled.payments)


def test_append_numbered_upgrades_an_older_audit_table(store):
    # tables written before ids were guarded: no unique index, maybe a duplicated id
    old = pd.DataFrame({"entry_id": [1, 2], "note": ["a", "b"]})
    store.append("clean", old)
    store.append("dup", old.assign(entry_id=[1, 1]))
    new = pd.DataFrame({"note": ["c"]})
    with store.transaction() as c:
        assert store.append_numbered("clean", new, "entry_id", c)["entry_id"].tolist() == [3]
    names = {i["name"] for i in sa.inspect(store.engine).get_indexes("clean")}
    assert "ux_clean_entry_id" in names
    with pytest.warns(UserWarning, match="dup: entry_id 1 occurs more than once"):
        with store.transaction() as c:
            store.append_numbered("dup", new, "entry_id", c)
    assert store.read("dup", order_by="entry_id")["entry_id"].tolist() == [1, 1, 2]
    with pytest.warns(UserWarning, match="occurs more than once"), store.transaction() as c:
        store.append_numbered("dup", new, "entry_id", c)  # warned again, never refused
    assert len(store.read("dup")) == 4


def test_concurrent_audit_writers_never_store_the_same_id(postgres_server):
    # PostgreSQL only: SQLite serialises writers with its database lock
    import threading

    store = Store(postgres_server.new_database())
    rows = pd.DataFrame({"note": ["a"]})
    with store.transaction() as c:
        store.append_numbered("audit", rows, "entry_id", c)
    errors = []

    def second_writer():
        try:
            with store.transaction() as c2:
                store.append_numbered("audit", rows, "entry_id", c2)
        except Exception as exc:  # noqa: BLE001 - the failure is the point
            errors.append(exc)

    with store.transaction() as c1:
        store.append_numbered("audit", rows, "entry_id", c1)  # takes id 2, not yet committed
        t = threading.Thread(target=second_writer)
        t.start()
        t.join(timeout=2.0)  # the second writer also took id 2 and waits on the index
        assert t.is_alive()
    t.join(timeout=30)
    assert len(errors) == 1 and "duplicate key" in str(errors[0])
    ids = store.read("audit", order_by="entry_id")["entry_id"].tolist()
    assert ids == [1, 2]
    with store.transaction() as c:  # a retry takes the next number
        assert store.append_numbered("audit", rows, "entry_id", c)["entry_id"].tolist() == [3]


def test_saving_over_an_older_book_keeps_the_tables_and_their_views(db_url):
    store = Store(db_url, book_storage="database")  # the book in database tables
    book = hand_book([("2026-02-15", 1000)])
    store.save_book(book)
    with store.transaction() as c:  # the layout of a book saved by an older riskkit
        for name in book.tables:
            c.execute(sa.text(f"ALTER TABLE book_{name} DROP COLUMN row_position_"))
        c.execute(sa.text("CREATE VIEW loan_ids AS SELECT loan_id FROM book_loans"))
    assert store.load_book().n_loans == 1
    store.save_book(book)  # DELETE + ADD COLUMN in place: the dependent view survives
    back = store.load_book()
    pd.testing.assert_frame_equal(back.payments, book.payments, check_dtype=False)
    with store.engine.connect() as c:
        assert c.execute(sa.text("SELECT loan_id FROM loan_ids")).scalars().all() == ["L1"]


# --- issue 15 (10): values read back are validated like input; writers wait for each other ---


def _sqlite_store(tmp_path, **kw):
    return Store(f"sqlite:///{tmp_path / 'risk.db'}", **kw)


def test_a_stored_value_that_does_not_parse_is_a_validation_error(tmp_path):
    from riskkit.errors import ValidationError

    store = _sqlite_store(tmp_path, book_storage="database")  # the book in database tables
    store.save_book(hand_book([("2026-02-15", 1000), ("2026-03-15", 1000)]))
    with store.transaction() as c:  # SQLite keeps whatever text it is given
        c.execute(sa.text("UPDATE book_payments SET payment_date = 'yesterday' WHERE amount > 0"))
    with pytest.raises(ValidationError) as ei:
        store.load_book()
    msg = str(ei.value)
    assert "book_payments.payment_date: not a date (expected ISO YYYY-MM-DD): values" in msg
    assert "'yesterday'" in msg and "loan id L1" in msg
    store.save_book(hand_book([("2026-02-15", 1000)]))
    with store.transaction() as c:
        c.execute(sa.text("UPDATE book_loans SET amount = 'lots'"))
        c.execute(sa.text("UPDATE book_schedule SET period = 1.5 WHERE period = 2"))
    with pytest.raises(ValidationError) as ei:
        store.load_book()
    msg = str(ei.value)
    assert "book_loans.amount: not a number: values ['lots'] [1 row(s); loan id L1]" in msg
    assert "book_schedule.period: not a whole number: values ['1.5']" in msg


def test_an_unknown_stored_category_is_an_error_not_a_missing_value(tmp_path):
    from riskkit.classification import Classifier
    from riskkit.classification.history import load_classification, save_classification
    from riskkit.errors import ValidationError

    store = _sqlite_store(tmp_path)
    book = hand_book([("2026-02-15", 1000)])
    save_classification(store, Classifier().classify(book, "2026-04-30"))
    assert load_classification(store, "2026-04-30")["category"].notna().all()
    with store.transaction() as c:
        c.execute(sa.text("UPDATE classification_results SET category = 'bogus'"))
    with pytest.raises(ValidationError) as ei:
        load_classification(store, "2026-04-30")
    msg = str(ei.value)
    assert "classification_results.category: unknown value(s) ['bogus']" in msg
    assert "allowed: ['normal', 'special_mention'" in msg and "loan id L1" in msg


_HOLDER = """
import sys, time, pandas as pd
from riskkit.store import Store
store = Store(sys.argv[1])
with store.transaction() as c:
    store.append("audit", pd.DataFrame({"who": ["holder"]}), conn=c)
    open(sys.argv[2], "w").close()  # the write lock is held from here ...
    time.sleep(float(sys.argv[3]))  # ... until the transaction commits
"""
_WRITER = """
import sys, time, pathlib, pandas as pd
from riskkit.store import Store
while not pathlib.Path(sys.argv[2]).exists():
    time.sleep(0.01)
kw = {} if sys.argv[3] == "default" else {"busy_timeout": float(sys.argv[3])}
store = Store(sys.argv[1], **kw)
t0 = time.monotonic()
try:
    store.append("audit", pd.DataFrame({"who": ["writer"]}))
except Exception as exc:
    print(f"FAILED after {time.monotonic() - t0:.2f} s: {exc}")
    sys.exit(1)
print(f"waited {time.monotonic() - t0:.2f} s")
"""


def _two_writers(tmp_path, hold_s: float, writer_timeout: str):
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    Store(url).append("audit", pd.DataFrame({"who": ["first"]}))
    flag = tmp_path / "locked.flag"
    flag.unlink(missing_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, url, str(flag), str(hold_s)])
    writer = subprocess.run(
        [sys.executable, "-c", _WRITER, url, str(flag), str(writer_timeout)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert holder.wait(timeout=120) == 0
    return writer, Store(url).read("audit")["who"].tolist()


@pytest.mark.slow  # two processes and a held lock
def test_concurrent_sqlite_writers_wait_for_each_other(tmp_path):
    """Two real processes: the second writer waits for the first one's transaction (busy
    timeout) instead of failing at once with 'database is locked'."""
    writer, rows = _two_writers(tmp_path, hold_s=1.5, writer_timeout="default")
    assert writer.returncode == 0, writer.stdout + writer.stderr
    assert float(writer.stdout.split()[1]) >= 1.0  # it waited for the holder's commit
    assert rows == ["first", "holder", "writer"]


@pytest.mark.slow  # waits for the busy timeout
def test_the_busy_timeout_is_configurable(tmp_path):
    writer, rows = _two_writers(tmp_path, hold_s=4.0, writer_timeout="0.5")
    assert writer.returncode == 1 and "database is locked" in writer.stdout
    waited = float(writer.stdout.split()[2])
    assert 0.4 <= waited < 3.5  # gave up after its own timeout, before the holder finished
    assert rows == ["first", "holder"]  # nothing half-written
