"""The credit committee's decisions on record (贷款审批委员会, seed 000 art. 11).

A **meeting** has its members (the staff marked ``committee``), those
present, a chair and an agenda (applications the route sends to the committee). It is
quorate when at least ``committee.quorum`` of the members are present (policy, a fraction such
as ``"2/3"``). Each member present votes on each application: ``approve``,
``approve_with_conditions`` (stating them), ``decline`` (giving the reason: a dissent is
recorded with its reason), ``abstain``, or ``recused`` (a member who investigated, reviewed or
approved the application must not vote on it, 审贷分离). The **outcome** follows the rule:

1. a decline by the chair is a veto when ``committee.chair_veto`` (一票否决);
2. as many votes for as against is a tie: ``committee.on_tie`` (``deferred`` to a later
   meeting, or ``declined``);
3. approved when the votes for (with or without conditions) reach ``committee.approve_share``
   of the members voting (present, not recused; an abstention is not a vote for); with
   conditions when any vote for stated conditions (their union, in vote order);
4. else declined.

An item is quorate only when the members voting on it reach the quorum; a decision without
quorum, or before every member voting has voted, is an error. Votes are an append-only table
(``committee_votes``); the outcome is the ``committee`` step of the credit process.

Examples
--------
>>> committee_outcome(["approve"] * 4 + ["decline"] * 2, chair_vote="approve").outcome
'approved'
>>> committee_outcome(["approve"] * 3 + ["decline"] * 3, chair_vote="approve").outcome
'deferred'
>>> committee_outcome(["approve"] * 3 + ["decline"] + ["abstain"] * 2, chair_vote="approve").text
'declined: 3 of 6 members voting for, 4 needed (2/3)'
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np
import pandas as pd

from ..errors import Problem, ProblemCollector, ValidationError, is_blank
from ..policy import Policy, load_policy
from ..results import TableResult

MEETINGS_TABLE = "committee_meetings"
VOTES_TABLE = "committee_votes"
VOTES = ("approve", "approve_with_conditions", "decline", "abstain", "recused")
FOR = ("approve", "approve_with_conditions")
OUTCOMES = ("approved", "approved_with_conditions", "declined", "deferred")
#: What the committee step records: an outcome, or an approval of the counter-offer.
DECISIONS = (*OUTCOMES, "counter_offer_approved")


class QuorumError(ValidationError):
    """Too few members present (or voting on an item) for the committee to decide."""


def committee_policy(policy=None) -> dict:
    """The policy's ``committee`` section with the fractions parsed and checked."""
    p = load_policy(policy) if not isinstance(policy, Policy) else policy
    c = dict(p["committee"])
    for key in ("quorum", "approve_share"):
        try:
            f = Fraction(str(c[key]))
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"policy committee.{key} must be a fraction like '2/3', "
                             f"got {c[key]!r}") from None  # fmt: skip
        if not 0 < f <= 1:
            raise ValueError(f"policy committee.{key} must be in (0, 1], got {c[key]!r}")
        c[key] = f
    if c["on_tie"] not in ("deferred", "declined"):
        raise ValueError(
            f"policy committee.on_tie must be deferred or declined, got {c['on_tie']!r}"
        )
    return c


def needed(share: Fraction, n: int) -> int:
    """Smallest whole number of members reaching ``share`` of ``n`` (exact fractions).

    >>> needed(Fraction(2, 3), 6), needed(Fraction(2, 3), 7), needed(Fraction(1, 2), 6)
    (4, 5, 3)
    """
    return math.ceil(share * n)


@dataclass(frozen=True)
class Outcome:
    """The result of a committee vote (:func:`committee_outcome`)."""

    outcome: str
    votes_for: int
    against: int
    abstain: int
    voting: int
    required: int
    rule: str  # veto | tie | share
    text: str
    conditions: tuple = ()


