"""Loan-loss provisions (贷款损失准备, DOMAIN.md s.6) and expected credit loss.

:mod:`~riskkit.provisions.reserves`: general and specific reserves by category (PBoC guideline
of 2002 as policy defaults), NPL ratio and coverage, by branch, product or officer.
:mod:`~riskkit.provisions.ecl`: expected credit loss under CAS 22 / IFRS 9 (staging, PD term
structures from the migration matrices, EAD from the schedules, workout LGD, weighted
scenarios); :mod:`~riskkit.provisions.movement`: the allowance's month-on-month movement by
stage; :mod:`~riskkit.provisions.adequacy`: provisions against the ECL and the regulator's
floors (拨备覆盖率, 贷款拨备率).

Examples
--------
>>> from riskkit.provisions import specific_ratios
>>> specific_ratios().tolist()
[0.0, 0.02, 0.25, 0.5, 1.0]
"""

from .adequacy import AdequacyResult, adequacy_of_totals, provisioning_adequacy
from .ecl import ECLModel, ECLResult, prepayment_rate
from .movement import ECLMovement, ecl_movement
from .reserves import ProvisionReport, provisions, specific_ratios
from .staging import assign_stages

__all__ = [
    "AdequacyResult",
    "ECLModel",
    "ECLMovement",
    "ECLResult",
    "ProvisionReport",
    "adequacy_of_totals",
    "assign_stages",
    "ecl_movement",
    "prepayment_rate",
    "provisioning_adequacy",
    "provisions",
    "specific_ratios",
]
