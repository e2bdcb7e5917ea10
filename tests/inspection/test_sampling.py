"""The routine sample draws each loan from its id: the same loans whatever the order of the
book's rows and however the book is split; exactly round(share x pool) loans; weighted draws
at the hand-computed rate."""

import pandas as pd
from scipy import stats

from riskkit.classification import Classifier
from riskkit.datasets import make_microloan_book
from riskkit.inspection import inspection_plan
from riskkit.inspection.plan import draw_threshold, sample_pool
from riskkit.partitioned import bucket_of
from tests.classification.helpers import loan_rows, make_book, on_time

START = pd.Timestamp("2026-10-01")


def _drawn(plan):
    t = plan.table
    return set(t.loc[t["reason"] == "routine_sample", "loan_id"])


def test_sample_does_not_depend_on_row_order_or_split():
    book = make_microloan_book(n_loans=3000, months=24, seed=2).disbursed_by("2026-09-30")
    prev = Classifier().classify(book, "2026-09-30")
    whole = _drawn(inspection_plan(book, START, result=prev))
    pool = len(sample_pool(book, START, prev))
    assert len(whole) == round(0.10 * pool) > 100
    shuffled = type(book)(
        **{k: v.sample(frac=1.0, random_state=3) for k, v in book.tables.items()},
        as_of_date=book.as_of_date,
    )
    prev_s = Classifier().classify(shuffled, "2026-09-30")
    assert _drawn(inspection_plan(shuffled, START, result=prev_s)) == whole
    bucket = bucket_of(book.loans["borrower_id"], 3)
    parts = [book.subset(book.loans["loan_id"][bucket == k]) for k in range(3)]
    results = [Classifier().classify(p, "2026-09-30") for p in parts]
    threshold = draw_threshold(
        [sample_pool(p, START, r) for p, r in zip(parts, results, strict=True)]
    )
    split = set().union(
        *(_drawn(inspection_plan(p, START, result=r, sample_threshold=threshold))
          for p, r in zip(parts, results, strict=True))
    )  # fmt: skip
    assert split == whole


def test_weighted_draw_of_one_loan_is_proportional_to_its_weight():
    """Drawing 1 of 20 loans where one carries a flag (weight 1 + 4 = 5): the flagged loan is
    drawn with probability 5 / (5 + 19) = 0.2083 (the first draw of weighted sampling without
    replacement); over 400 monthly draws its count lies in the binomial 99.9% interval."""
    ids = [f"N{i:02d}" for i in range(20)]
    pays = []
    for n in ids:
        pays += on_time(n, 9 if n != "N07" else 8)  # N07: one missed period -> a flag
    book = make_book(loan_rows(ids), pays)
    pol = {
        "classification": {"dpd_backstops": {"enabled": False}},
        "inspection": {"normal_sample_share": 0.05, "risk_weighted_sampling": True},
    }
    res = Classifier(pol).classify(book, "2025-10-31")
    hits = 0
    for k in range(400):
        start = pd.Timestamp("2025-11-01") + pd.DateOffset(days=k)
        drawn = _drawn(inspection_plan(book, start, end=start, result=res, policy=pol))
        assert len(drawn) == 1
        hits += drawn == {"N07"}
    lo, hi = stats.binom.interval(0.999, 400, 5 / 24)
    assert lo <= hits <= hi
