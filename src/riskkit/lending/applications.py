"""Credit applications (贷款申请): the table a lender's process starts from, validated at the
boundary like the loan book.

One row per application:

=================== ===========================================================================
column              meaning
=================== ===========================================================================
application_id      id
borrower_id         the applicant in the customer register (:mod:`riskkit.book.customers`)
application_date    date of the application (rules are judged at a decision date, default this)
product             product code of policy ``products`` (business_loan, agri_loan, ...)
amount              RMB requested (> 0)
term_months         whole months
annual_rate         yearly fraction (0.12 = 12%)
repayment_method    annuity, equal_principal, interest_only, bullet
guarantee_type      credit, guaranteed, joint, mortgage, pledge
purpose             use of the funds (checked against the product's purposes)
officer_id          the loan officer who takes the application
branch              branch
group_id            optional; required for ``joint``: the joint-guarantee group (三户联保)
collateral_value    optional; appraised value (required > 0 for mortgage and pledge)
other_debt_service  optional; the applicant's other monthly debt payments (RMB)
n_guarantors        optional; guarantors of a ``guaranteed`` application
admission_override  optional bool: the officer asks to lend despite a failed admission rule
                    (only the credit committee can grant it)
=================== ===========================================================================

Examples
--------
>>> import pandas as pd
>>> apps = pd.DataFrame({"application_id": ["A1"], "borrower_id": ["B1"],
...     "application_date": pd.to_datetime(["2026-11-03"]), "product": ["business_loan"],
...     "amount": [80_000.0], "term_months": [12], "annual_rate": [0.15],
...     "repayment_method": ["annuity"], "guarantee_type": ["joint"],
...     "purpose": ["stock purchase"], "officer_id": ["O01"], "branch": ["城关支行"]})
>>> validate_applications(apps)
Traceback (most recent call last):
...
riskkit.errors.ValidationError: 1 problem(s) in credit applications:
  - applications.group_id: a joint guarantee needs its group (group_id) [1 row(s); application A1]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..book.enums import GuaranteeType, RepaymentMethod
from ..book.schema import MAX_ANNUAL_RATE, MAX_LOAN_AMOUNT, MAX_TERM_MONTHS, Column, TableSpec
from ..book.validate import floats, isin_values, validate_table
from ..errors import ProblemCollector

APPLICATIONS = TableSpec(
    "applications",
    (
        Column("application_id", "id"),
        Column("borrower_id", "id"),
        Column("application_date", "date"),
        Column("product", "str"),
        Column("amount", "num"),
        Column("term_months", "int"),
        Column("annual_rate", "num"),
        Column("repayment_method", "enum", tuple(RepaymentMethod.values())),
        Column("guarantee_type", "enum", tuple(GuaranteeType.values())),
        Column("purpose", "str"),
        Column("officer_id", "id"),
        Column("branch", "str"),
        Column("group_id", "id", required=False, nullable=True),
        Column("collateral_value", "num", required=False, nullable=True),
        Column("other_debt_service", "num", required=False, nullable=True),
        Column("n_guarantors", "int", required=False, nullable=True),
        Column("admission_override", "bool", required=False),
    ),
    key=("application_id",),
)
#: Store table of the applications received (append-only).
TABLE = "credit_applications"


def validate_applications(applications: pd.DataFrame, customers: pd.DataFrame | None = None):
    """Check applications (columns, kinds, values, references); raise one
    :class:`~riskkit.errors.ValidationError` naming column, application id and rule.

    With ``customers`` (the customer register) every applicant must be in it.
    """
    errors = ProblemCollector("credit applications")
    if not validate_table(applications, "applications", errors, spec=APPLICATIONS):
        errors.raise_if_any()
    a = applications
    ids = a["application_id"]
    amt = floats(a["amount"])
    errors.check(
        "applications",
        "amount",
        (amt <= 0) | (amt > MAX_LOAN_AMOUNT),
        ids,
        f"must be > 0 and <= {MAX_LOAN_AMOUNT:,.0f}",
    )
    rate = floats(a["annual_rate"])
    errors.check(
        "applications",
        "annual_rate",
        (rate < 0) | (rate > MAX_ANNUAL_RATE),
        ids,
        f"must be a yearly fraction in [0, {MAX_ANNUAL_RATE}] (0.12 = 12%)",
    )
    term = a["term_months"].to_numpy()
    errors.check(
        "applications", "term_months", (term < 1) | (term > MAX_TERM_MONTHS), ids, "must be 1..360"
    )
    _check_structure(a, ids, errors)
    if customers is not None:
        unknown = ~isin_values(a["borrower_id"], customers["borrower_id"])
        errors.check(
            "applications", "borrower_id", unknown, ids, "applicant not in the customer register"
        )
    errors.raise_if_any()


def _check_structure(a: pd.DataFrame, ids, errors: ProblemCollector) -> None:
    g = a["guarantee_type"].astype(object).to_numpy()
    group = (
        a["group_id"].notna().to_numpy(dtype=bool) if "group_id" in a else np.zeros(len(a), bool)
    )
    errors.check(
        "applications",
        "group_id",
        (g == "joint") & ~group,
        ids,
        "a joint guarantee needs its group (group_id)",
    )
    errors.check(
        "applications",
        "group_id",
        (g != "joint") & group,
        ids,
        "only joint guarantees have a group",
    )
    secured = np.isin(g, ["mortgage", "pledge"])
    value = floats(a["collateral_value"]) if "collateral_value" in a else np.full(len(a), np.nan)
    errors.check(
        "applications",
        "collateral_value",
        secured & ~(value > 0),
        ids,
        "a mortgage or pledge needs the appraised value of the collateral (> 0)",
    )
    for col in ("collateral_value", "other_debt_service"):
        if col in a:
            errors.check("applications", col, floats(a[col]) < 0, ids, "must be >= 0")


def column_or(applications: pd.DataFrame, column: str, default) -> np.ndarray:
    """``applications[column]`` as an array with missing values (or a missing column) filled
    with ``default``."""
    if column not in applications.columns:
        return np.full(len(applications), default)
    s = applications[column]
    if pd.api.types.is_bool_dtype(s.dtype) or isinstance(default, bool):
        return s.astype("boolean").fillna(default).to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(s.dtype):
        v = s.to_numpy(dtype=float, na_value=np.nan)
        return np.where(np.isnan(v), default, v)
    return s.astype(object).where(s.notna(), default).to_numpy()