def committee_outcome(votes, chair_vote=None, conditions=None, policy=None) -> Outcome:
    """The outcome of one application's votes by the policy's rule (see the module docstring).

    Parameters
    ----------
    votes : sequence of str
        The votes of the members voting (recused members left out).
    chair_vote : str, optional
        The chair's vote (for the veto).
    conditions : sequence of sequences of str, optional
        The conditions stated with each vote (aligned with ``votes``).
    """
    c = committee_policy(policy)
    v = list(votes)
    n_for = sum(x in FOR for x in v)
    n_against = sum(x == "decline" for x in v)
    n_abs = sum(x == "abstain" for x in v)
    req = needed(c["approve_share"], len(v))
    conds = _union(v, conditions)
    share = f"{c['approve_share'].numerator}/{c['approve_share'].denominator}"
    tally = f"{n_for} of {len(v)} members voting for, {req} needed ({share})"
    if c["chair_veto"] and chair_vote == "decline":
        outcome, rule, text = "declined", "veto", f"declined: the chair's veto ({tally})"
    elif n_for == n_against:
        outcome, rule = c["on_tie"], "tie"
        text = f"{c['on_tie']}: a tie, {n_for} for and {n_against} against"
    elif n_for >= req:
        outcome = "approved_with_conditions" if conds else "approved"
        rule, text = "share", f"{outcome.replace('_', ' ')}: {tally}"
    else:
        outcome, rule, text = "declined", "share", f"declined: {tally}"
    return Outcome(outcome, n_for, n_against, n_abs, len(v), req, rule, text,
                   conds if outcome.startswith("approved") else ())  # fmt: skip


def _union(votes, conditions) -> tuple:
    if conditions is None:
        return ()
    out = []
    for vote, cs in zip(votes, conditions, strict=True):
        if vote == "approve_with_conditions":
            out += [c for c in cs if c not in out]
    return tuple(out)


def committee_roles(store, app_id=None) -> pd.DataFrame:
    """``application_id, person, role`` of the members who voted (for the separation of
    duties in :meth:`riskkit.lending.process.CreditProcess.roles_on_file`)."""
    cols = ["application_id", "person", "role"]
    if not store.has_table(VOTES_TABLE):
        return pd.DataFrame({c: [] for c in cols})
    where = {"application_id": str(app_id)} if app_id is not None else None
    v = store.read(VOTES_TABLE, where=where)
    v = v[v["vote"] != "recused"]
    return pd.DataFrame({"application_id": v["application_id"], "person": v["member"],
                         "role": "committee member"})  # fmt: skip


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Meeting:
    """One committee meeting: members, those present, chair, agenda."""

    meeting_id: str
    meeting_date: pd.Timestamp
    chair: str
    members: tuple
    present: tuple
    agenda: tuple
    secretary: str = ""

    @property
    def absent(self) -> tuple:
        return tuple(m for m in self.members if m not in self.present)

    def __repr__(self) -> str:
        return (
            f"Meeting({self.meeting_id} on {self.meeting_date.date()}: chair {self.chair}, "
            f"{len(self.present)} of {len(self.members)} members present, "
            f"{len(self.agenda)} applications)"
        )


@dataclass
class CommitteeDecision(TableResult):
    """One application's decision at a meeting: the outcome, the votes (``table``) and the
    dissent."""

    meeting_id: str
    application_id: str
    outcome: Outcome
    table: pd.DataFrame
    dissent: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __repr__(self) -> str:
        d = f"; dissent: {', '.join(self.dissent['member'])}" if len(self.dissent) else ""
        c = f"; conditions: {'; '.join(self.outcome.conditions)}" if self.outcome.conditions else ""
        return f"CommitteeDecision({self.application_id} at {self.meeting_id}: {self.outcome.text}{c}{d})"

    def _repr_html_(self) -> str:
        return (f"<div><b>{html.escape(repr(self))}</b>"
                f"{self.table.to_html(index=False)}</div>")  # fmt: skip


