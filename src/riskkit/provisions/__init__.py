"""Loan-loss provisions (贷款损失准备, DOMAIN.md s.6).

:mod:`~riskkit.provisions.reserves`: general and specific reserves by category (PBoC guideline
of 2002 as policy defaults), NPL ratio and coverage, by branch, product or officer.

Examples
--------
>>> from riskkit.provisions import specific_ratios
>>> specific_ratios().tolist()
[0.0, 0.02, 0.25, 0.5, 1.0]
"""

from .reserves import ProvisionReport, provisions, specific_ratios

__all__ = ["ProvisionReport", "provisions", "specific_ratios"]
