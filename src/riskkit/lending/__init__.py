"""Lending decisions for one application or a whole sample: credit limit by guarantee structure,
installment and installment-to-income, expected loss, risk-based price floor and a
recommendation with its reasons.

All rules are policy data (``limits:`` section of the policy YAML, DOMAIN.md s.2 and s.7):

* **Limit by guarantee structure** (seed 002): pure credit ``limits.credit``; one guarantor
  ``limits.guaranteed`` *in total* (borrower and guarantor do not each get it); a three-household
  joint guarantee ``limits.joint_per_member`` for *each* member (the applicant's own limit; the
  group may borrow ``households x`` that); a joint group with fewer than
  ``limits.joint_min_households`` households counts as a single guarantee; mortgage and pledge
  ``ltv x appraised value``.
* **Repayment capacity**: the largest amount whose monthly debt service keeps
  ``(debt service + other debts) / monthly income`` within ``limits.max_installment_to_income``.
* **Suggested limit** = the smaller of the two, rounded down to ``limits.limit_rounding``.
* **Monthly debt service** of a loan: its largest scheduled payment for amortising methods
  (annuity: the level installment; equal principal: the first, largest one); for interest-only
  and bullet loans the total payable spread evenly over the term (the principal due at maturity
  is reported separately as the balloon).
* **Expected loss** = PD x LGD x EAD with EAD the amount lent; LGD by guarantee type, and for
  mortgage/pledge ``max(lgd[type], lgd.credit x max(0, EAD - ltv x value) / EAD)``.
* **Price floor** (annual rate) = cost of funds + PD x LGD + operating cost + margin.

Examples
--------
>>> from riskkit.lending import Application, assess_application
>>> app = Application(amount=300_000, term_months=12, annual_rate=0.12,
...                   repayment_method="annuity", guarantee_type="guaranteed",
...                   monthly_income=60_000)
>>> a = assess_application(app, pd_=0.05)
>>> a.suggested_limit, round(a.installment, 2), a.recommendation
(337000.0, 26654.64, 'approve')

Modules: :mod:`~riskkit.lending.terms` (an application's terms and their checks),
:mod:`~.limits` (limit by guarantee structure), :mod:`~.affordability` (debt service and
repayment capacity), :mod:`~.pricing` (LGD, expected loss, price floor), :mod:`~.assessment`
(one application's recommendation: hard rules first, counter-offer), :mod:`~.decision` (the
scorecard's PD for the terms asked, never lowered by a larger amount), :mod:`~.cutoff` (score
cut-off strategy).

The lender's process before the loan (issue 13): :mod:`~.applications` (the applications
table), :mod:`~.admission` (admission rules and loan conditions as policy, for a batch),
:mod:`~.approval` (the authority matrix and separation of duties), :mod:`~.process` (every step
on record, disbursement conditions), :mod:`~.committee` (meetings, quorum, votes, outcome),
:mod:`~.scoring` (applications scored by the approved champion), :mod:`~.agenda` (what the
committee decides on); joint-guarantee groups are :mod:`riskkit.book.groups` (re-exported
here), the periodic re-review :mod:`riskkit.inspection.rereview`.
"""

from ..book.groups import GroupExposure, group_exposure, guarantor_liability_signals
from .admission import AdmissionResult, borrower_exposure, check_admission
from .affordability import capacity_limit, monthly_debt_service
from .applications import APPLICATIONS, validate_applications
from .approval import Route, SeparationOfDutiesError, approval_route, check_separation
from .assessment import (
    RECOMMENDATIONS,
    Assessment,
    Reason,
    assess_application,
    recommendation,
    term_features,
)
from .committee import CreditCommittee, QuorumError, committee_outcome
from .cutoff import cutoff_strategy
from .decision import (
    DERIVED_FEATURES,
    amount_breakpoints,
    amount_monotone_pd,
    amount_monotone_risk,
    assess_with_champion,
    assess_with_model,
    model_input,
)
from .limits import GUARANTEE_LABELS, credit_limit, suggested_limit
from .pricing import expected_loss, loss_given_default, price_floor
from .process import CreditProcess, DisbursementCheck, ProcessError
from .terms import AMORTISING_METHODS, Application

__all__ = [
    "APPLICATIONS",
    "AdmissionResult",
    "CreditCommittee",
    "CreditProcess",
    "DisbursementCheck",
    "GroupExposure",
    "ProcessError",
    "QuorumError",
    "Route",
    "SeparationOfDutiesError",
    "approval_route",
    "borrower_exposure",
    "check_admission",
    "check_separation",
    "committee_outcome",
    "group_exposure",
    "guarantor_liability_signals",
    "validate_applications",
    "AMORTISING_METHODS",
    "DERIVED_FEATURES",
    "RECOMMENDATIONS",
    "amount_breakpoints",
    "amount_monotone_pd",
    "amount_monotone_risk",
    "assess_with_champion",
    "assess_with_model",
    "model_input",
    "GUARANTEE_LABELS",
    "Application",
    "Assessment",
    "Reason",
    "assess_application",
    "capacity_limit",
    "credit_limit",
    "cutoff_strategy",
    "expected_loss",
    "loss_given_default",
    "monthly_debt_service",
    "price_floor",
    "recommendation",
    "suggested_limit",
    "term_features",
]
