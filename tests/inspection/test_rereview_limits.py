"""Re-review suggested limits: a worse category or grade never raises the suggestion, and a
freeze or reduction never suggests more than the current limit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from riskkit.inspection.rereview import limit_factor, rereview_list
from tests.classification.helpers import AS_OF
from tests.lending.test_rereview import _book


def test_a_frozen_customer_is_not_offered_more():
    r = rereview_list(_book(), AS_OF, policy={"rereview": {"every_months": 9}}).table
    # C1 normal, income 8,000: capacity 0.5 x 8,000 x 12 = 48,000 (structure 100,000)
    assert r.loc["C1", "suggested_limit"] == 48_000 and r.loc["C1", "action"] == "increase"
    # C3 the same income but special mention: half of it (24,000), and frozen: at most the
    # current 12,000
    assert r.loc["C3", "action"] == "freeze"
    assert r.loc["C3", "suggested_limit"] == 12_000 and r.loc["C3", "limit_change"] == 0
    capped = r["action"].isin(["freeze", "reduce"])
    assert (r.loc[capped, "suggested_limit"] <= r.loc[capped, "current_limit"]).all()


def test_limit_factor_by_hand():
    # R8 is 3 notches below R5: 1 - 3 x 0.15 = 0.55; special mention 0.5 of it
    f = limit_factor(np.array([0, 1, 0, 4]), np.array(["R8", "R8", "R2", "R1"]))
    assert f.tolist() == [0.55, 0.275, 1.0, 0.0]
    assert limit_factor(np.array([0, 1])).tolist() == [1.0, 0.5]  # no model: category only


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 4), st.integers(0, 4), st.integers(1, 10), st.integers(1, 10))
def test_a_worse_category_or_grade_never_raises_the_factor(c1, c2, g1, g2):
    (c1, c2), (g1, g2) = sorted((c1, c2)), sorted((g1, g2))
    f = limit_factor(np.array([c1, c2, c1]), np.array([f"R{g1}", f"R{g1}", f"R{g2}"]))
    assert f[1] <= f[0] and f[2] <= f[0]
