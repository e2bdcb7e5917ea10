"""Vectorised classifier against the independent loan-by-loan pandas reference of the benchmark
(synthetic book with stopped, late, partial payers and random signals)."""

import numpy as np
import pytest

from benchmarks.bench_classification import AS_OF, build_book, reference_classify
from riskkit.classification import Classifier

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
    book = build_book(400, seed=3)
    res = Classifier(policy).classify(book, AS_OF)
    ref = reference_classify(book, AS_OF, policy)
    mine = res.table["category"].cat.codes.reindex(ref.index).to_numpy()
    assert len(ref) == 400
    np.testing.assert_array_equal(mine, ref.to_numpy())
    # the book exercises more than one category and the incidental rule
    assert len(np.unique(mine)) >= 4
