"""Classification history and audited overrides in a real SQLite store."""

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from riskkit.categories import Category
from riskkit.classification import Classifier, load_overrides, record_overrides
from riskkit.classification.history import (
    ClassificationChanges,
    ClassificationHistory,
    compare,
    migration_matrix,
)
from riskkit.errors import ValidationError
from riskkit.store import Store
from tests.classification.helpers import DUE, loan_rows, make_book, on_time

SEP, OCT = pd.Timestamp("2025-09-30"), pd.Timestamp("2025-10-31")


@pytest.fixture
def store(db_url):
    """SQLite and PostgreSQL in turn."""
    return Store(db_url)


def two_month_book():
    loans = loan_rows(["same", "down", "up", "new"])
    loans.loc[3, "disbursement_date"] = pd.Timestamp("2025-10-05")
    pays = on_time("same", 6)  # Sep: 2 missed (SM by overdue), Oct: 3 missed (SM)
    pays += on_time("down", 5)  # Sep: 3 missed, 77 dpd (SM); Oct: 4 missed, 108 dpd (SS)
    pays += on_time("up", 7) + [("up", "2025-10-20", 2000.0)]  # Sep: 1 missed; Oct: current
    return make_book(loans, pays)


def _counts(store, table):
    with store.engine.connect() as c:
        return c.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar()


def test_monthly_results_changes_and_idempotent_rerun(store):
    book = two_month_book()
    h = ClassificationHistory(store)
    clf = Classifier()
    sep = clf.classify(book.disbursed_by(SEP), SEP)
    assert h.save(sep) == 3
    oct_ = clf.classify(book.disbursed_by(OCT), OCT)
    h.save(oct_)
    h.save(oct_)  # re-run of the same month replaces it
    assert _counts(store, "classification_results") == 7
    assert h.dates() == [SEP, OCT]
    back = h.load(OCT)
    assert back.loc["down", "category"] == "substandard"
    assert back.loc["down", "explanation_zh"] == oct_.table.loc["down", "explanation_zh"]
    assert back.loc["down", "outstanding_principal"] == 7000.0  # 5 of 12 x 1,000 paid
    ch = h.changes(OCT)
    assert ch.previous_as_of == SEP
    t = ch.table
    assert t.loc["same", "change"] == "unchanged"
    assert t.loc["down", "change"] == "downgrade" and t.loc["down", "steps"] == 1
    assert t.loc["up", "change"] == "upgrade" and t.loc["up", "steps"] == -1
    assert t.loc["new", "change"] == "new"
    assert ch.counts().to_dict() == {
        "downgrade": 1,
        "upgrade": 1,
        "unchanged": 1,
        "new": 1,
        "repaid": 0,
        "recovered": 0,
        "written_off": 0,
        "exited": 0,
    }
    m = ch.migration()
    assert m.loc["special_mention", "substandard"] == 1
    assert m.loc["special_mention", "normal"] == 1
    assert m.loc["special_mention", "special_mention"] == 1
    assert m.loc["new", "normal"] == 1
    assert m.to_numpy().sum() == 4
    # balance migration uses the previous month's balance (up: 12,000 - 7,000 = 5,000)
    assert ch.migration("balance").loc["special_mention", "normal"] == 5000.0
    assert "downgrade=1" in repr(ch)


def test_compare_marks_exits():
    prev = pd.DataFrame(
        {"category": ["normal", "loss"], "outstanding_principal": [1.0, 2.0]},
        index=pd.Index(["a", "b"], name="loan_id"),
    )
    cur = prev.iloc[:1]
    t = compare(prev, cur)
    assert t.loc["b", "change"] == "exited"


def _month(rows):
    """Hand-built month: loan_id -> (category, balance, paid_off)."""
    return pd.DataFrame(
        [(k, *v) for k, v in rows.items()],
        columns=["loan_id", "category", "outstanding_principal", "paid_off"],
    ).set_index("loan_id")