class CreditCommittee:
    """The credit committee of a :class:`~riskkit.lending.process.CreditProcess`."""

    def __init__(self, process):
        self.process = process
        self.store = process.store
        self.policy = process.policy
        self._facts: dict = {}
        self._assessed: dict = {}

    def assessment(self, meeting_id: str, application_id):
        """The rules' assessment of one agenda item at the meeting date (the facts of
        :func:`riskkit.lending.agenda.meeting_facts`, computed once per meeting)."""
        from .agenda import meeting_facts

        key = (meeting_id, str(application_id))
        if key not in self._assessed:
            if meeting_id not in self._facts:
                self._facts[meeting_id] = meeting_facts(self.process, self.meeting(meeting_id))
            self._assessed[key] = self._facts[meeting_id].assessment(str(application_id))
        return self._assessed[key]

    def reviewed_by(self, ids, day) -> pd.Series:
        """Per application of ``ids``: True when its independent review passed on or before
        ``day`` (only those go on a meeting's agenda)."""
        s = self.process.steps(list(ids))
        r = s[((s["step"] == "review") & (s["decision"] == "pass")).to_numpy(dtype=bool)]
        last = pd.to_datetime(r["decided_at"]).dt.normalize().groupby(r["application_id"]).max()
        at = last.reindex(list(ids))
        return pd.Series((at <= pd.Timestamp(day).normalize()).to_numpy(dtype=bool), index=at.index)

    def members(self) -> list:
        """The members of the credit committee (staff with ``committee``)."""
        s = self.process.staff()
        return sorted(s.index[s["committee"].to_numpy(dtype=bool)])

    # --- meetings ------------------------------------------------------------------------
    def open_meeting(self, meeting_date, present, chair: str, agenda=None, *,
                     meeting_id: str | None = None, secretary: str = "") -> Meeting:  # fmt: skip
        """Open a meeting; raises :class:`QuorumError` when too few members are present.

        ``agenda`` defaults to every application waiting for the committee."""
        c = committee_policy(self.policy)
        members = tuple(self.members())
        present = tuple(dict.fromkeys(present))
        d = pd.Timestamp(meeting_date).normalize()
        mid = meeting_id or f"CM{d:%Y%m%d}"
        _check_roster(mid, members, present, chair, c)
        if agenda is None:
            st = self.process.status()
            agenda = st.index[(st["stage"] == "committee").to_numpy(dtype=bool)].tolist()
            agenda = [a for a, ok in self.reviewed_by(agenda, d).items() if ok]
        agenda = tuple(agenda)
        self._check_agenda(mid, agenda, d)
        row = pd.DataFrame({
            "meeting_id": [mid], "meeting_date": [d], "chair": [chair],
            "secretary": [secretary], "members": [json.dumps(members)],
            "present": [json.dumps(present)], "agenda": [json.dumps(agenda)],
            "recorded_at": [pd.Timestamp.now().floor("s")],
        })  # fmt: skip
        if self.store.has_table(MEETINGS_TABLE):
            known = self.store.read(MEETINGS_TABLE)["meeting_id"]
            if mid in set(known):
                raise _problem(ValidationError, "meeting_id", f"meeting {mid} is already on record")
        self.store.append(MEETINGS_TABLE, row)
        return Meeting(mid, d, chair, members, present, agenda, secretary)

    def _check_agenda(self, mid, agenda, day) -> None:
        st = self.process.status()
        wrong = [a for a in agenda if a not in st.index or st.at[a, "stage"] != "committee"]
        if wrong:
            shown = ", ".join(f"{a} ({st.at[a, 'stage'] if a in st.index else 'unknown'})"
                              for a in wrong)  # fmt: skip
            raise _problem(ValidationError, "agenda",
                           f"meeting {mid}: not waiting for the committee: {shown}")  # fmt: skip
        ok = self.reviewed_by(agenda, day)
        late = ok.index[~ok.to_numpy(dtype=bool)].tolist()
        if late:
            raise _problem(ValidationError, "agenda", f"meeting {mid} on {day:%Y-%m-%d}: "
                           f"{', '.join(late)} not yet through the independent review by the "
                           "meeting date (a committee decides on reviewed files only)")  # fmt: skip

    def meeting(self, meeting_id: str) -> Meeting:
        m = self.meetings()
        row = m[m["meeting_id"] == meeting_id]
        if not len(row):
            raise _problem(ValidationError, "meeting_id", f"no meeting {meeting_id!r} on record")
        r = row.iloc[0]
        return Meeting(r["meeting_id"], pd.Timestamp(r["meeting_date"]), r["chair"],
                       tuple(json.loads(r["members"])), tuple(json.loads(r["present"])),
                       tuple(json.loads(r["agenda"])), r["secretary"] or "")  # fmt: skip

    def meetings(self) -> pd.DataFrame:
        """Meetings on record, by date."""
        if not self.store.has_table(MEETINGS_TABLE):
            return pd.DataFrame({c: [] for c in ("meeting_id", "meeting_date", "chair")})
        return self.store.read(MEETINGS_TABLE, order_by="meeting_date")

    def meetings_on(self, meeting_date) -> list[Meeting]:
        """Meetings held on one date."""
        m = self.meetings()
        if not len(m):
            return []
        d = pd.Timestamp(meeting_date).normalize()
        ids = m.loc[pd.to_datetime(m["meeting_date"]).dt.normalize() == d, "meeting_id"]
        return [self.meeting(i) for i in ids]

    # --- votes ---------------------------------------------------------------------------
    def votes(self, meeting_id=None, application_id=None) -> pd.DataFrame:
        """Votes on record (oldest first)."""
        cols = ["vote_id", "meeting_id", "application_id", "member", "vote", "conditions",
                "comment", "voted_at"]  # fmt: skip
        if not self.store.has_table(VOTES_TABLE):
            return pd.DataFrame({c: [] for c in cols})
        where = {}
        if meeting_id is not None:
            where["meeting_id"] = meeting_id
        if application_id is not None:
            where["application_id"] = str(application_id)
        return self.store.read(VOTES_TABLE, where=where or None, order_by="vote_id")

    def record_votes(self, meeting_id: str, application_id, votes, at=None) -> pd.DataFrame:
        """Record members' votes on one application, all or none.

        ``votes``: a mapping member -> vote, or rows ``member, vote`` (+ ``conditions`` as a
        list of texts, ``comment``). A decline needs its reason (``comment``), a vote with
        conditions the conditions; a member who investigated, reviewed or approved the
        application may only be ``recused``.
        """
        m = self.meeting(meeting_id)
        rows = _vote_rows(votes)
        self._check_votes(m, application_id, rows)
        when = (pd.Timestamp(at) if at is not None else pd.Timestamp.now()).floor("s")
        rows = rows.assign(meeting_id=meeting_id, application_id=str(application_id),
                           voted_at=when)  # fmt: skip
        rows["conditions"] = rows["conditions"].map(
            lambda cs: json.dumps(list(cs), ensure_ascii=False)
        )
        cols = ["meeting_id", "application_id", "member", "vote", "conditions", "comment",
                "voted_at"]  # fmt: skip
        with self.store.transaction() as conn:
            return self.store.append_numbered(VOTES_TABLE, rows[cols], "vote_id", conn)

    def _check_votes(self, m: Meeting, app_id, rows: pd.DataFrame) -> None:
        from .approval import SeparationOfDutiesError

        if app_id not in m.agenda:
            raise _problem(ValidationError, "application_id",
                           f"{app_id} is not on the agenda of {m.meeting_id}")  # fmt: skip
        errors = ProblemCollector("committee votes")
        ids = rows["member"]
        errors.check("votes", "member", ~rows["member"].isin(m.present).to_numpy(dtype=bool),
                     ids, f"not present at {m.meeting_id}")  # fmt: skip
        errors.check("votes", "vote", ~rows["vote"].isin(VOTES).to_numpy(dtype=bool), ids,
                     f"unknown vote; allowed: {list(VOTES)}")  # fmt: skip
        errors.check("votes", "comment", (rows["vote"] == "decline").to_numpy() &
                     is_blank(rows["comment"]), ids, "a decline (dissent) needs its reason")  # fmt: skip
        rec = self.assessment(m.meeting_id, app_id).recommendation
        against = rows["vote"].isin(FOR if rec.startswith("decline") else ()).to_numpy(dtype=bool)
        errors.check("votes", "comment", against & is_blank(rows["comment"]), ids,
                     f"application {app_id}: a vote for against the rules' recommendation "
                     f"({rec}) needs its reason")  # fmt: skip
        no_cond = rows["conditions"].map(len).to_numpy() == 0
        errors.check("votes", "conditions", (rows["vote"] == "approve_with_conditions").to_numpy()
                     & no_cond, ids, "a vote with conditions must state them")  # fmt: skip
        before = self.votes(m.meeting_id, app_id)
        again = (
            rows["member"].isin(before["member"]).to_numpy(dtype=bool)
            | rows["member"].duplicated().to_numpy()
        )
        errors.check("votes", "member", again, ids, "has already voted on this application")
        errors.raise_if_any()
        held = self.process.roles_on_file(app_id)
        held = held[held["role"] != "committee member"]
        clash = rows[
            (rows["vote"] != "recused").to_numpy() & rows["member"].isin(held["person"]).to_numpy()
        ]
        if len(clash):
            r = clash.iloc[0]
            role = held.loc[held["person"] == r["member"], "role"].iloc[0]
            raise SeparationOfDutiesError([Problem(
                "committee", "member",
                f"application {app_id}: committee member {r['member']!r} is the {role} "
                f"{r['member']!r} of this application and must be recused (审贷分离)",
            )], "separation of duties")  # fmt: skip

    # --- decisions -----------------------------------------------------------------------
    def decide(
        self, meeting_id: str, application_id, at=None, *, amount: float | None = None,
        note: str = "", waivers: dict | None = None,
    ) -> CommitteeDecision:  # fmt: skip
        """Tally the votes by the policy's rule and record the outcome as the application's
        ``committee`` step (actor: the chair), under the rules
        (:func:`riskkit.lending.agenda.committee_ruling`): an approval of a request the rules
        decline as requested is ``counter_offer_approved`` at the counter-offer; of one they
        decline, the committee's exception with the reasons of the members voting for; a rate
        below the risk-based floor adds the condition to reprice unless ``waivers`` (code ->
        reason) waives it. ``amount``: a smaller amount approved; ``note``: what else the
        committee was told. Raises :class:`QuorumError` when the members voting on the item
        are fewer than the quorum, and an error listing who has not voted."""
        from .agenda import committee_ruling

        m = self.meeting(meeting_id)
        stage = self.process.state(application_id).stage
        if stage != "committee":
            raise _problem(ValidationError, "application_id", f"application {application_id}: "
                           f"not waiting for the committee (stage: {stage}); decided once")  # fmt: skip
        v = self.votes(meeting_id, application_id)
        voting = self._voting(m, application_id, v)
        conds = [json.loads(x) for x in voting["conditions"]]
        chair = voting.loc[voting["member"] == m.chair, "vote"]
        o = committee_outcome(voting["vote"].tolist(), chair.iloc[0] if len(chair) else None,
                              conds, self.policy)  # fmt: skip
        for_ = voting.loc[voting["vote"].isin(FOR).to_numpy(dtype=bool), "comment"]
        r = committee_ruling(o.outcome, o.conditions, self.assessment(meeting_id, application_id),
                             for_.tolist(), waivers)  # fmt: skip
        dissent = _dissent(voting, o.outcome)
        tally = o.text  # the votes, under the decision recorded (e.g. the counter-offer)
        if r.decision != o.outcome:
            tally = f"{r.decision.replace('_', ' ')}: {o.text.split(': ', 1)[-1]}"
        detail = {"meeting_id": meeting_id, "tally": tally, "rule": o.rule,
                  "for": o.votes_for, "against": o.against, "abstain": o.abstain,
                  "voting": o.voting, "required": o.required,
                  "dissent": dissent[["member", "vote", "comment"]].to_dict("records")}  # fmt: skip
        granted = _granted(application_id, r.amount, amount)
        if granted is not None and r.decision != "declined":
            detail["amount"] = granted
        if r.note or note:
            detail["note"] = "; ".join(x for x in (r.note, note) if x)
        if r.waivers:
            detail["waivers"] = r.waivers
        comment = "; ".join(f"dissent {d.member}: {d.comment}" for d in dissent.itertuples())
        self.process.record(application_id, "committee", m.chair, r.decision,
                            role="committee member", comment=comment, conditions=r.conditions,
                            detail=detail, at=at if at is not None else m.meeting_date)  # fmt: skip
        o = replace(o, outcome=r.decision, conditions=r.conditions, text=tally)
        return CommitteeDecision(meeting_id, application_id, o, v, dissent)

    def _voting(self, m: Meeting, application_id, v: pd.DataFrame) -> pd.DataFrame:
        """The votes that count (recused left out), after checking everyone voted and the
        quorum."""
        c = committee_policy(self.policy)
        missing = [p for p in m.present if p not in set(v["member"])]
        if missing:
            raise _problem(ValidationError, "votes", f"application {application_id}: no vote yet "
                           f"from {', '.join(missing)}")  # fmt: skip
        voting = v[v["vote"] != "recused"]
        q = needed(c["quorum"], len(m.members))
        if len(voting) < q:
            raise QuorumError([Problem(
                "committee", "quorum",
                f"application {application_id} at {m.meeting_id}: {len(voting)} members voting "
                f"(recused: {', '.join(v.loc[v['vote'] == 'recused', 'member']) or 'none'}), "
                f"quorum {q} of {len(m.members)} ({_frac(c['quorum'])})",
            )], "committee quorum")  # fmt: skip
        return voting

    def minutes(self, meeting_id: str) -> pd.DataFrame:
        """The meeting's decisions: one row per application with outcome, tally, conditions and
        dissent (empty rows for applications not yet decided)."""
        m = self.meeting(meeting_id)
        steps = self.process.steps()
        s = steps[(steps["step"] == "committee").to_numpy(dtype=bool)]
        rows = []
        for a in m.agenda:
            mine = s[(s["application_id"] == a).to_numpy(dtype=bool)]
            mine = mine[mine["detail"].str.contains(f'"meeting_id": "{meeting_id}"', regex=False)]
            if not len(mine):
                rows.append((a, None, "", "", ""))
                continue
            r = mine.iloc[-1]
            d = json.loads(r["detail"])
            rows.append((a, r["decision"], d["tally"], "; ".join(json.loads(r["conditions"])),
                         "; ".join(_dissent_text(x) for x in d["dissent"])))  # fmt: skip
        return pd.DataFrame(rows, columns=["application_id", "outcome", "tally", "conditions",
                                           "dissent"]).set_index("application_id")  # fmt: skip


