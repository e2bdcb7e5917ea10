"""The credit committee's working screen (贷审会): one meeting's agenda, each application with
everything the committee decides on, and the control that records the decision.

For the application chosen on the agenda the screen shows: the terms and the customer
(personal data masked), the admission rules and loan conditions at the meeting date (every
failure with its fact), the score, PD, grade and reason codes of the approved champion, the
limit by guarantee structure and repayment capacity with the recommendation (hard rules first:
a failed admission rule declines as requested), the joint-guarantee group's exposure against
its limit, the route (why the committee decides) and every step on file. Each member present
votes (members who handled the application are recused); **Record decision** shows the
outcome the policy's rule gives and asks for confirmation; **Confirm** writes the votes and
the decision to the store (:class:`riskkit.lending.committee.CreditCommittee`) and shows the
decision as read back from it.

The rules live in :mod:`riskkit.lending`; this module only wires controls to them.

Examples
--------
>>> from riskkit.widgets import committee_screen            # doctest: +SKIP
>>> committee_screen("sqlite:///data/riskkit.db")          # doctest: +SKIP
"""

from __future__ import annotations

import html
import json

import ipywidgets as w
import numpy as np
import pandas as pd

from ..errors import ValidationError
from ..lending.committee import VOTES, CreditCommittee, committee_outcome
from ..privacy import mask_frame
from .common import error_html, kv_html, money, pct

_BOX = {"border": "1px solid #ccd", "padding": "6px", "margin": "4px"}
_OUTCOME_COLOURS = {
    "approved": "#1a7f37",
    "approved_with_conditions": "#9a6700",
    "declined": "#a40000",
    "deferred": "#555",
}


def _panel(name: str) -> w.HTML:
    out = w.HTML(layout=w.Layout(**_BOX))
    out.add_class(f"rk-cm-{name}")
    return out