def test_paid_off_loans_are_exits_not_upgrades():
    prev = _month(
        {
            "loss_repaid": ("loss", 4_000.0, False),
            "sm_repaid": ("special_mention", 1_500.0, False),
            "normal_repaid": ("normal", 500.0, False),
            "old_repaid": ("normal", 0.0, True),  # repaid before: off the book in both months
            "written": ("loss", 9_000.0, False),  # gone from the results: exited
            "worse": ("normal", 6_000.0, False),
            "better": ("doubtful", 7_000.0, False),
            "back": ("normal", 0.0, True),  # paid off, then on the book again (reversal)
            "wo": ("loss", 3_000.0, False),
        }
    ).assign(written_off=False)
    cur = _month(
        {
            "loss_repaid": ("normal", 0.0, True),  # the classifier calls paid-off loans normal
            "sm_repaid": ("normal", 0.0, True),
            "normal_repaid": ("normal", 0.0, True),
            "old_repaid": ("normal", 0.0, True),
            "worse": ("substandard", 5_000.0, False),
            "better": ("special_mention", 6_500.0, False),
            "back": ("special_mention", 800.0, False),
            "fresh": ("normal", 10_000.0, False),
            "quick": ("normal", 0.0, True),  # disbursed and repaid within the month
            "wo": ("loss", 0.0, False),  # written off (register): off the balance sheet
        }
    )
    cur["written_off"] = cur.index == "wo"
    t = compare(prev, cur)
    assert sorted(t.index) == sorted(
        ["loss_repaid", "sm_repaid", "normal_repaid", "written", "worse", "better", "back", "fresh"]
        + ["wo"]
    )
    # a payoff out of a non-performing category is a recovery, never a repayment
    assert t.loc[["sm_repaid", "normal_repaid"], "change"].tolist() == ["repaid"] * 2
    assert t.loc["loss_repaid", "change"] == "recovered"
    assert t.loc["wo", "change"] == "written_off" and pd.isna(t.loc["wo", "category"])
    assert t.loc["written", "change"] == "exited"
    assert t.loc["worse", "change"] == "downgrade" and t.loc["worse", "steps"] == 2
    assert t.loc["better", "change"] == "upgrade" and t.loc["better", "steps"] == -2
    assert t.loc["back", "change"] == "new" and t.loc["fresh", "change"] == "new"
    assert t.loc["loss_repaid", "steps"] == 0 and pd.isna(t.loc["loss_repaid", "category"])
    assert t.loc["loss_repaid", "previous_category"] == "loss"
    assert t.loc["back", "previous_balance"] == 0.0 and pd.isna(t.loc["back", "previous_category"])
    m = migration_matrix(t)
    assert list(m.columns[-4:]) == ["repaid", "recovered", "written_off", "exited"]
    assert m.loc["loss", "recovered"] == 1 and m.loc["loss", "exited"] == 1
    assert m.loc["loss", "written_off"] == 1 and m.loc["loss", "repaid"] == 0
    assert m.loc["special_mention", "repaid"] == 1 and m.loc["normal", "repaid"] == 1
    assert m.loc["loss", "normal"] == 0 and m.loc["special_mention", "normal"] == 0
    assert m.loc["new", "normal"] == 1 and m.loc["new", "special_mention"] == 1
    assert m.to_numpy().sum() == 9
    b = migration_matrix(t, "balance")
    # previous balances of the loans that left; current balance of the new ones
    assert b.loc["loss", "recovered"] == 4_000.0 and b.loc["loss", "exited"] == 9_000.0
    assert b.loc["loss", "written_off"] == 3_000.0
    assert b.loc["new", "normal"] == 10_000.0 and b.loc["doubtful", "special_mention"] == 7_000.0
    ch = ClassificationChanges(t, OCT, SEP)
    assert ch.counts().to_dict() == {
        "downgrade": 1,
        "upgrade": 1,
        "unchanged": 0,
        "new": 2,
        "repaid": 2,
        "recovered": 1,
        "written_off": 1,
        "exited": 1,
    }
    assert ch.upgrades.index.tolist() == ["better"]
    assert sorted(ch.exits.index) == ["loss_repaid", "normal_repaid", "sm_repaid", "wo", "written"]


