"""Vectorised classifier against the independent loan-by-loan pandas reference of the benchmark,
on the sample generator's book (stopped, late, partial payers, cures, prepayments) with random
risk signals added (some carrying an exhaustion marker)."""

import numpy as np
import pandas as pd
import pytest

from benchmarks.bench_classification import AS_OF, reference_classify
from riskkit.book import LoanBook
from riskkit.book.schema import SIGNAL_CODES
from riskkit.classification import Classifier
from riskkit.datasets import make_microloan_book


def _book_with_random_signals(n: int, seed: int) -> LoanBook:
    book = make_microloan_book(n_loans=n, months=36, seed=seed, as_of=AS_OF)
    rng = np.random.default_rng(seed)
    k = n // 10
    sl = rng.choice(n, k, replace=False)
    disb = book.loans["disbursement_date"].to_numpy()[sl].astype("datetime64[D]")
    span = (np.datetime64(AS_OF.date(), "D") - disb).astype(np.int64)
    extra = pd.DataFrame(
        {
            "loan_id": book.loans["loan_id"].to_numpy()[sl],
            "signal_date": (disb + (rng.random(k) * span).astype("timedelta64[D]")).astype(
                "datetime64[ns]"
            ),
            "signal": np.asarray(SIGNAL_CODES, dtype=object)[rng.integers(0, 16, k)],
            "source": "manual",
            "note": np.where(rng.random(k) < 0.2, "estate_exhausted", "recorded by officer"),
        }
    ).astype({"loan_id": "str", "signal": "str", "source": "str", "note": "str"})
    signals = pd.concat([book.signals, extra], ignore_index=True)
    return LoanBook(**{**book.tables, "signals": signals}, as_of_date=AS_OF)


pytestmark = pytest.mark.slow  # a groupby-apply peer on a whole sample book


@pytest.mark.parametrize(
    "policy",
    [
        None,
        {"classification": {"dpd_backstops": {"enabled": False}}},
        {"classification": {"dpd_backstops": {"enabled": False}, "signal_active_months": 3}},
    ],
)
def test_agrees_with_groupby_apply_reference(policy):
    book = _book_with_random_signals(400, seed=3)
    res = Classifier(policy).classify(book, AS_OF)
    ref = reference_classify(book, AS_OF, policy)
    mine = res.table["category"].cat.codes.reindex(ref.index).to_numpy()
    assert len(ref) == 400
    np.testing.assert_array_equal(mine, ref.to_numpy())
    # the book exercises every category and the incidental rule
    assert len(np.unique(mine)) >= 4
    assert res.table["rules"].astype(str).str.contains("not_incidental").any()