class CommitteeScreen(w.VBox):
    """The committee's screen for one meeting (an ``ipywidgets.VBox``); see
    :func:`committee_screen`.

    Controls: ``agenda`` (the application), ``votes`` (member -> (vote, conditions, comment)
    widgets), ``record`` and ``confirm`` / ``cancel`` buttons. Value widgets: ``header``,
    ``application_out``, ``admission_out``, ``score_out``, ``limit_out``, ``group_out``,
    ``route_out``, ``confirm_out``, ``decision_out``, ``error_out``.
    """

    def __init__(self, process, meeting_id: str, *, model=None, model_label=None):
        self.process = process
        self.committee = CreditCommittee(process)
        self.meeting = self.committee.meeting(meeting_id)
        self.policy = process.policy
        self.model, self.model_label = model, model_label
        self._facts()
        self._build()
        self._on_select({"new": self.agenda.value})

    # ------------------------------------------------------------------ data
    def _facts(self) -> None:
        """The agenda's facts at the meeting date (:func:`riskkit.lending.agenda.meeting_facts`)."""
        from ..lending.agenda import meeting_facts

        f = meeting_facts(self.process, self.meeting, model=self.model,
                          model_label=self.model_label)  # fmt: skip
        self.facts = f
        self.apps, self.customers, self.groups = f.applications, f.customers, f.groups
        self.admission, self.scores, self.features = f.admission, f.scores, f.features
        self.model, self.model_label = f.model, f.model_label

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        m = self.meeting
        style = {"description_width": "110px"}
        self.header = _panel("header")
        self.header.value = self._header_html()
        self.agenda = w.Dropdown(options=self._agenda_options(), description="Application",
                                 style=style, layout=w.Layout(width="520px"))  # fmt: skip
        self.agenda.add_class("rk-cm-agenda")
        names = ("application", "admission", "score", "limit", "group", "route")
        for n in names:
            setattr(self, f"{n}_out", _panel(n))
        self.votes = {}
        rows = [w.HTML("<b>Votes</b> (members present; those who handled the application are "
                       "recused)")]  # fmt: skip
        for member in m.present:
            vote = w.Dropdown(options=[("—", "")] + [(v.replace("_", " "), v) for v in VOTES],
                              value="", description=member, style={"description_width": "50px"},
                              layout=w.Layout(width="260px"))  # fmt: skip
            cond = w.Text(placeholder="conditions (; separated)", layout=w.Layout(width="300px"))
            why = w.Text(placeholder="reason / comment", layout=w.Layout(width="300px"))
            box = w.HBox([vote, cond, why])
            box.add_class(f"rk-cm-vote-{member}")
            self.votes[member] = (vote, cond, why)
            rows.append(box)
        self.record = w.Button(description="Record decision", button_style="primary")
        self.record.add_class("rk-cm-record")
        self.confirm = w.Button(description="Confirm", button_style="danger",
                                layout=w.Layout(display="none"))  # fmt: skip
        self.confirm.add_class("rk-cm-confirm")
        self.cancel = w.Button(description="Cancel", layout=w.Layout(display="none"))
        self.cancel.add_class("rk-cm-cancel")
        self.confirm_out = w.HTML()
        self.confirm_out.add_class("rk-cm-confirm-text")
        self.decision_out = _panel("decision")
        self.error_out = w.HTML()
        self.error_out.add_class("rk-cm-error")
        self.agenda.observe(self._on_select, names="value")
        self.record.on_click(self._on_record)
        self.confirm.on_click(self._on_confirm)
        self.cancel.on_click(self._on_cancel)
        left = w.VBox([self.application_out, self.admission_out, self.route_out],
                      layout=w.Layout(width="50%"))  # fmt: skip
        right = w.VBox([self.score_out, self.limit_out, self.group_out],
                       layout=w.Layout(width="50%"))  # fmt: skip
        decide = w.VBox([*rows, w.HBox([self.record, self.confirm, self.cancel]),
                         self.confirm_out, self.decision_out, self.error_out])  # fmt: skip
        super().__init__([w.HTML("<h3>Credit committee 贷款审批委员会</h3>"), self.header,
                          self.agenda, w.HBox([left, right]), decide])  # fmt: skip

    def _header_html(self) -> str:
        from ..lending.committee import committee_policy, needed

        m, c = self.meeting, committee_policy(self.policy)
        q = needed(c["quorum"], len(m.members))
        share = f"{c['approve_share'].numerator}/{c['approve_share'].denominator}"
        rows = [
            ("Meeting", f"{m.meeting_id} on {m.meeting_date:%Y-%m-%d}, chair {m.chair}"),
            (
                "Present",
                f"{len(m.present)} of {len(m.members)} ({', '.join(m.present)}); quorum {q}",
            ),  # fmt: skip
            (
                "Rule",
                f"approved by {share} of the members voting; chair's veto "
                f"{'on' if c['chair_veto'] else 'off'}; a tie is {c['on_tie']}",
            ),  # fmt: skip
            ("Model", self.model_label or "no approved champion in the registry: no score"),
        ]
        return kv_html(rows, "Meeting", css="text-align:left")

    def _agenda_options(self) -> list:
        minutes = self.committee.minutes(self.meeting.meeting_id)
        out = []
        for app_id in self.meeting.agenda:
            a = self.apps.loc[app_id]
            done = minutes.at[app_id, "outcome"] if app_id in minutes.index else None
            tag = f" — {done.replace('_', ' ')}" if isinstance(done, str) else ""
            out.append((f"{app_id} · {a['product']} · {a['amount']:,.0f} · "
                        f"{a['guarantee_type']}{tag}", app_id))  # fmt: skip
        return out

    # ------------------------------------------------------------------ callbacks
    def _on_select(self, change) -> None:
        app_id = change["new"]
        self.error_out.value = ""
        self._hide_confirmation()
        try:
            self._show(app_id)
        except (ValidationError, ValueError, KeyError) as exc:
            self.error_out.value = error_html(exc)

    def _show(self, app_id) -> None:
        self.application_out.value = self._application_html(app_id)
        self.admission_out.value = self._admission_html(app_id)
        self.score_out.value = self._score_html(app_id)
        a = self._assessment(app_id)
        self._current = a
        self.limit_out.value = self._limit_html(a)
        self.group_out.value = self._group_html(app_id)
        self.route_out.value = self._route_html(app_id)
        self._reset_votes(app_id)
        self.decision_out.value = self._decision_html(app_id)

    def _reset_votes(self, app_id) -> None:
        """Members who handled the application are recused; a decided item shows its votes."""
        held = self.process.roles_on_file(app_id)
        handled = held[held["role"] != "committee member"]
        decided = self._decided(app_id)
        recorded = self.committee.votes(self.meeting.meeting_id, app_id).set_index("member")
        for member, (vote, cond, why) in self.votes.items():
            role = handled.loc[handled["person"] == member, "role"]
            if decided and member in recorded.index:
                r = recorded.loc[member]
                vote.value = r["vote"]
                cond.value = "; ".join(json.loads(r["conditions"] or "[]"))
                why.value = r["comment"] or ""
            else:
                vote.value = "recused" if len(role) else ""
                why.value = f"{role.iloc[0]} of this application" if len(role) else ""
                cond.value = ""
            vote.disabled = bool(len(role)) or decided
            cond.disabled = why.disabled = decided
        self.record.disabled = decided

    def _decided(self, app_id) -> bool:
        return self.process.state(app_id).stage != "committee"

    def _on_record(self, _button) -> None:
        """Preview the outcome under the policy's rule and ask for confirmation."""
        self.error_out.value = ""
        app_id = self.agenda.value
        rows = self._vote_rows()
        missing = [r["member"] for r in rows if not r["vote"]]
        if missing:
            self.error_out.value = error_html(
                ValueError(f"no vote chosen for {', '.join(missing)}")
            )
            return
        voting = [r for r in rows if r["vote"] != "recused"]
        chair = next((r["vote"] for r in voting if r["member"] == self.meeting.chair), None)
        o = committee_outcome([r["vote"] for r in voting], chair,
                              [r["conditions"] for r in voting], self.policy)  # fmt: skip
        cond = f"<br>Conditions: {html.escape('; '.join(o.conditions))}" if o.conditions else ""
        self._pending = self._against_rules(o.outcome)
        warn = f"<br><b>{html.escape(self._pending[2])}</b>" if self._pending[2] else ""
        self.confirm_out.value = (
            f"<div class='rk-cm-preview'><b>Record for {html.escape(app_id)}:</b> "
            f"{html.escape(o.text)}{cond}{warn}<br>The votes and the decision are recorded for "
            "good (append-only). Confirm?</div>"
        )
        self.confirm.layout.display = self.cancel.layout.display = None

    def _on_cancel(self, _button) -> None:
        self._hide_confirmation()

    def _hide_confirmation(self) -> None:
        self.confirm_out.value = ""
        self.confirm.layout.display = self.cancel.layout.display = "none"

    def _on_confirm(self, _button) -> None:
        """Write the votes and the decision; show the decision as the store has it."""
        app_id = self.agenda.value
        try:
            amount, note, _ = getattr(self, "_pending", (None, "", ""))
            self.committee.record_votes(self.meeting.meeting_id, app_id, self._vote_rows())
            self.committee.decide(self.meeting.meeting_id, app_id, amount=amount, note=note)
        except (ValidationError, ValueError) as exc:
            self.error_out.value = error_html(exc)
            self._hide_confirmation()
            return
        self._hide_confirmation()
        value = self.agenda.value
        self.agenda.unobserve(self._on_select, names="value")
        self.agenda.options = self._agenda_options()
        self.agenda.value = value
        self.agenda.observe(self._on_select, names="value")
        self._show(app_id)

    def _against_rules(self, outcome: str) -> tuple:
        """``(amount, note, warning)`` when the votes approve what the rules decline."""
        from ..lending.agenda import against_rules

        return against_rules(self._current, outcome)

    def _vote_rows(self) -> list[dict]:
        rows = []
        for member, (vote, cond, why) in self.votes.items():
            conditions = [c.strip() for c in cond.value.split(";") if c.strip()]
            rows.append({"member": member, "vote": vote.value, "conditions": conditions,
                         "comment": why.value.strip()})  # fmt: skip
        return rows

    # ------------------------------------------------------------------ panels
    def _application_html(self, app_id) -> str:
        a = self.apps.loc[app_id]
        c = mask_frame(self.customers.loc[[a["borrower_id"]]].reset_index()).iloc[0]
        day = self.meeting.meeting_date
        age = (day - c["birth_date"]).days // 365 if pd.notna(c.get("birth_date")) else None
        rows = [
            (
                "Application",
                f"{app_id} of {a['application_date']:%Y-%m-%d}, officer "
                f"{a['officer_id']}, {a['branch']}",
            ),  # fmt: skip
            ("Customer", f"{a['borrower_id']} {c.get('name', '')}, ID {c.get('id_number', '')}"),
            ("Segment, age", f"{c.get('segment', '')}, {age if age is not None else '–'}"),
            ("Product, purpose", f"{a['product']}, {a['purpose']}"),
            ("Amount", money(a["amount"])),
            ("Term, rate", f"{a['term_months']} months, {pct(a['annual_rate'], 2)} a year"),
            ("Repayment", str(a["repayment_method"]).replace("_", " ")),
            (
                "Guarantee",
                f"{a['guarantee_type']}"
                + (f" (group {a['group_id']})" if pd.notna(a["group_id"]) else ""),
            ),  # fmt: skip
            ("Monthly income", money(float(c.get("monthly_income", np.nan)))),
        ]
        return kv_html(rows, "Application and customer (personal data masked)",
                       css="text-align:left")  # fmt: skip

    def _admission_html(self, app_id) -> str:
        lines = self.admission.explain(app_id)
        items = "".join(
            f"<li class='rk-{'fail' if ln.startswith('[fail]') else 'pass'}' style='color:"
            f"{'#a40000' if ln.startswith('[fail]') else '#1a7f37'}'>{html.escape(ln)}</li>"
            for ln in lines[1:]
        )
        return (f"<b>Admission and loan conditions at {self.meeting.meeting_date:%Y-%m-%d}</b>: "
                f"{html.escape(lines[0].split(': ', 1)[1])}<ul>{items}</ul>")  # fmt: skip

    def _score_html(self, app_id) -> str:
        if self.scores is None:
            return "<b>Score</b><br>No approved champion scorecard in the model registry: no score."
        t = self.scores.table.loc[app_id]
        reasons = "".join(
            f"<li>{html.escape(str(t[f'reason_{k}']))}: -{float(t[f'points_lost_{k}']):.0f}</li>"
            for k in range(1, 4) if f"reason_{k}" in t.index and str(t[f"reason_{k}"])
        )  # fmt: skip
        rows = [("Score", f"{t['score']:.0f}"), ("PD (12 months)", pct(t["pd"], 2)),
                ("Grade", str(t["grade"])), ("Model", self.model_label or "")]  # fmt: skip
        return kv_html(rows, "Score (approved champion)") + (
            f"<b>Reason codes</b><ol>{reasons or '<li>none</li>'}</ol>"
        )

    def _assessment(self, app_id):
        """Limit, affordability and recommendation, admission failures first (hard rules)."""
        return self.facts.assessment(app_id)

    def _limit_html(self, a) -> str:
        rows = [
            ("Guarantee structure limit", money(a.structure_limit)),
            ("Repayment capacity", money(a.capacity_limit)),
            ("Suggested limit", money(a.suggested_limit)),
            ("Requested", money(a.application.amount)),
            ("Installment / income", pct(a.installment_to_income)),
        ]
        reasons, head = list(a.reasons), "Recommendation"
        if self.model is None:  # no PD: no expected loss, price floor or PD rule to show
            reasons = [r for r in reasons if not r.code.startswith(("pd_", "rate_"))]
            head = "Recommendation (limits and admission only: no approved model)"
        else:
            floor = f"{pct(a.price_floor, 2)} / {pct(a.application.annual_rate, 2)}"
            rows += [("Expected loss", money(a.expected_loss)), ("Price floor / rate", floor)]
        offer = ""
        if getattr(a, "counter_offer", None) is not None:
            offer = f"<div>Counter-offer: {money(a.counter_offer.application.amount)}</div>"
        why = "".join(
            f"<li class='rk-{r.effect}'>[{r.effect}] {html.escape(r.text)}</li>" for r in reasons
        )
        return (
            kv_html(rows, "Limit, affordability, loss")
            + offer
            + f"<div><b>{head}: <span class='rk-cm-recommendation'>"
            + f"{html.escape(a.recommendation)}</span></b></div><ul>{why}</ul>"
        )

    def _group_html(self, app_id) -> str:
        g = self.apps.at[app_id, "group_id"]
        if pd.isna(g):
            return "<b>Joint-guarantee group</b><br>Not in a joint-guarantee group."
        t = self.groups.table.loc[g]
        members = self.groups.group(g)
        rows = [
            ("Group", str(g)),
            ("Households", f"{int(t['households'])} ({t['structure'].replace('_', ' ')})"),
            ("Outstanding + requested", f"{money(t['outstanding'])} + {money(t['requested'])}"),
            ("Exposure / group limit", f"{money(t['exposure'])} / {money(t['group_limit'])}"),
            ("Over the limit", "yes" if bool(t["over_limit"]) else "no"),
        ]
        who = ", ".join(sorted(set(members["borrower_id"].astype(str))))
        return (
            kv_html(rows, "Joint-guarantee group 联保小组")
            + f"<div>Members: {html.escape(who)}</div>"
        )

    def _route_html(self, app_id) -> str:
        f = self.process.file(app_id)
        route = f.table[f.table["what"] == "approval route"]
        why = route["why"].iloc[-1] if len(route) else ""
        rows = "".join(
            f"<tr><td>{pd.Timestamp(r.decided_at):%Y-%m-%d}</td><td>{html.escape(r.what)}</td>"
            f"<td>{html.escape(str(r.actor))}</td><td>{html.escape(str(r.decision))}</td>"
            f"<td>{html.escape(str(r.why))[:160]}</td></tr>"
            for r in f.table.itertuples()
        )
        return (f"<b>Route: {html.escape(str(f.state.level))}</b> — {html.escape(why)}"
                f"<table class='rk-cm-steps'><tr><th>date</th><th>step</th><th>by</th>"
                f"<th>decision</th><th>why</th></tr>{rows}</table>")  # fmt: skip

    def _decision_html(self, app_id) -> str:
        steps = self.process.steps(app_id)
        mine = steps[(steps["step"] == "committee").to_numpy(dtype=bool)]
        if not len(mine):
            return "<b>Decision</b><br>Not decided yet."
        r = mine.iloc[-1]
        d = json.loads(r["detail"])
        colour = _OUTCOME_COLOURS.get(r["decision"], "#000")
        cond = "; ".join(json.loads(r["conditions"] or "[]"))
        votes = self.committee.votes(d.get("meeting_id"), app_id)
        vt = "".join(f"<tr><td>{html.escape(v.member)}</td><td>{html.escape(v.vote)}</td>"
                     f"<td>{html.escape('; '.join(json.loads(v.conditions or '[]')))}</td>"
                     f"<td>{html.escape(v.comment or '')}</td></tr>"
                     for v in votes.itertuples())  # fmt: skip
        return (
            f"<b>Decision on record</b> (meeting {html.escape(str(d.get('meeting_id')))}): "
            f"<span class='rk-cm-outcome' style='color:{colour}'>{html.escape(r['decision'])}"
            f"</span><br>{html.escape(d.get('tally', ''))}"
            + (f"<br>Conditions: {html.escape(cond)}" if cond else "")
            + (f"<br>Amount approved: {money(d['amount'])}" if d.get("amount") else "")
            + (f"<br>Note: {html.escape(d['note'])}" if d.get("note") else "")
            + f"<table><tr><th>member</th><th>vote</th><th>conditions</th><th>reason</th></tr>"
            f"{vt}</table>"
        )


