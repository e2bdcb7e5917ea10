"""Classification history and audited overrides in a real SQLite store."""

import pandas as pd
import pytest
import sqlalchemy as sa

from riskkit.classification import Classifier, load_overrides, record_overrides
from riskkit.classification.history import ClassificationHistory, compare
from riskkit.errors import ValidationError
from riskkit.store import Store
from tests.classification.helpers import DUE, loan_rows, make_book, on_time

SEP, OCT = pd.Timestamp("2025-09-30"), pd.Timestamp("2025-10-31")


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path}/x.db")


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
    assert back.loc["down", "explanation_zh"] == oct_.frame.loc["down", "explanation_zh"]
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
    assert res.frame.loc["same", "category"] == "doubtful"
    assert res.frame.loc["same", "override_reason"] == "court filing"
    # a month without overrides is untouched
    sep = Classifier().classify(book.disbursed_by(SEP), SEP, overrides=store)
    assert sep.frame.loc["same", "category"] == "special_mention"


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
