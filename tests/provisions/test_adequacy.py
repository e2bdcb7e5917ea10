"""Provisioning adequacy against the ECL and the regulator's floors, by hand."""

import pandas as pd
import pytest

from riskkit.policy import load_policy
from riskkit.provisions import provisioning_adequacy

LOANS = pd.DataFrame(
    {
        "category": ["normal", "special_mention", "substandard", "doubtful", "normal"],
        "outstanding_principal": [60_000.0, 20_000.0, 8_000.0, 2_000.0, 10_000.0],
        "branch": ["A", "A", "A", "B", "B"],
    },
    index=pd.Index(list("abcde"), name="loan_id"),
)


def test_book_level_by_hand():
    # loans 100,000; NPL 10,000. Category provisions: 1% x 100,000 + 2% x 20,000
    # + 25% x 8,000 + 50% x 2,000 = 1,000 + 400 + 2,000 + 1,000 = 4,400
    a = provisioning_adequacy(LOANS, ecl=6_000.0)
    t = a.total
    assert t["category_provisions"] == pytest.approx(4_400.0)
    assert t["held"] == pytest.approx(4_400.0)  # default: the category provisions are held
    assert t["coverage_floor_amount"] == pytest.approx(15_000.0)  # 150% x 10,000
    assert t["ratio_floor_amount"] == pytest.approx(2_500.0)  # 2.5% x 100,000
    assert t["regulatory_minimum"] == pytest.approx(15_000.0)
    assert t["required"] == pytest.approx(15_000.0) and t["binding"] == "coverage_floor"
    assert t["shortfall"] == pytest.approx(10_600.0)
    assert t["coverage_ratio"] == pytest.approx(0.44) and not t["coverage_ok"]
    assert t["loan_provision_ratio"] == pytest.approx(0.044) and t["ratio_ok"]
    assert a.flags() == ["provision_coverage_below_floor", "provisions_short_of_requirement"]


def test_ecl_binds_and_held_given():
    a = provisioning_adequacy(LOANS, ecl=20_000.0, held=25_000.0)
    t = a.total
    assert t["required"] == 20_000.0 and t["binding"] == "ecl"
    assert t["shortfall"] == 0.0 and a.flags() == []


def test_floors_within_the_regulators_ranges():
    pol = {"adequacy": {"provision_coverage_floor": 1.2, "loan_provision_ratio_floor": 0.015}}
    a = provisioning_adequacy(LOANS, ecl=0.0, policy=pol)
    assert a.total["coverage_floor_amount"] == pytest.approx(12_000.0)
    assert a.total["ratio_floor_amount"] == pytest.approx(1_500.0)
    with pytest.raises(ValueError, match="outside the range the regulator allows"):
        load_policy({"adequacy": {"provision_coverage_floor": 1.0}})
    with pytest.raises(ValueError, match="loan_provision_ratio_floor"):
        load_policy({"adequacy": {"loan_provision_ratio_floor": 0.03}})


def test_by_branch_adds_up():
    ecl = pd.Series([100.0, 200.0, 300.0, 400.0, 50.0], index=LOANS.index)
    a = provisioning_adequacy(LOANS, ecl=ecl, by="branch")
    t = a.table
    assert t.loc["A", "ecl"] == 600.0 and t.loc["B", "ecl"] == 450.0
    assert t.loc["total", "ecl"] == 1050.0
    # branch B: NPL 2,000 -> coverage floor 3,000; loans 12,000 -> ratio floor 300
    assert t.loc["B", "regulatory_minimum"] == pytest.approx(3_000.0)
    assert t.loc[["A", "B"], "shortfall"].sum() == pytest.approx(t.loc["total", "shortfall"])