def committee_screen(store=None, meeting_id: str | None = None, *, policy=None, model=None,
                     model_label=None, on_missing: str = "raise"):  # fmt: skip
    """Open the committee's screen for a meeting (one line in a notebook).

    Parameters
    ----------
    store : Store or SQLAlchemy URL, optional
        Default: the riskkit store (``$RISKKIT_DB_URL`` or ``data/riskkit.db``).
    meeting_id : str, optional
        Default: the latest meeting with an application still waiting for the committee (else
        the latest meeting).
    policy : Policy, mapping or path, optional
    model, model_label : optional
        A scorecard instead of the registry's approved champion (e.g. in tests).
    on_missing : {"raise", "note"}
        Without a meeting on record: raise, or return a note saying how to open one (for the
        dashboard notebook).
    """
    from ..lending.process import CreditProcess
    from ..store import Store

    st = store if hasattr(store, "read") else Store(store)
    proc = CreditProcess(st, policy)
    com = CreditCommittee(proc)
    meetings = com.meetings()
    if meeting_id is None:
        if not len(meetings):
            raise ValueError("no committee meeting on record: open one first "
                             "(riskkit credit meeting ...)")  # fmt: skip
        status = proc.status()
        waiting = set(status.index[status["stage"] == "committee"])
        ids = meetings["meeting_id"].tolist()
        open_ = [m for m in ids if waiting & set(com.meeting(m).agenda)]
        meeting_id = (open_ or ids)[-1]
    return CommitteeScreen(proc, meeting_id, model=model, model_label=model_label)