def _granted(app_id, ruled: float | None, asked: float | None) -> float | None:
    """The amount approved: the rules' (counter-offer) or a smaller one the committee gives."""
    if asked is None:
        return None if ruled is None else float(ruled)
    if ruled is not None and float(asked) > ruled + 1e-9:
        raise _problem(ValidationError, "amount", f"application {app_id}: amount {asked:,.0f} "
                       f"above the counter-offer of {ruled:,.0f} the rules allow")  # fmt: skip
    return float(asked)


def _dissent_text(x: dict) -> str:
    return f"{x['member']} ({x['vote']})" + (f": {x['comment']}" if x.get("comment") else "")


def _frac(f: Fraction) -> str:
    return f"{f.numerator}/{f.denominator}"


def _problem(cls, column: str, rule: str):
    return cls([Problem("committee", column, rule)], "credit committee")


def _check_roster(mid, members, present, chair, c) -> None:
    if len(members) < int(c["min_members"]):
        raise _problem(ValidationError, "members", f"the committee has {len(members)} members; "
                       f"the policy needs at least {c['min_members']}")  # fmt: skip
    strangers = [p for p in present if p not in members]
    if strangers:
        raise _problem(ValidationError, "present", f"meeting {mid}: {strangers} are not members")
    if chair not in present:
        raise _problem(
            ValidationError, "chair", f"meeting {mid}: the chair {chair!r} is not present"
        )
    q = needed(c["quorum"], len(members))
    if len(present) < q:
        absent = [m for m in members if m not in present]
        raise QuorumError([Problem(
            "committee", "quorum",
            f"meeting {mid}: {len(present)} of {len(members)} members present, quorum is {q} "
            f"({_frac(c['quorum'])}); absent: {', '.join(absent)}",
        )], "committee quorum")  # fmt: skip


def _vote_rows(votes) -> pd.DataFrame:
    if isinstance(votes, dict):
        rows = pd.DataFrame({"member": list(votes), "vote": list(votes.values())})
    else:
        rows = pd.DataFrame(votes).reset_index(drop=True)
    if "conditions" not in rows:
        rows["conditions"] = [[] for _ in range(len(rows))]
    rows["conditions"] = rows["conditions"].map(
        lambda c: [] if c is None or (isinstance(c, float) and np.isnan(c)) else
        ([c] if isinstance(c, str) else [str(x) for x in c])
    )  # fmt: skip
    if "comment" not in rows:
        rows["comment"] = ""
    rows["comment"] = rows["comment"].fillna("").astype(str)
    return rows


def _dissent(voting: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Votes against the outcome: declines of an approval, votes for a decline or deferral."""
    approved = outcome.startswith("approved")
    against = voting["vote"] == "decline" if approved else voting["vote"].isin(FOR)
    return voting[against.to_numpy(dtype=bool)].reset_index(drop=True)
