"""What the credit committee decides on, per application of a meeting's agenda: the facts the
committee's screen, the committee pack and the sample process all show and use.

:func:`meeting_facts` judges the agenda at the meeting date: admission rules and loan
conditions (:mod:`~.admission`), the joint-guarantee groups with the requests
(:mod:`~.groups`), the approved champion's scores (:mod:`~.scoring`; none without an approved
model) and, per application, the assessment (limit by guarantee structure and repayment
capacity, expected loss, price floor, recommendation and counter-offer; admission failures are
hard rules: a customer who fails one is declined unless the committee grants the override
that was asked for).

Examples
--------
>>> from riskkit.lending.agenda import against_rules_text
>>> against_rules_text("approved", "approve", None, "")
(None, '', '')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..book.groups import GroupExposure
from .admission import AdmissionResult, check_admission
from .scoring import ApplicationScores


@dataclass
class MeetingFacts:
    """The agenda's facts at the meeting date (:func:`meeting_facts`)."""

    applications: pd.DataFrame  # indexed by application_id
    customers: pd.DataFrame  # the applicants' register records, indexed by borrower_id
    admission: AdmissionResult
    groups: GroupExposure
    scores: ApplicationScores | None
    features: pd.DataFrame | None
    model: Any
    model_label: str | None
    policy: object

    def assessment(self, app_id):
        """Limit, affordability, loss, price and recommendation of one application."""
        from .assessment import Reason
        from .terms import Application

        a = self.applications.loc[app_id]
        c = self.customers.loc[a["borrower_id"]]
        households = 3
        g = a["group_id"]
        if pd.notna(g) and g in self.groups.table.index:
            households = int(self.groups.table.at[g, "households"])
        app = Application(
            amount=float(a["amount"]), term_months=int(a["term_months"]),
            annual_rate=float(a["annual_rate"]), repayment_method=str(a["repayment_method"]),
            guarantee_type=str(a["guarantee_type"]), monthly_income=float(c["monthly_income"]),
            collateral_value=float(np.nan_to_num(a["collateral_value"])), households=households,
            other_debt_service=float(np.nan_to_num(a["other_debt_service"])),
            application_id=str(app_id),
        )  # fmt: skip
        effect = "condition" if bool(a["admission_override"]) else "decline"
        f = self.admission.failures
        extra = tuple(
            Reason(f"admission_{r.rule}", effect, f"{r.rule}: {r.explanation_en}")
            for r in f[f["application_id"] == app_id].itertuples()
        )
        return self._assess(app, app_id, extra)  # a floor above the legal cap declines there

    def _assess(self, app, app_id, extra):
        from .assessment import assess_application
        from .decision import assess_with_model

        if self.model is None:
            return assess_application(app, 0.0, policy=self.policy, extra_reasons=extra)
        assert self.features is not None  # scored whenever there is a model
        return assess_with_model(app, self.features.loc[app_id], self.model, policy=self.policy,
                                 model_version=self.model_label, extra_reasons=extra)  # fmt: skip


def legal_rate_cap(policy) -> float:
    """The regulator's annualised rate ceiling (policy ``regulator.max_annual_rate``)."""
    from ..policy import Policy, load_policy

    p = policy if isinstance(policy, Policy) else load_policy(policy)
    return float(p["regulator"]["max_annual_rate"])


def meeting_facts(process, meeting, *, model=None, model_label=None) -> MeetingFacts:
    """The facts of ``meeting``'s agenda at its date; ``model`` defaults to the store's
    approved champion (none: no scores)."""
    from ..errors import ValidationError
    from .scoring import application_features, champion_scorecard, score_applications

    if model is None:
        try:
            model, model_label = champion_scorecard(process.store)
        except ValidationError:
            model, model_label = None, None
    apps = process.applications(list(meeting.agenda))
    ctx = process.context(apps, meeting.meeting_date)
    adm = check_admission(apps, ctx["customers"], meeting.meeting_date,
                          exposure=ctx["exposure"], policy=process.policy, validate=False)  # fmt: skip
    scores = features = None
    if model is not None and len(apps):
        features = application_features(apps, ctx["customers"], ctx["book"])
        scores = score_applications(model, apps, ctx["customers"], ctx["book"],
                                    label=model_label, policy=process.policy)  # fmt: skip
    return MeetingFacts(
        apps.set_index("application_id"), ctx["customers"].set_index("borrower_id"), adm,
        ctx["groups"], scores, features, model, model_label, process.policy,
    )  # fmt: skip


