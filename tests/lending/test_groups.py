"""Joint-guarantee groups (三户联保, seed 002): exposure against the group limit, the fall-back to
a single guarantee when a group shrinks below three households, and the guarantor-liability
signal that one member's arrears raise on the others' loans."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskkit.book.groups import group_exposure, group_limit, guarantor_liability_signals
from riskkit.classification import Classifier
from riskkit.errors import ValidationError
from riskkit.inspection import inspection_plan, watch_list
from riskkit.lending import credit_limit
from tests.classification.helpers import AS_OF, loan_rows, make_book, on_time


def _triple_guarantors(group: str, loans: list[str], borrowers: list[str]) -> pd.DataFrame:
    """Each loan guaranteed by the other households of the group."""
    rows = [
        (lid, other, "person", group)
        for lid, me in zip(loans, borrowers, strict=True)
        for other in borrowers
        if other != me
    ]
    return pd.DataFrame(rows, columns=["loan_id", "guarantor_id", "kind", "group_id"])


def test_seed_002_story_three_households_then_one_withdraws():
    """严先生 asks for 1.5M as a three-household joint guarantee (500k each). One guarantor is
    dropped: the two left expect 1M, but a group below three households is a single guarantee,
    500k in total (seed 002)."""
    no_loans = pd.DataFrame({"loan_id": pd.Series(dtype=str), "borrower_id": pd.Series(dtype=str)})
    no_guar = _triple_guarantors("G", [], [])
    three = pd.DataFrame(
        {
            "application_id": ["A1", "A2", "A3"],
            "borrower_id": ["Yan", "Wang", "Li"],
            "amount": [500_000.0] * 3,
            "group_id": "JG-new",
        }
    )
    t = group_exposure(no_loans, no_guar, outstanding={}, applications=three).table
    assert t.loc["JG-new", "households"] == 3
    assert t.loc["JG-new", "group_limit"] == 1_500_000.0  # 3 x 500k
    assert t.loc["JG-new", "exposure"] == 1_500_000.0
    assert not t.loc["JG-new", "over_limit"]
    assert t.loc["JG-new", "structure"] == "joint"
    assert credit_limit("joint", households=3)[0] == 500_000.0  # each member

    two = three[three["borrower_id"] != "Li"]
    t = group_exposure(no_loans, no_guar, outstanding={}, applications=two).table
    assert t.loc["JG-new", "households"] == 2
    assert t.loc["JG-new", "structure"] == "single_guarantee"
    assert t.loc["JG-new", "group_limit"] == 500_000.0  # in total, not 2 x 500k
    assert t.loc["JG-new", "exposure"] == 1_000_000.0
    assert t.loc["JG-new", "over_limit"]
    assert t.loc["JG-new", "headroom"] == -500_000.0
    assert credit_limit("joint", households=2)[0] == 500_000.0


def test_group_limit_by_households_follows_policy():
    assert group_limit([1, 2, 3, 4, 5]).tolist() == [5e5, 5e5, 1.5e6, 1.5e6, 1.5e6]
    pol = {"groups": {"max_exposure": 3_000_000}, "limits": {"joint_per_member": 400_000}}
    assert group_limit([2, 3, 5, 8], pol).tolist() == [5e5, 1.2e6, 2.0e6, 3.0e6]


def _group_book(missed: dict[str, int], paid_off: tuple[str, ...] = ()):
    """Group G1 = loans J1..J3 (borrowers H1..H3), plus an unrelated loan X with 4 missed.

    Every loan 12,000 over 12 months, 1,000 due monthly; 9 due by 2025-10-31."""
    ids = ["J1", "J2", "J3", "X"]
    loans = loan_rows(ids, borrowers=["H1", "H2", "H3", "HX"])
    loans.loc[loans["loan_id"] != "X", "guarantee_type"] = "joint"
    pays = []
    for lid in ids:
        if lid in paid_off:
            pays.append((lid, pd.Timestamp("2025-03-01"), 12_000.0))
        else:
            pays += on_time(lid, 9 - missed.get(lid, 0))
    book = make_book(loans, pays)
    book.guarantors = _triple_guarantors("G1", ["J1", "J2", "J3"], ["H1", "H2", "H3"])
    return book.validate()


def test_exposure_and_worst_category_of_a_book_group():
    book = _group_book({"J2": 4, "X": 4})
    res = Classifier().classify(book, AS_OF)
    exp = group_exposure(book.loans, book.guarantors, result=res)
    row = exp.table.loc["G1"]
    # outstanding: 12,000 - 1,000 x paid installments (J1, J3: 9 paid; J2: 5 paid)
    assert row["outstanding"] == 3_000 + 7_000 + 3_000
    assert row["loans"] == 3 and row["households"] == 3
    assert row["worst_category"] == "substandard" and row["members_at_risk"] == 1
    assert row["group_limit"] == 1_500_000.0 and not row["over_limit"]
    assert "X" not in set(exp.members["loan_id"])  # not in a group
    assert exp.group("G1")["category"].tolist() == ["normal", "substandard", "normal"]


def test_a_member_in_arrears_raises_guarantor_liability_on_the_others():
    book = _group_book({"J2": 3}, paid_off=("J3",))
    res = Classifier().classify(book, AS_OF)
    assert res.table.loc["J2", "category"] == "special_mention"
    sig = guarantor_liability_signals(book.loans, book.guarantors, res)
    # J1 is liable; J3 is repaid (nothing left to inspect); J2 itself is not its own guarantor
    assert sig["loan_id"].tolist() == ["J1"]
    assert sig["signal"].tolist() == ["guarantor_liability"]
    assert sig["signal_date"].tolist() == [AS_OF]
    assert "J2 (group G1) is special mention" in sig["note"].iloc[0]
    # the signal does not change J1's category by default ...
    res2 = Classifier().classify(book, AS_OF, extra_signals=sig)
    assert res2.table.loc["J1", "category"] == "normal"
    assert "signal_guarantor_liability" in res2.table.loc["J1", "rules"]
    # ... but an institution may make it special mention
    pol = {"classification": {"signal_minimum": {"guarantor_liability": "special_mention"}}}
    res3 = Classifier(pol).classify(book, AS_OF, extra_signals=sig)
    assert res3.table.loc["J1", "category"] == "special_mention"


def test_liability_moves_the_partners_up_the_inspection_plan_and_watch_list():
    book = _group_book({"J2": 4})
    res = Classifier().classify(book, AS_OF)
    start = AS_OF + pd.Timedelta(days=1)
    plan = inspection_plan(book, start, result=res).table
    liab = plan[plan["reason"] == "guarantor_liability"]
    assert sorted(liab["loan_id"]) == ["J1", "J3"]
    assert set(liab["due_by"]) == {start + pd.Timedelta(days=3)}  # immediate_within_days
    assert liab["detail"].str.contains("J2").all()
    # without the signal in the policy's severe list, no such rows
    pol = {"inspection": {"severe_signals": ["sanctioned"]}}
    plan2 = inspection_plan(book, start, result=res, policy=pol).table
    assert "guarantor_liability" not in set(plan2["reason"])
    wl = watch_list(book, AS_OF, result=res)
    assert {"J1", "J2", "J3"} <= set(wl.index)
    assert wl.loc["J1", "signals"] == "guarantor_liability" and wl.loc["J1", "severe"]
    # severe partners come first, before the normal loans of other watch reasons
    assert list(wl.index[:2]) == ["J1", "J3"] or list(wl.index[:2]) == ["J3", "J1"]


def test_a_loan_in_two_groups_is_an_error_naming_it():
    g = pd.concat(
        [
            _triple_guarantors("G1", ["J1", "J2", "J3"], ["H1", "H2", "H3"]),
            pd.DataFrame([("J1", "H9", "person", "G2")], columns=["loan_id", "guarantor_id",
                                                                   "kind", "group_id"]),
        ]
    )  # fmt: skip
    loans = pd.DataFrame({"loan_id": ["J1", "J2", "J3"], "borrower_id": ["H1", "H2", "H3"]})
    with pytest.raises(ValidationError, match=r"guarantors.group_id: loan is in two groups .*J1"):
        group_exposure(loans, g, outstanding={"J1": 1.0})


def test_sample_book_groups_are_triples_within_the_limit():
    from riskkit.datasets import make_microloan_book

    book = make_microloan_book(n_loans=600, months=12, seed=1)
    st = book.status()
    exp = group_exposure(book.loans, book.guarantors, st["outstanding_principal"])
    live = exp.table[exp.table["loans"] > 0]
    assert len(live) and (live["households"] == 3).all()
    assert not live["over_limit"].any()
    # exposure is the sum of the members' balances
    bal = st["outstanding_principal"].reindex(exp.members["loan_id"]).to_numpy()
    assert np.isclose(exp.table["outstanding"].sum(), bal.sum())


def test_post_loan_review_shows_the_group_view():
    from riskkit.reports.post_loan import post_loan_review

    book = _group_book({"J2": 4})
    review = post_loan_review(book, AS_OF)
    g = review.groups
    assert g.index.tolist() == ["G1"]
    assert g.loc["G1", "worst_category"] == "substandard"
    assert g.loc["G1", "members_at_risk"] == 1
    assert review.group_members["loan_id"].tolist() == ["J1", "J2", "J3"]
    m = review.metrics
    assert m["joint_groups"] == 1 and m["joint_groups_member_at_risk"] == 1
    assert m["joint_groups_over_limit"] == 0 and m["joint_groups_single_guarantee"] == 0
    assert m["loans_guarantor_liability"] == 2  # J1 and J3 on the watch list
    assert m["joint_group_exposure"] == 3_000 + 7_000 + 3_000
    # the periodic re-review: J2's borrower has a substandard loan: freeze
    assert m["rereview_due"] == len(review.rereview)
    assert review.rereview.loc["HJ2" if "HJ2" in review.rereview.index else "H2", "action"] == (
        "freeze"
    )
    assert review.rereview_model is None  # no approved model in this store
    # scoped to a branch without the group's loans: no groups
    book.loans.loc[book.loans["loan_id"] == "X", "branch"] = "东部"
    assert len(post_loan_review(book, AS_OF, branch="东部").groups) == 0