def test_history_changes_with_loans_repaid(store):
    loans = loan_rows(["doubtful_repaid", "early", "same", "quick"])
    loans.loc[3, "disbursement_date"] = pd.Timestamp("2025-10-05")
    # Sep 30: 1 of 8 installments paid, 7 missed -> doubtful; repaid in full on Oct 10
    pays = on_time("doubtful_repaid", 1) + [("doubtful_repaid", "2025-10-10", 11_000.0)]
    pays += on_time("early", 2) + [("early", "2025-05-01", 10_000.0)]  # repaid in May
    pays += on_time("same", 9)
    pays += [("quick", "2025-10-20", 12_000.0)]  # disbursed Oct 5, repaid Oct 20
    book = make_book(loans, pays)
    h = ClassificationHistory(store)
    for d in (SEP, OCT):
        h.save(Classifier().classify(book.disbursed_by(d), d))
    stored = h.load(OCT)
    # the classification calls a paid-off loan normal ...
    assert stored.loc["doubtful_repaid", "category"] == "normal"
    assert stored.loc["doubtful_repaid", "paid_off"]
    assert h.load(SEP).loc["doubtful_repaid", "category"] == "doubtful"
    # ... but month on month it is an exit, not a doubtful -> normal upgrade; paid off out of
    # doubtful it is a recovery, not a repayment
    ch = h.changes(OCT)
    assert ch.table["change"].to_dict() == {"doubtful_repaid": "recovered", "same": "unchanged"}
    assert ch.counts()[["upgrade", "repaid", "recovered"]].tolist() == [0, 0, 1]
    m = ch.migration()
    assert m.loc["doubtful", "recovered"] == 1 and m.loc["doubtful", "normal"] == 0
    assert m.loc["doubtful", "repaid"] == 0
    assert ch.migration("balance").loc["doubtful", "recovered"] == 11_000.0
    assert "recovered=1" in repr(ch)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.tuples(st.integers(0, 4), st.booleans())),
            st.one_of(st.none(), st.tuples(st.integers(0, 4), st.booleans())),
        ),
        max_size=25,
    )
)
def test_repaid_is_never_an_upgrade(loans):
    def frame(k):
        rows = {
            f"L{i}": (Category(v[k][0]).code, 100.0 * i, v[k][1])
            for i, v in enumerate(loans)
            if v[k] is not None
        }
        return _month(rows) if rows else _month({}).astype({"outstanding_principal": float})

    prev, cur = frame(0), frame(1)
    t = compare(prev, cur)
    live_prev = prev.index[~prev["paid_off"].to_numpy(dtype=bool)]
    live_cur = cur.index[~cur["paid_off"].to_numpy(dtype=bool)]
    assert set(t.index) == set(live_prev) | set(live_cur)
    paid_now = cur.index[cur["paid_off"].to_numpy(dtype=bool)]
    moved = t["change"].isin(["upgrade", "downgrade", "unchanged"])
    assert not t.index[moved].isin(paid_now).any()
    assert (t.loc[t.index.isin(paid_now), "change"].isin(["repaid", "recovered"])).all()
    exits = set(t.index[t["change"].isin(["repaid", "recovered"])])
    assert exits == set(live_prev) & set(paid_now)
    # a payoff out of substandard or worse is a recovery, never a repayment
    was_npl = prev["category"].isin(["substandard", "doubtful", "loss"])
    npl_ids = set(prev.index[was_npl.to_numpy()])
    assert not (set(t.index[t["change"] == "repaid"]) & npl_ids)
    assert set(t.index[t["change"] == "recovered"]) <= npl_ids
    m = migration_matrix(t)
    assert m.to_numpy().sum() == len(t)
    assert m.loc[Category.codes(), Category.codes()].to_numpy().sum() == moved.sum()


def test_overrides_are_append_only_and_latest_applies(store):
    book = two_month_book().disbursed_by(OCT)
    first = record_overrides(
        store,
        [{"loan_id": "same", "category": "substandard", "author": "Li", "reason": "shop shut"}],
        as_of=OCT,
        loan_ids=book.loans["loan_id"],
    )
    second = record_overrides(
        store,
        [{"loan_id": "same", "category": "可疑", "author": "Zhang", "reason": "court filing"}],
        as_of=OCT,
    )
    assert first["override_id"].tolist() == [1] and second["override_id"].tolist() == [2]
    log = load_overrides(store)
    assert log["author"].tolist() == ["Li", "Zhang"]
    assert log["category"].tolist() == ["substandard", "doubtful"]
    res = Classifier().classify(book, OCT, overrides=store)
    assert res.table.loc["same", "category"] == "doubtful"
    assert res.table.loc["same", "override_reason"] == "court filing"
    # a month without overrides is untouched
    sep = Classifier().classify(book.disbursed_by(SEP), SEP, overrides=store)
    assert sep.table.loc["same", "category"] == "special_mention"


@pytest.mark.parametrize(
    "row",
    [
        {"loan_id": "same", "category": "terrible", "author": "Li", "reason": "x"},
        {"loan_id": "same", "category": "loss", "author": "Li", "reason": ""},
        {"loan_id": "same", "category": "loss", "author": "", "reason": "x"},
        {"loan_id": "ghost", "category": "loss", "author": "Li", "reason": "x"},
    ],
)
def test_bad_override_writes_nothing(store, row):
    book = two_month_book().disbursed_by(OCT)
    ok = {"loan_id": "up", "category": "loss", "author": "Li", "reason": "fraud"}
    record_overrides(store, [ok], as_of=OCT, loan_ids=book.loans["loan_id"])
    before = load_overrides(store)
    with pytest.raises(ValidationError):
        record_overrides(store, [ok, row], as_of=OCT, loan_ids=book.loans["loan_id"])
    pd.testing.assert_frame_equal(load_overrides(store), before)


def test_bad_book_writes_no_results(store):
    h = ClassificationHistory(store)
    book = two_month_book()
    h.save(Classifier().classify(book.disbursed_by(SEP), SEP))
    before = h.load(SEP)
    # as-of before the "new" loan's disbursement: error, nothing stored for that month
    with pytest.raises(ValidationError, match="new"):
        h.save(Classifier().classify(book, SEP))
    # payments for an unknown loan
    bad = make_book(loan_rows(["same"]), on_time("same", 3) + [("zz", DUE[0], 1.0)], validate=False)
    with pytest.raises(ValidationError, match="payments.loan_id: unknown loan"):
        h.save(Classifier().classify(bad, SEP))
    assert h.dates() == [SEP]
    pd.testing.assert_frame_equal(h.load(SEP), before)
