"""The loan book: data model, validation, schedules and delinquency derivations."""

from .delinquency import delinquency_history, delinquency_status
from .enums import (
    CollateralType,
    GuaranteeType,
    PaymentSource,
    RecoveryStatus,
    RepaymentMethod,
    Segment,
)
from .loanbook import LoanBook
from .schedule import make_schedule

__all__ = [
    "CollateralType",
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
