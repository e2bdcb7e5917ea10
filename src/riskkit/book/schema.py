"""Column specifications of the loan-book tables.

Each table is a pandas DataFrame; these specs say which columns it must have, of which kind,
and which values are allowed. Extra columns are kept untouched.

========== ===================================================================================
table      required columns (kind)
========== ===================================================================================
loans      loan_id (id), borrower_id (id), product (str), amount (num), disbursement_date
           (date), term_months (int), annual_rate (num), repayment_method (enum),
           guarantee_type (enum), purpose (str), officer_id (id), branch (str)
borrowers  borrower_id (id), segment (enum); optional name, id_number, phone, monthly_income and
           the customer-register fields of :data:`CUSTOMER_COLUMNS` (birth date, civil capacity,
           ID document and expiry, income source and verification, credit record, residence,
           business start; :mod:`riskkit.book.customers`)
guarantors loan_id (id), guarantor_id (id), kind ("person" | "company"), group_id (id or
           missing: the joint-guarantee group, e.g. a 三户联保 household triple)
collateral collateral_id (id), loan_id (id), collateral_type (enum), appraised_value (num),
           valuation_date (date); one row per valuation
schedule   loan_id (id), period (int, 1..n), due_date (date), principal_due (num),
           interest_due (num)
payments   loan_id (id), payment_date (date), amount (num); optional source ("borrower" |
           "guarantor" | "collateral" | "estate": who paid; missing = borrower)
signals    loan_id (id), signal_date (date), signal (catalogue code), source ("data" |
           "manual"), note (str)
recovery_  loan_id (id), status_date (date), status (workout status: collection,
status     guarantor_called, legal_action, collateral_sale, estate_claim, exhausted, cured),
           note (str, optional); one row per change of a defaulted loan's recovery status
========== ===================================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..risk_signals import SIGNAL_CODES
from .enums import (
    CivilCapacity,
    CollateralType,
    GuaranteeType,
    IdType,
    IncomeSource,
    PaymentSource,
    RecoveryStatus,
    RepaymentMethod,
    ResidenceStatus,
    Segment,
)

#: Absurd-amount ceilings: above these an amount is taken to be a data error.
MAX_LOAN_AMOUNT = 10_000_000.0
MAX_ANNUAL_RATE = 1.0
MAX_TERM_MONTHS = 360


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # id | str | num | int | date | enum | bool
    allowed: tuple[str, ...] = ()
    required: bool = True
    nullable: bool = False


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = field(default=())

    @property
    def required(self) -> list[Column]:
        return [c for c in self.columns if c.required]


LOANS = TableSpec(
    "loans",
    (
        Column("loan_id", "id"),
        Column("borrower_id", "id"),
        Column("product", "str"),
        Column("amount", "num"),
        Column("disbursement_date", "date"),
        Column("term_months", "int"),
        Column("annual_rate", "num"),
        Column("repayment_method", "enum", tuple(RepaymentMethod.values())),
        Column("guarantee_type", "enum", tuple(GuaranteeType.values())),
        Column("purpose", "str"),
        Column("officer_id", "id"),
        Column("branch", "str"),
    ),
    key=("loan_id",),
)
#: Optional borrower columns that make the borrowers table a customer register (客户档案, seed 000
#: arts. 5-9): what admission needs, checked by kind when present.
CUSTOMER_COLUMNS = (
    Column("birth_date", "date", required=False, nullable=True),
    Column("civil_capacity", "enum", tuple(CivilCapacity.values()), False, True),
    Column("id_type", "enum", tuple(IdType.values()), required=False, nullable=True),
    Column("id_expiry_date", "date", required=False, nullable=True),  # empty with id_long_term
    Column("id_long_term", "bool", required=False),  # 长期有效
    Column("income_source", "enum", tuple(IncomeSource.values()), False, True),
    Column("income_verified_date", "date", required=False, nullable=True),
    Column("credit_report_date", "date", required=False, nullable=True),  # 征信报告
    Column("prior_loans", "int", required=False, nullable=True),
    Column("prior_delinquency", "int", required=False, nullable=True),
    Column("worst_delinquency_days", "int", required=False, nullable=True),
    Column("overdue_elsewhere", "num", required=False, nullable=True),  # RMB overdue now
    Column("residence_status", "enum", tuple(ResidenceStatus.values()), False, True),
    Column("residence_since", "date", required=False, nullable=True),
    Column("business_start_date", "date", required=False, nullable=True),
    Column("onboarding_date", "date", required=False, nullable=True),
)
BORROWERS = TableSpec(
    "borrowers",
    (
        Column("borrower_id", "id"),
        Column("segment", "enum", tuple(Segment.values())),
        Column("monthly_income", "num", required=False, nullable=True),
        *CUSTOMER_COLUMNS,
    ),
    key=("borrower_id",),
)
GUARANTORS = TableSpec(
    "guarantors",
    (
        Column("loan_id", "id"),
        Column("guarantor_id", "id"),
        Column("kind", "enum", ("person", "company")),
        Column("group_id", "id", nullable=True),
    ),
    key=("loan_id", "guarantor_id"),
)
COLLATERAL = TableSpec(
    "collateral",
    (
        Column("collateral_id", "id"),
        Column("loan_id", "id"),
        Column("collateral_type", "enum", tuple(CollateralType.values())),
        Column("appraised_value", "num"),
        Column("valuation_date", "date"),
    ),
    key=("collateral_id", "valuation_date"),
)
SCHEDULE = TableSpec(
    "schedule",
    (
        Column("loan_id", "id"),
        Column("period", "int"),
        Column("due_date", "date"),
        Column("principal_due", "num"),
        Column("interest_due", "num"),
    ),
    key=("loan_id", "period"),
)
PAYMENTS = TableSpec(
    "payments",
    (
        Column("loan_id", "id"),
        Column("payment_date", "date"),
        Column("amount", "num"),
        Column("source", "enum", tuple(PaymentSource.values()), required=False, nullable=True),
    ),
)
SIGNALS = TableSpec(
    "signals",
    (
        Column("loan_id", "id"),
        Column("signal_date", "date"),
        Column("signal", "enum", SIGNAL_CODES),
        Column("source", "enum", ("data", "manual")),
        Column("note", "str", required=False, nullable=True),
    ),
)

RECOVERY_STATUS = TableSpec(
    "recovery_status",
    (
        Column("loan_id", "id"),
        Column("status_date", "date"),
        Column("status", "enum", tuple(RecoveryStatus.values())),
        Column("note", "str", required=False, nullable=True),
    ),
)

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        LOANS,
        BORROWERS,
        GUARANTORS,
        COLLATERAL,
        SCHEDULE,
        PAYMENTS,
        SIGNALS,
        RECOVERY_STATUS,
    )
}
