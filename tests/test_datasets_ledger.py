"""The synthetic inspection ledger (riskkit.datasets.make_inspection_ledger) against plans
built here the way the post-loan review builds them."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from riskkit import cli
from riskkit.classification import Classifier
from riskkit.datasets import make_inspection_ledger, make_microloan_book
from riskkit.datasets.ledger import MAX_DAYS_LATE
from riskkit.inspection import inspection_plan, load_ledger, load_manual_signals, record_inspections
from riskkit.reports.post_loan import post_loan_review
from riskkit.store import Store

AS_OF = pd.Timestamp("2026-10-31")
ENDS = [pd.Timestamp(d) for d in ("2026-08-31", "2026-09-30", "2026-10-31")]


@pytest.fixture(scope="module")
def book():
    return make_microloan_book(n_loans=1500, seed=0, as_of=AS_OF)


@pytest.fixture(scope="module")
def ledger(book):
    return make_inspection_ledger(book, seed=0)


@pytest.fixture(scope="module")
def plans(book):
    """Each month's plan as the post-loan review builds it: loans disbursed by the month-end,
    categories of the month-end before."""
    out = {}
    for end in ENDS:
        start = end.replace(day=1)
        prev = start - pd.Timedelta(days=1)
        result = Classifier().classify(book.disbursed_by(prev), prev)
        out[end] = inspection_plan(book.disbursed_by(end), start, end, result=result)
    return out


def _done_due(plans, led):
    """Per officer over the three months: due and done on time (from plan.compliance)."""
    frames = [p.compliance(led, end + pd.Timedelta(days=1)) for end, p in plans.items()]
    return pd.concat(frames).groupby(level=0)[["due", "done", "late", "overdue"]].sum(), frames


def test_deterministic_per_seed(book, ledger):
    again = make_inspection_ledger(book, seed=0)
    pd.testing.assert_frame_equal(ledger, again)
    other = make_inspection_ledger(book, seed=1)
    assert not (len(other) == len(ledger) and other.equals(ledger))


def test_record_inspections_accepts_it(book, ledger, db_url):
    store = Store(db_url)
    store.save_book(book)
    written = record_inspections(store, ledger, loan_ids=book.loans["loan_id"], as_of=AS_OF)
    assert len(written) == len(ledger) > 300
    back = load_ledger(store, masked=False)
    assert back["inspection_id"].tolist() == list(range(1, len(ledger) + 1))
    for col in ("loan_id", "officer_id", "method", "findings", "signals", "proposed_action"):
        assert back[col].astype(str).tolist() == ledger[col].astype(str).tolist(), col
    assert (back["inspection_date"].to_numpy() == ledger["inspection_date"].to_numpy()).all()
    # observed signals go to the manual signal table, one row per code
    n_codes = sum(len(s.split(",")) for s in ledger["signals"] if s)
    assert n_codes > 0
    assert len(load_manual_signals(store)) == n_codes


def test_columns_dates_and_officers(book, ledger):
    assert list(ledger.columns) == [
        "loan_id",
        "inspection_date",
        "officer_id",
        "method",
        "findings",
        "signals",
        "proposed_action",
        "category_assessed",
    ]
    assert ledger["inspection_date"].max() <= AS_OF
    # first-contact windows open at disbursement: at most 7 days before the first month
    assert ledger["inspection_date"].min() >= ENDS[0].replace(day=1) - pd.Timedelta(days=7)
    officer = book.loans.set_index("loan_id")["officer_id"]
    assert (ledger["officer_id"].to_numpy() == officer.reindex(ledger["loan_id"]).to_numpy()).all()
    assert ledger[["inspection_date", "loan_id"]].equals(
        ledger[["inspection_date", "loan_id"]].sort_values(["inspection_date", "loan_id"])
    )


def test_compliance_per_officer_and_overall(plans, ledger):
    per_officer, frames = _done_due(plans, ledger)
    rate = per_officer["done"] / per_officer["due"]
    for f in frames:
        r = f["compliance_rate"].dropna()
        assert ((r >= 0) & (r <= 1)).all()
    # officers differ (diligence from about 60% to 97% around 85%)
    assert rate.max() - rate.min() > 0.15
    overall = per_officer["done"].sum() / per_officer["due"].sum()
    assert overall == pytest.approx(0.85, abs=0.04)
    # some inspections are late, some overdue: not a perfect ledger
    assert per_officer["late"].sum() > 0 and per_officer["overdue"].sum() > 0


@pytest.mark.parametrize("completion", [0.6, 1.0])
def test_completion_parameter(book, plans, completion):
    led = make_inspection_ledger(book, completion=completion, seed=5)
    per_officer, _ = _done_due(plans, led)
    overall = per_officer["done"].sum() / per_officer["due"].sum()
    if completion == 1.0:
        assert overall == 1.0
    else:
        assert overall == pytest.approx(completion, abs=0.05)


def test_done_counts_checked_by_hand(plans, ledger):
    """plan.status "done" for first-in-window requirements equals: some inspection of the
    loan between window start and deadline (computed here directly)."""
    for end, plan in plans.items():
        st = plan.status(ledger, end + pd.Timedelta(days=1))
        one = st[st["rank"] == 1]
        j = one[["plan_id", "loan_id", "window_start", "due_by"]].merge(
            ledger[["loan_id", "inspection_date"]], on="loan_id"
        )
        hit = (j["inspection_date"] >= j["window_start"]) & (j["inspection_date"] <= j["due_by"])
        done_ids = set(j.loc[hit, "plan_id"])
        assert set(one.loc[one["status"] == "done", "plan_id"]) == done_ids


def test_every_inspection_was_due(plans, ledger):
    allp = pd.concat([p.table for p in plans.values()], ignore_index=True)
    j = ledger.reset_index(names="row").merge(
        allp[["loan_id", "window_start", "due_by"]], on="loan_id"
    )
    ok = (j["inspection_date"] >= j["window_start"]) & (
        j["inspection_date"] <= j["due_by"] + pd.Timedelta(days=MAX_DAYS_LATE)
    )
    assert set(j.loc[ok, "row"]) == set(range(len(ledger)))


def test_methods_actions_and_signals_by_category(book, ledger):
    cat = ledger["category_assessed"]
    serious = ledger[cat.isin(["substandard", "doubtful"])]
    assert serious["method"].isin(["on_site", "meeting", "employer_visit"]).mean() > 0.8
    normal = ledger[cat == "normal"]
    assert (normal["method"] == "phone").mean() > 0.5
    assert (normal["proposed_action"] == "none").all()
    npl = ledger[cat.isin(["doubtful", "loss"])]
    assert len(npl) and (npl["proposed_action"] != "none").all()
    assert (ledger.loc[cat == "loss", "proposed_action"] == "enforcement").mean() > 0.5
    assert set(ledger["method"]) == {"phone", "meeting", "on_site", "employer_visit"}
    # every observed signal is in the book for that loan, dated in the inspection's month or
    # the month before (late inspections) and not after the inspection
    s = ledger.assign(signal=ledger["signals"].str.split(",")).explode("signal")
    s = s[s["signal"].notna() & (s["signal"] != "")].reset_index(names="row")
    assert len(s) > 0
    j = s.merge(book.signals[["loan_id", "signal", "signal_date"]], on=["loan_id", "signal"])
    month0 = (j["inspection_date"] - pd.offsets.MonthBegin(2)).dt.normalize()
    ok = (j["signal_date"] <= j["inspection_date"]) & (j["signal_date"] >= month0)
    assert set(j.loc[ok, "row"]) == set(s["row"])
    assert s["findings"].str.contains("signals observed").all()


def test_no_personal_data_in_findings(book, ledger):
    text = ledger["findings"]
    assert not text.str.contains(r"\d{11}", regex=True).any()
    assert not text.str.contains(r"\d{17}[\dXx]", regex=True).any()
    pii = set(book.borrowers["phone"].astype(str)) | set(book.borrowers["id_number"].astype(str))
    found = {m for t in text for m in re.findall(r"[\dXx]{11,18}", t)}
    assert not found & pii
    assert text.str.len().min() > 20


def test_bad_arguments(book):
    with pytest.raises(ValueError, match="completion"):
        make_inspection_ledger(book, completion=1.2)
    with pytest.raises(ValueError, match="months"):
        make_inspection_ledger(book, months=0)
    with pytest.raises(ValueError, match="after the book"):
        make_inspection_ledger(book, as_of="2026-12-31")


def test_mid_month_as_of_covers_whole_months_only(book):
    led = make_inspection_ledger(book, as_of="2026-10-15", months=2, seed=0)
    assert led["inspection_date"].max() <= pd.Timestamp("2026-10-15")
    first_month = pd.Timestamp("2026-08-01") - pd.Timedelta(days=7)
    assert led["inspection_date"].min() >= first_month


def test_demo_records_ledger_once_and_review_uses_it(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert cli.ensure_demo_book(url, "2026-10-31", n_loans=1500) is True
    store = Store(url)
    led = load_ledger(store, masked=False)
    expected = make_inspection_ledger(store.load_book(), as_of="2026-10-31", seed=cli.DEMO_SEED)
    assert len(led) == len(expected) > 300
    assert led["loan_id"].tolist() == expected["loan_id"].tolist()
    # re-run: book kept, ledger untouched
    assert cli.ensure_demo_book(url, "2026-10-31", n_loans=50) is False
    assert len(load_ledger(store)) == len(led)
    # the post-loan review now shows realistic compliance instead of 0%
    review = post_loan_review(store.load_book(), "2026-10-31", store=store)
    c = review.compliance
    share = c["done"].sum() / c["due"].sum()
    assert 0.75 < share < 0.95
    assert c["compliance_rate"].between(0, 1).all()
    assert review.metrics["inspections_overdue"] < 0.25 * review.metrics["inspections_planned"]


def test_demo_never_adds_to_an_existing_ledger(tmp_path, book):
    url = f"sqlite:///{tmp_path / 'real.db'}"
    real = pd.DataFrame(
        {
            "loan_id": [book.loans["loan_id"].iloc[0]],
            "inspection_date": ["2026-10-10"],
            "officer_id": ["O01"],
            "method": ["phone"],
            "findings": ["borrower reached, repaying"],
            "proposed_action": ["none"],
        }
    )
    record_inspections(Store(url), real)
    assert cli.ensure_demo_book(url, "2026-10-31", n_loans=300) is True
    led = load_ledger(Store(url))
    assert len(led) == 1 and led["findings"].iloc[0] == "borrower reached, repaying"
    assert Store(url).has_book()
