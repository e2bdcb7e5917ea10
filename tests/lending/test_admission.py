"""Admission rules (seed 000 art. 5) and loan conditions (art. 12): every rule fails on the fact
it is about, says so in English and Chinese, follows its policy parameter, and a batch is
judged at once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskkit.errors import ValidationError
from riskkit.lending.admission import ADMISSION_RULES, LOAN_RULES, check_admission, rule_table
from tests.lending.helpers import DAY, application, customer, frame

# (customer changes, application changes, rule, fact in the English explanation)
CASES = [
    ({"birth_date": pd.Timestamp("2009-01-01")}, {}, "age", "aged 17 at the decision date, below 18"),
    ({"birth_date": pd.Timestamp("1961-06-01")}, {"term_months": 12}, "age",
     "aged 66 at maturity (2027-11-05), above 65"),
    ({"birth_date": None}, {}, "age", "date of birth not recorded"),
    ({"civil_capacity": "limited"}, {}, "civil_capacity", "civil capacity: limited"),
    ({"id_expiry_date": pd.Timestamp("2026-11-04")}, {}, "id_valid", "ID expired on 2026-11-04 (must be valid at the decision date)"),
    ({"id_expiry_date": None}, {}, "id_valid", "ID expiry not recorded"),
    ({"income_source": "other"}, {}, "income_stable", "income source 'other' not accepted"),
    ({"income_verified_date": pd.Timestamp("2026-05-04")}, {}, "income_verified",
     "income verified more than 6 months before the decision: 2026-05-04"),
    ({"credit_report_date": pd.Timestamp("2026-10-05")}, {}, "credit_report",
     "credit report older than 30 days: 2026-10-05"),
    ({"overdue_elsewhere": 3000.0}, {}, "no_current_overdue", "3000 RMB overdue elsewhere (at most 0)"),
    ({"worst_delinquency_days": 91}, {}, "worst_delinquency", "worst past delinquency 91 days, above 90"),
    ({"residence_status": "non_local"}, {}, "residence", "residence status 'non_local'"),
    ({"residence_status": "local_resident", "residence_since": pd.Timestamp("2026-06-01")}, {},
     "residence", "resident here since 2026-06-01, under 6 months"),
    ({"business_start_date": pd.Timestamp("2026-01-10")}, {}, "business_operating",
     "business operating since 2026-01-10, under 12 months"),
    ({}, {"product": "gold_loan"}, "product_known", "unknown product 'gold_loan'"),
    ({}, {"purpose": "securities investment"}, "purpose_allowed",
     "purpose 'securities investment' not on the product's list"),
    ({}, {"amount": 600_000.0, "guarantee_type": "mortgage", "collateral_value": 1e6},
     "amount_within_limits", "amount 600000 above the product maximum"),
    ({}, {"term_months": 48}, "term_within_limits", "term 48 months outside the product's range"),
    ({}, {"annual_rate": 0.26}, "rate_within_limits", "rate 26.00% above the ceiling 24%"),
]  # fmt: skip


@pytest.mark.parametrize(("cust", "app", "rule", "fact"), CASES)
def test_each_rule_fails_on_its_fact_and_explains_it(cust, app, rule, fact):
    c = frame([customer("B1", **cust)])
    app = dict(app)
    a = frame([application("A1", "B1", app.pop("amount", 50_000), **app)])
    res = check_admission(a, c)
    assert res.failed_codes("A1") == [rule]
    row = res.failures.iloc[0]
    assert row["explanation_en"] == fact
    assert row["explanation_zh"]  # Chinese text for every failure
    kind = "admission" if rule in ADMISSION_RULES else "loan"
    assert row["kind"] == kind
    t = res.table.loc["A1"]
    assert bool(t["admitted"]) == (kind != "admission")
    assert bool(t["terms_ok"]) == (kind != "loan")
    assert not t["eligible"]
    assert any(line.startswith(f"[fail] {rule} ") and fact in line for line in res.explain("A1"))


def test_a_clean_application_passes_every_rule_and_says_so():
    res = check_admission(frame([application("A1", "B1", 50_000)]), frame([customer("B1")]))
    assert res.table.loc["A1", "eligible"] and res.table.loc["A1", "n_failed"] == 0
    lines = res.explain("A1", lang="zh")
    assert lines[0] == "A1: 准入通过"
    assert len(lines) == 1 + len(ADMISSION_RULES) + len(LOAN_RULES)
    assert all(line.startswith("[pass]") for line in lines[1:])
    assert "[pass] age (000 art. 5(1)): 决策日年满18周岁，贷款到期时不超过65周岁" in lines


def test_parameters_come_from_the_policy():
    c = frame([customer("B1", income_verified_date=pd.Timestamp("2026-07-01"))])
    a = frame([application("A1", "B1", 50_000)])
    assert check_admission(a, c).failed_codes("A1") == []  # within 6 months
    pol = {"admission": {"rules": {"income_verified": {"within_months": 3}}}}
    res = check_admission(a, c, policy=pol)
    assert res.failed_codes("A1") == ["income_verified"]
    assert "income verified within 3 months" in rule_table(pol).loc["income_verified", "en"]
    off = {"admission": {"rules": {"income_verified": {"enabled": False, "within_months": 3}}}}
    assert check_admission(a, c, policy=off).failed_codes("A1") == []


def test_the_decision_date_is_the_application_date_unless_given():
    c = frame([customer("B1", id_expiry_date=pd.Timestamp("2026-11-20"))])
    a = frame([application("A1", "B1", 50_000)])
    assert check_admission(a, c).table.loc["A1", "admitted"]  # valid on 2026-11-05
    later = check_admission(a, c, as_of="2026-11-21")
    assert later.failed_codes("A1") == ["id_valid"]


def test_overdue_with_us_and_exposure_limit_use_the_book():
    c = frame([customer("B1")])
    a = frame([application("A1", "B1", 300_000, "guaranteed"),
               application("A2", "B1", 300_000, "guaranteed")])  # fmt: skip
    exposure = pd.DataFrame({"outstanding": [450_000.0], "days_past_due": [12]}, index=["B1"])
    res = check_admission(a, c, exposure=exposure)
    f = res.failures.set_index(["application_id", "rule"])
    assert (
        f.loc[("A1", "no_current_overdue"), "explanation_en"] == "a loan with us 12 days past due"
    )
    # 450,000 outstanding + 600,000 asked in this batch = 1,050,000 > 1,000,000
    assert f.loc[("A2", "amount_within_limits"), "explanation_en"] == (
        "borrower's exposure with this request 1050000 RMB above 1,000,000"
    )


def test_bad_applications_are_errors_naming_column_id_and_rule():
    a = frame([application("A1", "B9", -5.0, "joint")])
    with pytest.raises(ValidationError) as exc:
        check_admission(a, frame([customer("B1")]))
    msg = str(exc.value)
    assert "applications.amount: must be > 0" in msg and "A1" in msg
    assert "applications.group_id: a joint guarantee needs its group" in msg
    assert "applications.borrower_id: applicant not in the customer register" in msg


def test_a_batch_is_judged_at_once_and_counted_by_rule():
    n = 2_000
    rng = np.random.default_rng(0)
    cust = frame([customer(f"B{i}") for i in range(n)])
    stale = rng.random(n) < 0.1
    cust.loc[stale, "credit_report_date"] = pd.Timestamp("2026-01-01")
    apps = frame([application(f"A{i}", f"B{i}", 50_000) for i in range(n)])
    res = check_admission(apps, cust)
    assert int((~res.table["admitted"]).sum()) == int(stale.sum())
    assert res.by_rule().loc["credit_report", "failed"] == int(stale.sum())
    assert (
        res.table.index[~res.table["admitted"]].tolist() == apps["application_id"][stale].tolist()
    )
    assert DAY == res.table["decision_date"].iloc[0]