def against_rules(assessment, outcome: str) -> tuple:
    """``(amount, note, warning)`` when a committee approves what the rules decline (see
    :func:`against_rules_text`)."""
    why = "; ".join(r.text for r in assessment.reasons if r.effect in ("hard", "decline"))
    offer = getattr(assessment, "counter_offer", None)
    amount = None if offer is None else float(offer.application.amount)
    return against_rules_text(outcome, assessment.recommendation, amount, why)


def against_rules_text(outcome: str, recommendation: str, offer, why: str) -> tuple:
    """An approval of a request the rules decline as requested is recorded at the
    counter-offer; of one the rules decline outright, as the committee's exception."""
    if not outcome.startswith("approved") or recommendation not in (
        "decline",
        "decline as requested",
    ):
        return None, "", ""
    if recommendation == "decline as requested" and offer is not None:
        return offer, f"declined as requested ({why}); counter-offer of {offer:,.0f} approved", (
            f"The request breaks a hard rule ({why}): it is declined as requested and the "
            f"counter-offer of {offer:,.0f} approved."
        )  # fmt: skip
    return None, f"approved as the committee's exception to the rules ({why})", (
        f"The rules recommend declining ({why}): an approval is the committee's exception, "
        "recorded with the reasons of the members voting for it."
    )  # fmt: skip


@dataclass(frozen=True)
class Ruling:
    """What a committee outcome becomes under the rules (:func:`committee_ruling`)."""

    decision: str
    amount: float | None
    conditions: tuple
    note: str
    waivers: dict


def committee_ruling(outcome: str, conditions, assessment, reasons_for=(), waivers=None) -> Ruling:
    """The decision to record for a committee ``outcome`` given the rules' ``assessment``.

    An approval of a request the rules decline as requested is recorded as
    ``counter_offer_approved`` at the counter-offer's amount; of one they decline outright, as
    the committee's exception with the reasons of the members voting for (``reasons_for``,
    required). A rate below the risk-based floor of the terms approved adds the condition to
    reprice, unless ``waivers`` (code -> reason) waives it with a reason.

    Examples
    --------
    >>> from riskkit.lending import Application, assess_application
    >>> app = Application(amount=800_000, term_months=12, annual_rate=0.12,
    ...                   repayment_method="annuity", guarantee_type="guaranteed",
    ...                   monthly_income=12_000)
    >>> r = committee_ruling("approved", (), assess_application(app, pd_=0.02))  # 6,000 a month
    >>> r.decision, r.amount
    ('counter_offer_approved', 67000.0)
    """
    from ..errors import Problem, ValidationError

    if not outcome.startswith("approved"):
        return Ruling(outcome, None, tuple(conditions), "", {})
    basis, amount, note = assessment, None, ""
    offer = assessment.counter_offer
    decision = outcome
    amount, note, _ = against_rules(assessment, outcome)
    if amount is not None and offer is not None:
        decision, basis = "counter_offer_approved", offer
    elif note:
        why = [r for r in reasons_for if str(r).strip()]
        if not why:
            raise ValidationError([Problem("committee", "comment", f"application "
                                   f"{assessment.application.application_id}: an approval the "
                                   "rules decline needs the reasons of the members voting for "
                                   "it (the committee's exception)")], "credit committee")  # fmt: skip
        note += ": " + "; ".join(dict.fromkeys(why))
    conds, done = _reprice(basis, list(conditions), dict(waivers or {}))
    if decision == "approved" and conds:
        decision = "approved_with_conditions"
    return Ruling(decision, amount, tuple(conds), note, done)


def _reprice(basis, conds: list, waivers: dict) -> tuple[list, dict]:
    """The reprice condition of terms priced below their risk-based floor, or its waiver."""
    done = {}
    for r in basis.reasons:
        if r.code != "rate_below_floor":
            continue
        why = str(waivers.get(r.code, "")).strip()
        if why:
            done[r.code] = f"{r.text} -- waived: {why}"
        else:
            conds.append(f"reprice to at least the risk-based floor {basis.price_floor:.2%} "
                         f"(rate {basis.application.annual_rate:.2%})")  # fmt: skip
    return conds, done
