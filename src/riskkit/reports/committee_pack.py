"""The credit committee pack (贷审会材料): per meeting date, the agenda's applications with
everything the committee decides on, and the decisions taken once recorded.

No rule lives here: the facts come from :func:`riskkit.lending.agenda.meeting_facts`
(admission, groups, the approved champion's scores, the assessment), the route and steps from
the credit process on record, the decisions from the committee's votes. This module gathers
tables for the notebook ``notebooks/committee_pack.ipynb`` (personal data masked).

Examples
--------
>>> from riskkit.reports.committee_pack import PACK_COLUMNS
>>> PACK_COLUMNS[:3]
('application_id', 'borrower_id', 'name')
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..privacy import mask_frame
from ..results import TableResult
from .params import COMMON, Param, ReportSpec, register

register(
    ReportSpec(
        "committee_pack",
        "Credit committee pack",
        COMMON
        + (
            Param(
                "meeting_id",
                "str",
                None,
                "one meeting (default: every meeting on the date)",
                nullable=True,
            ),  # fmt: skip
            Param("policy_file", "path", None, "institution policy YAML", nullable=True),
        ),
        "Per meeting date: the agenda's applications with admission, the approved champion's "
        "score and reasons, limits and recommendation, joint-group exposure, route and steps "
        "(personal data masked), and the decisions taken once recorded.",
        in_batch=False,
    )
)

#: Columns of the agenda overview.
PACK_COLUMNS = (
    "application_id", "borrower_id", "name", "product", "amount", "guarantee_type",
    "admission", "grade", "pd", "recommendation", "limit_allowed", "at_stake", "route",
    "decision", "amount_approved",
)  # fmt: skip


@dataclass
class AgendaItem:
    """One application of the pack: small tables the notebook shows in turn."""

    application_id: str
    terms: pd.DataFrame
    admission: pd.DataFrame
    score: pd.DataFrame
    limits: pd.DataFrame
    reasons: pd.DataFrame
    group: pd.DataFrame
    steps: pd.DataFrame
    votes: pd.DataFrame
    decision: dict = field(default_factory=dict)


@dataclass
class CommitteePack(TableResult):
    """The pack of one meeting date (:func:`committee_pack`); ``table`` is the agenda overview
    of every meeting that day."""

    meeting_date: pd.Timestamp
    meetings: pd.DataFrame
    table: pd.DataFrame
    items: list
    metrics: dict

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def __repr__(self) -> str:
        m = self.metrics
        return (
            f"CommitteePack({self.meeting_date.date()}: {m['meetings']} meeting(s), "
            f"{m['applications']} applications, {m['decided']} decided)"
        )


def committee_pack(store, meeting_date, meeting_id=None, policy=None, lang: str = "en"):
    """The pack (:class:`CommitteePack`) for the meetings on ``meeting_date`` (or the one
    ``meeting_id``); rule texts in ``lang``."""
    from ..lending.agenda import meeting_facts
    from ..lending.committee import CreditCommittee
    from ..lending.process import CreditProcess

    proc = CreditProcess(store, policy)
    com = CreditCommittee(proc)
    d = pd.Timestamp(meeting_date).normalize()
    meetings = [com.meeting(meeting_id)] if meeting_id else com.meetings_on(d)
    if not meetings:
        raise ValueError(f"no committee meeting on {d.date()} in {store!r}")
    rows, items = [], []
    for m in meetings:
        facts = meeting_facts(proc, m)
        com._facts[m.meeting_id] = facts  # the facts the votes were checked against
        for app_id in m.agenda:
            item, row = _item(proc, com, m, facts, app_id, lang)
            items.append(item)
            rows.append(row)
    table = pd.DataFrame(rows, columns=list(PACK_COLUMNS)).set_index("application_id")
    return CommitteePack(
        d, _meetings_table(meetings, facts), table, items, _metrics(table, meetings)
    )


def _meetings_table(meetings, facts) -> pd.DataFrame:
    from ..lending.committee import committee_policy, needed

    c = committee_policy(facts.policy)
    share = f"{c['approve_share'].numerator}/{c['approve_share'].denominator}"
    return pd.DataFrame(
        [
            {
                "meeting_id": m.meeting_id,
                "chair": m.chair,
                "members": ", ".join(m.members),
                "present": ", ".join(m.present),
                "quorum": needed(c["quorum"], len(m.members)),
                "voting_rule": f"{share} of members voting; chair's veto "
                f"{'on' if c['chair_veto'] else 'off'}; tie {c['on_tie']}",
                "applications": len(m.agenda),
                "model": facts.model_label or "no approved model",
            }
            for m in meetings
        ]
    ).set_index("meeting_id")


def _item(proc, com, meeting, facts, app_id, lang) -> tuple[AgendaItem, dict]:
    a = facts.applications.loc[app_id]
    cust = mask_frame(facts.customers.loc[[a["borrower_id"]]].reset_index()).iloc[0]
    assessment = com.assessment(meeting.meeting_id, app_id)
    score = _score(facts, app_id)
    steps = _as_recorded(proc.file(app_id).table, meeting.meeting_date)
    decision = _decision(proc, com, meeting, app_id)
    adm = facts.admission
    allowed = limit_allowed(assessment)
    row = {
        "application_id": app_id,
        "borrower_id": a["borrower_id"],
        "name": cust.get("name", ""),
        "product": a["product"],
        "amount": float(a["amount"]),
        "guarantee_type": a["guarantee_type"],
        "admission": "pass" if adm.table.at[app_id, "admitted"] else adm.table.at[app_id, "failed"],
        "grade": score["grade"],
        "pd": score["pd"],
        "recommendation": assessment.recommendation,
        "limit_allowed": allowed,
        "at_stake": min(float(a["amount"]), allowed),
        "route": _route_reason(steps),
        "decision": decision.get("headline", ""),
        "amount_approved": decision.get("amount_approved", 0.0),
    }
    item = AgendaItem(
        application_id=app_id,
        terms=_terms(a, cust, meeting.meeting_date),
        admission=_admission(adm, app_id, lang),
        score=pd.DataFrame(
            {"value": {k: f"{v:.2%}" if k == "pd" else v for k, v in score.items()}}
        ),  # fmt: skip
        limits=_limits(assessment, allowed),
        reasons=pd.DataFrame(
            [(r.effect, r.text) for r in assessment.reasons], columns=["effect", "reason"]
        ),  # fmt: skip
        group=_group(facts, a),
        steps=steps.drop(columns=["step_id"]),
        votes=_votes(com, decision, app_id),
        decision=decision,
    )
    return item, row


def _score(facts, app_id) -> dict:
    if facts.scores is None:
        return {"model": "no approved model", "score": np.nan, "pd": np.nan, "grade": ""}
    t = facts.scores.table.loc[app_id]
    out = {"model": facts.model_label, "score": f"{t['score']:.0f}", "pd": float(t["pd"]),
           "grade": str(t["grade"])}  # fmt: skip
    for k in range(1, 4):
        if f"reason_{k}" in t.index and str(t[f"reason_{k}"]):
            out[f"reason {k}"] = f"{t[f'reason_{k}']} (-{float(t[f'points_lost_{k}']):.0f})"
    return out


def _terms(a, cust, day) -> pd.DataFrame:
    age = (day - cust["birth_date"]).days // 365 if pd.notna(cust.get("birth_date")) else None
    rows = {
        "customer": f"{a['borrower_id']} {cust.get('name', '')}",
        "id_number": cust.get("id_number", ""),
        "segment, age": f"{cust.get('segment', '')}, {age}",
        "product, purpose": f"{a['product']}, {a['purpose']}",
        "amount": f"{a['amount']:,.0f}",
        "term, rate": f"{a['term_months']} months, {a['annual_rate']:.2%}",
        "repayment": str(a["repayment_method"]),
        "guarantee": str(a["guarantee_type"])
        + (f" (group {a['group_id']})" if pd.notna(a["group_id"]) else ""),  # fmt: skip
        "officer, branch": f"{a['officer_id']}, {a['branch']}",
        "monthly income": f"{cust.get('monthly_income', float('nan')):,.0f}",
    }
    return pd.DataFrame({"value": rows})


def _admission(adm, app_id, lang) -> pd.DataFrame:
    lines = adm.explain(app_id, lang)[1:]
    return pd.DataFrame(
        [(ln[1:5], ln.split("] ", 1)[1]) for ln in lines], columns=["result", "admission_rule"]
    )


def limit_allowed(a) -> float:
    """The most the rules allow for this applicant: the suggested limit (structure and
    repayment capacity), nothing when the rules decline outright (e.g. PD above the policy
    maximum, floor above the legal rate cap, an admission failure)."""
    return 0.0 if a.recommendation == "decline" else float(a.suggested_limit)


def _limits(a, allowed: float) -> pd.DataFrame:
    rows = {
        "guarantee structure limit": f"{a.structure_limit:,.0f}",
        "repayment capacity": f"{a.capacity_limit:,.0f}",
        "limit allowed by the rules": f"{allowed:,.0f}"
        + ("" if allowed else f" (declined: {a.suggested_limit:,.0f} by structure and capacity)"),
        "requested": f"{a.application.amount:,.0f}",
        "at stake (min of requested and allowed)": f"{min(a.application.amount, allowed):,.0f}",
        "installment / income": f"{a.installment_to_income:.1%}",
        "expected loss": f"{a.expected_loss:,.0f}",
        "price floor / rate": f"{a.price_floor:.2%} / {a.application.annual_rate:.2%}",
    }
    offer = getattr(a, "counter_offer", None)
    if offer is not None:
        rows["counter-offer"] = f"{offer.application.amount:,.0f}"
    return pd.DataFrame({"value": rows})


def _group(facts, a) -> pd.DataFrame:
    g = a["group_id"]
    if pd.isna(g) or g not in facts.groups.table.index:
        return pd.DataFrame()
    return facts.groups.table.loc[[g]]


def _route_reason(steps: pd.DataFrame) -> str:
    r = steps[steps["what"] == "approval route"]
    return str(r["why"].iloc[-1]) if len(r) else ""


def _decision(proc, com, meeting, app_id) -> dict:
    s = proc.steps(app_id)
    mine = s[(s["step"] == "committee").to_numpy(dtype=bool)]
    mine = mine[mine["detail"].str.contains(f'"meeting_id": "{meeting.meeting_id}"', regex=False)]
    if not len(mine):
        return {}
    r = mine.iloc[-1]
    d = json.loads(r["detail"])
    amount = float(d["amount"]) if d.get("amount") else float(proc.application(app_id)["amount"])
    approved = r["decision"] in ("approved", "approved_with_conditions", "counter_offer_approved")
    return {"outcome": r["decision"], "tally": d.get("tally", ""), "meeting_id": d["meeting_id"],
            "conditions": "; ".join(json.loads(r["conditions"] or "[]")),
            "amount": d.get("amount"), "note": d.get("note", ""),
            "amount_approved": amount if approved else 0.0,
            "headline": decision_text(r["decision"], amount, d.get("note", "")),
            "dissent": "; ".join(f"{x['member']}: {x['comment']}" for x in d.get("dissent", []))}  # fmt: skip


def decision_text(decision: str, amount: float, note: str = "") -> str:
    """A recorded committee decision in words, with the amount approved.

    >>> decision_text("counter_offer_approved", 20_000)
    'declined as requested; counter-offer of 20,000 approved'
    >>> decision_text("approved_with_conditions", 50_000)
    'approved with conditions: 50,000'
    """
    if decision == "counter_offer_approved":
        return f"declined as requested; counter-offer of {amount:,.0f} approved"
    if decision in ("declined", "deferred"):
        return decision
    text = f"{decision.replace('_', ' ')}: {amount:,.0f}"
    if note.startswith("approved as the committee's exception"):
        text += " as the committee's exception to the rules"
    return text


def _as_recorded(steps: pd.DataFrame, day) -> pd.DataFrame:
    """The steps on file as recorded on the meeting date (later ones left out)."""
    end = pd.Timestamp(day).normalize() + pd.Timedelta(days=1)
    return steps[(pd.to_datetime(steps["decided_at"]) < end).to_numpy(dtype=bool)]


def _votes(com, decision, app_id) -> pd.DataFrame:
    if not decision:
        return pd.DataFrame()
    v = com.votes(decision["meeting_id"], app_id)
    v = v.assign(conditions=v["conditions"].map(lambda c: "; ".join(json.loads(c or "[]"))))
    return v[["member", "vote", "conditions", "comment"]]


def _metrics(table: pd.DataFrame, meetings) -> dict:
    dec = table["decision"]
    return {
        "meetings": len(meetings),
        "meeting_ids": [m.meeting_id for m in meetings],
        "applications": int(len(table)),
        "decided": int((dec != "").sum()),
        "approved": int(dec.str.startswith("approved").sum()),
        "exceptions": int(dec.str.endswith("exception to the rules").sum()),
        "declined": int((dec == "declined").sum()),
        "deferred": int((dec == "deferred").sum()),
        "admission_failed": int((table["admission"] != "pass").sum()),
        "recommended_decline": int(table["recommendation"].str.startswith("decline").sum()),
        "requested": float(table["amount"].sum()),
        "at_stake": float(table["at_stake"].sum()),
        "counter_offers": int(dec.str.startswith("declined as requested").sum()),
        "amount_approved": float(table["amount_approved"].sum()),
    }
