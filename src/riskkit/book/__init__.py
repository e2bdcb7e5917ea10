"""The loan book: data model, validation, schedules and delinquency derivations."""

from .delinquency import delinquency_history, delinquency_status
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
from .loanbook import LoanBook
from .schedule import make_schedule

__all__ = [
    "CivilCapacity",
    "CollateralType",
    "IdType",
    "IncomeSource",
    "ResidenceStatus",
    "GuaranteeType",
    "LoanBook",
    "PaymentSource",
    "RecoveryStatus",
    "RepaymentMethod",
    "Segment",
    "delinquency_history",
    "delinquency_status",
    "make_schedule",
]
