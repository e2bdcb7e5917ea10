"""The credit process on record (seed 000 art. 11): application -> admission and route ->
investigation -> independent review -> approval (or the credit committee) -> conditions ->
contract -> disbursement, every step an append-only record in the store.

:class:`CreditProcess` keeps, in a :class:`~riskkit.store.Store`:

* ``credit_applications``: the applications as received (validated; an id is taken once);
* ``credit_process_steps``: one row per step and person (``step_id`` numbered with a unique
  index, like overrides): ``application_id, step, actor, role, decision, conditions`` (JSON
  list), ``comment, detail`` (JSON), ``decided_at, recorded_at``; never updated or deleted;
* ``credit_staff``: who works in the process and the authority they hold.

Each step checks that it comes in order (a review needs the investigation, an approval the
review, a contract the approval, a disbursement every disbursement condition), that the person
holds the role, and the separation of duties (:mod:`riskkit.lending.approval`); a violation is
an error that names the application, the people and the rule, and nothing is written.

Examples
--------
>>> from riskkit.store import Store
>>> from riskkit.lending.process import STEPS
>>> STEPS["review"]
('pass', 'return', 'decline')
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import Problem, ProblemCollector, ValidationError, is_blank
from ..policy import Policy, load_policy
from ..results import TableResult
from .admission import AdmissionResult, borrower_exposure, check_admission
from .applications import APPLICATIONS, validate_applications
from .approval import (
    LEVEL_TEXT,
    LEVELS,
    Route,
    SeparationOfDutiesError,
    approval_route,
    conflict,
    has_role,
    level_rank,
    validate_staff,
)

APPLICATIONS_TABLE = "credit_applications"
STEPS_TABLE = "credit_process_steps"
STAFF_TABLE = "credit_staff"
STEP_COLUMNS = (
    "step_id",
    "application_id",
    "step",
    "actor",
    "role",
    "decision",
    "conditions",
    "comment",
    "detail",
    "decided_at",
    "recorded_at",
)
#: Steps and the decisions each may record.
STEPS: dict[str, tuple[str, ...]] = {
    "application": ("received",),
    "admission": ("pass", "fail"),
    "route": (*LEVELS, "declined"),
    "investigation": ("recommend", "decline"),
    "review": ("pass", "return", "decline"),
    "approval": ("approve", "approve_with_conditions", "decline", "return"),
    "committee": (
        "approved",
        "approved_with_conditions",
        "counter_offer_approved",
        "declined",
        "deferred",
    ),
    "offer_accepted": ("accepted",),
    "condition_met": ("met",),
    "contract": ("signed",),
    "disbursement": ("disbursed",),
    "withdrawn": ("withdrawn",),
}
#: The role a person acts in at each step (separation of duties: :data:`approval.ROLES`).
STEP_ROLE = {
    "investigation": "investigating officer",
    "review": "reviewer",
    "approval": "approver",
    "committee": "committee member",
}
APPROVED = (
    "approve",
    "approve_with_conditions",
    "approved",
    "approved_with_conditions",
    "counter_offer_approved",
)
#: The step each step follows by date (received <= investigation <= review <= approval or
#: committee <= contract <= disbursement): a step is never dated before the latest of these.
AFTER: dict[str, tuple[str, ...]] = {
    "investigation": ("application",),
    "review": ("investigation",),
    "approval": ("review",),
    "committee": ("review",),
    "offer_accepted": ("approval", "committee"),
    "condition_met": ("approval", "committee"),
    "contract": ("approval", "committee", "offer_accepted"),
    "disbursement": ("contract", "condition_met"),
}
SYSTEM = "riskkit"
#: Steps' wording for timelines (English, Chinese).
STEP_TEXT = {
    "application": ("application received", "受理申请"),
    "admission": ("admission check", "准入审查"),
    "route": ("approval route", "审批路径"),
    "investigation": ("investigation", "贷前调查"),
    "review": ("independent review", "独立审查"),
    "approval": ("approval", "审批"),
    "committee": ("credit committee", "贷审会"),
    "offer_accepted": ("counter-offer accepted", "接受调整后方案"),
    "condition_met": ("condition met", "落实审批条件"),
    "contract": ("contract", "签订合同"),
    "disbursement": ("disbursement", "放款"),
    "withdrawn": ("withdrawn", "撤回"),
}


class ProcessError(ValidationError):
    """A step out of order, by someone without the role, or with bad values."""


def _error(app, rule: str, column: str = "step", cls=ProcessError):
    return cls([Problem("process", column, f"application {app}: {rule}")], "credit process")


def _now(at=None) -> pd.Timestamp:
    return (pd.Timestamp(at) if at is not None else pd.Timestamp.now()).floor("s")


def _json(v) -> str:
    return json.dumps(v, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class FileState:
    """Where one application stands, replayed from its steps (see :meth:`CreditProcess.state`)."""

    application_id: str
    level: str | None = None
    investigators: int = 2
    exceptions: tuple = ()
    admitted: bool | None = None
    investigated_by: tuple = ()
    reviewed: bool = False
    decision: str | None = None  # the approval's or committee's decision
    decided_by: str | None = None
    conditions: tuple = ()
    conditions_met: tuple = ()
    amount_approved: float | None = None
    offer_accepted: bool = False
    contract: bool = False
    disbursed: bool = False
    closed: str | None = None  # declined, withdrawn, disbursed

    @property
    def approved(self) -> bool:
        return self.decision in APPROVED

    @property
    def open_conditions(self) -> tuple:
        return tuple(c for c in self.conditions if c not in self.conditions_met)

    @property
    def stage(self) -> str:
        """The step this application waits for next (or how it ended)."""
        if self.closed:
            return self.closed
        if self.level is None:
            return "admission"
        if not self.investigated_by:
            return "investigation"
        if not self.reviewed:
            return "review"
        if self.decision is None or self.decision == "deferred":
            return "committee" if self.level == "credit_committee" else "approval"
        if self.decision == "counter_offer_approved" and not self.offer_accepted:
            return "offer"
        if self.open_conditions:
            return "conditions"
        return "disbursement" if self.contract else "contract"


def _replay(app_id, steps: pd.DataFrame) -> FileState:
    """Fold an application's steps (oldest first) into its state."""
    s = {"application_id": app_id}
    for row in steps.itertuples(index=False):
        _apply_step(s, row)
    return FileState(**s)


def _apply_step(s: dict, row) -> None:
    step, decision = row.step, row.decision
    detail = json.loads(row.detail) if isinstance(row.detail, str) and row.detail else {}
    if step == "admission":
        s["admitted"] = decision == "pass"
    elif step == "route":
        s.update(level=decision, investigators=int(detail.get("investigators", 2)),
                 exceptions=tuple(detail.get("exceptions", ())))  # fmt: skip
        if decision == "declined":
            s["closed"] = "declined"
    elif step == "investigation":
        s["investigated_by"] = (*s.get("investigated_by", ()), row.actor)
        if decision == "decline":
            s["closed"] = "declined"
    elif step == "review":
        s["reviewed"] = decision == "pass"
        if decision == "return":
            s["investigated_by"] = ()
        elif decision == "decline":
            s["closed"] = "declined"
    elif step in ("approval", "committee"):
        _apply_decision(s, row, detail)
    elif step == "offer_accepted":
        s["offer_accepted"] = True
    elif step == "condition_met":
        s["conditions_met"] = (*s.get("conditions_met", ()), detail.get("condition"))
    elif step == "contract":
        s["contract"] = True
    elif step == "disbursement":
        s.update(disbursed=True, closed="disbursed")
    elif step == "withdrawn":
        s["closed"] = "withdrawn"


def _apply_decision(s: dict, row, detail: dict) -> None:
    s.update(decision=row.decision, decided_by=row.actor)
    s["conditions"] = tuple(json.loads(row.conditions or "[]"))
    s["amount_approved"] = detail.get("amount")
    if row.decision in ("decline", "declined"):
        s["closed"] = "declined"
    elif row.decision == "return":
        s.update(decision=None, reviewed=False, investigated_by=())


# ---------------------------------------------------------------------------------------------


class CreditProcess:
    """The lender's credit process on record in a store (see the module docstring).

    Parameters
    ----------
    store : riskkit.store.Store
    policy : Policy, mapping or path, optional
    book : LoanBook, optional
        The loan book (exposure with the lender, loans overdue now, joint groups); default the
        store's, loaded once.
    """

    def __init__(self, store, policy=None, book=None):
        self.store = store
        self.policy = load_policy(policy) if not isinstance(policy, Policy) else policy
        self._book = book

    @property
    def book(self):
        """The loan book the process judges exposure and groups on: given, else the store's
        (loaded once), else None."""
        if self._book is None and self.store.has_book():
            self._book = self.store.load_book()
        return self._book

    def __repr__(self) -> str:
        n = len(self.applications()) if self.store.has_table(APPLICATIONS_TABLE) else 0
        return f"CreditProcess({n:,} applications in {self.store!r})"

    # --- staff -----------------------------------------------------------------------------
    def set_staff(self, staff: pd.DataFrame) -> pd.DataFrame:
        """Record who works in the credit process (replaces the staff table)."""
        validate_staff(staff)
        cols = ["staff_id", "role", "branch", "approval_level", "committee", "chair"]
        s = staff.reindex(columns=cols).astype({"approval_level": object})
        for c in ("committee", "chair"):
            s[c] = s[c].astype("boolean").fillna(False).astype(bool)
        self._replace_staff(s)
        self._staff = None
        return s

    def _replace_staff(self, s: pd.DataFrame) -> None:
        import sqlalchemy as sa

        with self.store.transaction() as conn:
            if sa.inspect(conn).has_table(STAFF_TABLE):
                conn.execute(sa.text(f"DELETE FROM {STAFF_TABLE}"))
            self.store.append(STAFF_TABLE, s, conn=conn)

    def staff(self) -> pd.DataFrame:
        """The credit staff, indexed by ``staff_id`` (read once per instance; ``set_staff``
        refreshes it)."""
        if getattr(self, "_staff", None) is not None:
            return self._staff
        if not self.store.has_table(STAFF_TABLE):
            raise ValidationError(
                [Problem("staff", "", "no credit staff recorded: CreditProcess.set_staff(...)")],
                "credit process",
            )
        s = self.store.read(STAFF_TABLE)
        s["approval_level"] = s["approval_level"].astype(object).where(s["approval_level"].notna())
        self._staff = s.set_index("staff_id")
        return self._staff

    # --- applications ----------------------------------------------------------------------
    def receive(self, applications: pd.DataFrame, at=None) -> pd.DataFrame:
        """Record new applications (checked against the customer register) and an
        ``application`` step for each, by its officer; an id already on file is an error."""
        from ..book.customers import CustomerRegister

        who = applications["borrower_id"] if "borrower_id" in applications.columns else []
        validate_applications(applications, CustomerRegister(self.store).load(who))
        known = self.applications()["application_id"] if self._has_apps() else pd.Series([])
        again = applications["application_id"].isin(known).to_numpy(dtype=bool)
        if again.any():
            errors = ProblemCollector("credit applications")
            errors.check(
                "applications", "application_id", again, applications["application_id"],
                "already received (an application is recorded once)",
            )  # fmt: skip
            errors.raise_if_any()
        apps = applications.reindex(columns=[c.name for c in APPLICATIONS.columns])
        apps = apps.assign(received_at=_now(at))
        steps = pd.DataFrame(
            {
                "application_id": apps["application_id"].to_numpy(),
                "step": "application",
                "actor": apps["officer_id"].astype(str).to_numpy(),
                "role": "loan officer",
                "decision": "received",
                "decided_at": apps["application_date"].to_numpy(),
            }
        )
        with self.store.transaction() as conn:
            self.store.append(APPLICATIONS_TABLE, _storable(apps), conn=conn)
            self._append_steps(steps, conn)
        return apps

    def _has_apps(self) -> bool:
        return self.store.has_table(APPLICATIONS_TABLE)

    def applications(self, ids=None) -> pd.DataFrame:
        """Applications on file (all, or ``ids``), in the order received."""
        if not self._has_apps():
            return pd.DataFrame({c.name: [] for c in APPLICATIONS.columns})
        if ids is None:
            a = self.store.read(APPLICATIONS_TABLE)
        else:
            wanted = [str(i) for i in pd.unique(np.atleast_1d(np.asarray(ids, dtype=object)))]
            a = self.store.read(APPLICATIONS_TABLE, where_in={"application_id": wanted or [""]})
        a = a.sort_values(["received_at", "application_id"], kind="stable", ignore_index=True)
        return _restore_apps(a)

    def application(self, app_id) -> pd.Series:
        a = self.applications([app_id])
        if not len(a):
            raise _error(app_id, "no such application on file", "application_id")
        return a.iloc[0]

    # --- steps -----------------------------------------------------------------------------
    def steps(self, app_id=None) -> pd.DataFrame:
        """Recorded steps (all, one application's, or a list of applications'), oldest first."""
        if not self.store.has_table(STEPS_TABLE):
            return pd.DataFrame({c: [] for c in STEP_COLUMNS})
        if isinstance(app_id, list | tuple | np.ndarray | pd.Index):
            ids = [str(a) for a in app_id] or [""]
            return self.store.read(STEPS_TABLE, where_in={"application_id": ids},
                                   order_by="step_id")  # fmt: skip
        where = {"application_id": str(app_id)} if app_id is not None else None
        return self.store.read(STEPS_TABLE, where=where, order_by="step_id")

    def state(self, app_id) -> FileState:
        """Where one application stands (replayed from its steps)."""
        return self._file(app_id)[0]

    def _file(self, app_id) -> tuple[FileState, pd.DataFrame]:
        steps = self.steps(app_id)
        if not len(steps):
            raise _error(app_id, "no such application on file", "application_id")
        return _replay(app_id, steps), steps

    def _append_steps(self, steps: pd.DataFrame, conn) -> pd.DataFrame:
        s = steps.copy()
        for c in ("conditions", "comment", "detail"):
            if c not in s.columns:
                s[c] = "[]" if c == "conditions" else ("{}" if c == "detail" else "")
        s["decided_at"] = pd.to_datetime(s["decided_at"]).astype("datetime64[ns]")
        s["recorded_at"] = _now()
        s = s[list(STEP_COLUMNS[1:])].astype(
            {c: object for c in ("comment", "conditions", "detail")}
        )
        return self.store.append_numbered(STEPS_TABLE, s, "step_id", conn)

    def record(self, app_id, step: str, actors, decision: str, *, role: str, comment="",
               conditions=(), detail=None, at=None) -> pd.DataFrame:  # fmt: skip
        """Append one step (one row per actor) after the caller's checks; returns the rows."""
        if decision not in STEPS.get(step, ()):
            raise _error(app_id, f"{step} cannot record {decision!r}; allowed: {STEPS.get(step)}",
                         "decision")  # fmt: skip
        actors = [actors] if isinstance(actors, str) else list(actors)
        check_step_date(app_id, step, _now(at), self.steps(app_id))
        rows = pd.DataFrame(
            {
                "application_id": str(app_id),
                "step": step,
                "actor": actors,
                "role": role,
                "decision": decision,
                "conditions": _json([str(c) for c in conditions]),
                "comment": str(comment or ""),
                "detail": _json(detail or {}),
                "decided_at": _now(at),
            }
        )
        with self.store.transaction() as conn:
            return self._append_steps(rows, conn)

    # --- system steps: admission and route ------------------------------------------------
    def assess(
        self, ids=None, as_of=None, *, grades=None, book=None, score: bool = True
    ) -> ProcessAssessment:
        """Admission, group exposure and approval route for applications (default: those not
        yet assessed), recorded as ``admission`` and ``route`` steps by riskkit.

        Parameters
        ----------
        ids : application ids, optional
        as_of : date-like, optional
            Decision date (default each application's date).
        grades : mapping or Series application_id -> master-scale grade, optional
            Default (``score=True``): the store's approved champion scores the applications
            (:func:`riskkit.lending.scoring.score_applications`); without an approved model
            there is no grade and the committee decides (policy ``approval.committee_for``).
        book : LoanBook, optional
            The loan book (default the stored one, if any): exposure with the lender, loans
            overdue now, joint-guarantee groups.
        """
        apps = self._pending(ids)
        if not len(apps):
            raise _error("(none)", "no application to assess")
        ctx = self.context(apps, as_of, book)
        adm = check_admission(apps, ctx["customers"], as_of, exposure=ctx["exposure"],
                              policy=self.policy, validate=False)  # fmt: skip
        scores = None
        if grades is None and score:
            scores = self._scores(apps, ctx["customers"], ctx["book"])
            grades = None if scores is None else scores.table["grade"]
        g = None if grades is None else pd.Series(grades).reindex(apps["application_id"])
        route = approval_route(
            apps,
            grade=None if g is None else g.to_numpy(dtype=object),
            admission=adm,
            exposure=ctx["exposure"],
            group_over_limit=ctx["group_over_limit"],
            policy=self.policy,
        )
        steps = _assessment_steps(apps, adm, route, as_of, scores)
        with self.store.transaction() as conn:
            self._append_steps(steps, conn)
        return ProcessAssessment(adm, route, ctx["groups"], scores)

    def _scores(self, apps, customers, book):
        """The approved champion's scores of ``apps`` (None without an approved model)."""
        from .scoring import champion_scorecard, score_applications

        try:
            model, label = champion_scorecard(self.store)
        except ValidationError:
            return None
        return score_applications(model, apps, customers, book, label=label, policy=self.policy)

    def _pending(self, ids) -> pd.DataFrame:
        apps = self.applications(ids)
        if ids is None and len(apps):
            st = self.steps()
            done = st.loc[st["step"] == "route", "application_id"]
            apps = apps[~apps["application_id"].isin(done)].reset_index(drop=True)
        return apps

    def context(self, apps: pd.DataFrame, as_of, book=None) -> dict:
        """What judging ``apps`` at ``as_of`` needs: ``customers`` (their register records),
        ``exposure`` (per borrower: outstanding and days past due with the lender, up to the
        book's extract date), ``groups`` (:class:`~riskkit.book.groups.GroupExposure` with
        the requests), ``group_over_limit`` (per application) and ``book``."""
        from ..book.customers import CustomerRegister
        from ..book.groups import group_exposure

        if book is None:
            book = self.book
        customers = CustomerRegister(self.store).load(apps["borrower_id"])
        exposure, groups, over = None, None, np.zeros(len(apps), dtype=bool)
        when = as_of if as_of is not None else apps["application_date"].max()
        if pd.notna(when):
            customers = register_as_of(self.store, customers, when)
        if book is not None:
            mine = book.loans["borrower_id"].isin(apps["borrower_id"]).to_numpy(dtype=bool)
            gids = apps["group_id"].dropna() if "group_id" in apps else pd.Series([])
            in_group = book.guarantors["group_id"].isin(gids).to_numpy(dtype=bool)
            ids = pd.unique(np.r_[book.loans.loc[mine, "loan_id"].to_numpy(dtype=object),
                                  book.guarantors.loc[in_group, "loan_id"].to_numpy(dtype=object)])  # fmt: skip
            # what is overdue with us is known up to the book's extract date
            seen = min(pd.Timestamp(when), pd.Timestamp(book.as_of_date or when))
            sub = book.subset(ids).disbursed_by(seen)
            if len(sub.loans):
                exposure = borrower_exposure(sub, seen)
            st = sub.status(seen) if len(sub.loans) else None
            outstanding = st["outstanding_principal"] if st is not None else {}
            groups = group_exposure(sub.loans, sub.guarantors, outstanding, applications=apps,
                                    as_of=when, policy=self.policy)  # fmt: skip
        else:
            empty = pd.DataFrame({"loan_id": [], "borrower_id": [], "guarantor_id": [],
                                  "group_id": []})  # fmt: skip
            groups = group_exposure(empty, empty, {}, applications=apps, policy=self.policy)
        if "group_id" in apps:
            ov = groups.table["over_limit"].reindex(apps["group_id"]).fillna(False)
            over = ov.to_numpy(dtype=bool)
        return {"customers": customers, "exposure": exposure, "groups": groups,
                "group_over_limit": over, "book": book}  # fmt: skip

    # --- human steps -----------------------------------------------------------------------
    def investigate(self, app_id, officers, decision: str = "recommend", comment: str = "",
                    at=None) -> pd.DataFrame:  # fmt: skip
        """The investigation (贷前调查): ``officers`` (two for an on-site investigation,
        policy ``approval.investigators``) recommend the loan or decline it."""
        officers = [officers] if isinstance(officers, str) else list(officers)
        st = self._open(app_id)
        if st.level is None:
            raise _error(app_id, "investigation needs the admission check and route first")
        if st.investigated_by:
            raise _error(app_id, f"already investigated by {', '.join(st.investigated_by)}")
        _two_people(app_id, officers, st.investigators)
        self._check_staff(app_id, officers, "officer", "investigating officer")
        for o in officers:
            conflict(app_id, "investigating officer", o, self._roles_now(app_id))
        _require_text(app_id, comment, "an investigation report (comment) is required")
        return self.record(app_id, "investigation", officers, decision,
                           role="investigating officer", comment=comment, at=at)  # fmt: skip

    def review(self, app_id, reviewer: str, decision: str, comment: str = "", conditions=(),
               at=None) -> pd.DataFrame:  # fmt: skip
        """The independent review (审查): ``pass``, ``return`` (back to investigation) or
        ``decline``; conditions proposed are passed on to the approver."""
        st = self._open(app_id)
        if not st.investigated_by:
            raise _error(app_id, "review needs the investigation first")
        if st.reviewed:
            raise _error(app_id, "already reviewed; the approver decides next")
        self._check_staff(app_id, [reviewer], "reviewer", "reviewer")
        conflict(app_id, "reviewer", reviewer, self._roles_now(app_id))
        _require_text(app_id, comment, "the review opinion (comment) is required")
        return self.record(app_id, "review", reviewer, decision, role="reviewer",
                           comment=comment, conditions=conditions, at=at)  # fmt: skip

    def approve(self, app_id, approver: str, decision: str, comment: str = "", conditions=(),
                amount: float | None = None, at=None) -> pd.DataFrame:  # fmt: skip
        """The approval (审批) by one approver holding the authority the route requires
        (officer or branch approver; a committee-level application goes to the committee)."""
        st = self._open(app_id)
        if not st.reviewed:
            raise _error(app_id, "approval needs a passed independent review first")
        if st.decision is not None:
            raise _error(app_id, f"already decided ({st.decision})")
        if st.level == "credit_committee":
            raise _error(app_id, "the route requires the credit committee: record its vote "
                         "(riskkit.lending.committee)", "level")  # fmt: skip
        self._check_authority(app_id, approver, str(st.level))
        conflict(app_id, "approver", approver, self._roles_now(app_id))
        _check_decision(app_id, decision, conditions, comment)
        detail = {"level": st.level, **({"amount": float(amount)} if amount else {})}
        return self.record(app_id, "approval", approver, decision, role="approver",
                           comment=comment, conditions=conditions, detail=detail, at=at)  # fmt: skip

    def meet_condition(self, app_id, condition: str, actor: str, comment: str = "",
                       at=None) -> pd.DataFrame:  # fmt: skip
        """Record that one condition of the approval is met (with evidence in ``comment``)."""
        st = self._open(app_id)
        if condition not in st.open_conditions:
            raise _error(app_id, f"{condition!r} is not an open condition of the approval; open: "
                         f"{list(st.open_conditions)}", "condition")  # fmt: skip
        self._check_staff(app_id, [actor], None, "condition")
        return self.record(app_id, "condition_met", actor, "met", role="loan officer",
                           comment=comment, detail={"condition": condition}, at=at)  # fmt: skip

    def accept_offer(self, app_id, actor: str, comment: str = "", at=None) -> pd.DataFrame:
        """The applicant accepts the counter-offer the committee approved (recorded by the
        officer, with how it was accepted in ``comment``); the contract needs it."""
        st = self._open(app_id)
        if st.decision != "counter_offer_approved":
            raise _error(app_id, f"no counter-offer to accept (decision: {st.decision})")
        if st.offer_accepted:
            raise _error(app_id, "the counter-offer is already accepted")
        self._check_staff(app_id, [actor], None, "counter-offer")
        _require_text(app_id, comment, "how the applicant accepted (comment) is required")
        return self.record(app_id, "offer_accepted", actor, "accepted", role="loan officer",
                           comment=comment, detail={"amount": st.amount_approved}, at=at)  # fmt: skip

    def sign_contract(self, app_id, actor: str, contract_id: str = "", at=None) -> pd.DataFrame:
        """The loan contract is signed (签订合同); needs the approval (and, for a counter-offer,
        the applicant's acceptance)."""
        st = self._open(app_id)
        if not st.approved:
            raise _error(app_id, "a contract needs the approval first")
        if st.stage == "offer":
            raise _error(app_id, f"a contract needs the applicant's acceptance of the "
                         f"counter-offer of {st.amount_approved:,.0f} first")  # fmt: skip
        if st.contract:
            raise _error(app_id, "the contract is already signed")
        self._check_staff(app_id, [actor], None, "contract")
        return self.record(app_id, "contract", actor, "signed", role="loan officer",
                           detail={"contract_id": contract_id} if contract_id else {}, at=at)  # fmt: skip

    def withdraw(self, app_id, actor: str, reason: str, at=None) -> pd.DataFrame:
        """The applicant withdraws (or a household leaves a joint group)."""
        self._open(app_id)
        _require_text(app_id, reason, "a reason is required")
        return self.record(app_id, "withdrawn", actor, "withdrawn", role="loan officer",
                           comment=reason, at=at)  # fmt: skip

    def disburse(
        self, app_id, actor: str, loan_id: str | None = None, at=None
    ) -> DisbursementCheck:
        """Pay out the loan if every disbursement condition holds (policy
        ``disbursement.conditions``); otherwise a :class:`ProcessError` lists the failures."""
        check = self.disbursement_check([app_id], at=at)
        if not bool(check.table.loc[app_id, "ok"]):
            raise ProcessError(
                [Problem("process", c, f"application {app_id}: {t}")
                 for c, t in check.failures_of(app_id)],
                "disbursement conditions",
            )  # fmt: skip
        self._check_staff(app_id, [actor], None, "disbursement")
        st = self.state(app_id)
        amount = st.amount_approved or float(check.amounts[app_id])
        lid = loan_id or f"L{app_id}"
        self.record(app_id, "disbursement", actor, "disbursed", role="loan officer",
                    detail={"loan_id": lid, "amount": amount}, at=at)  # fmt: skip
        return check

    # --- checks --------------------------------------------------------------------------
    def _open(self, app_id) -> FileState:
        st, steps = self._file(app_id)
        if st.closed:
            raise _error(app_id, f"the file is closed ({st.closed})")
        self._roles = _roles_of(steps)
        return st

    def roles_on_file(self, app_id=None) -> pd.DataFrame:
        """``application_id, person, role`` for the separation of duties."""
        out = _roles_of(self.steps(app_id))
        if app_id is not None:
            from .committee import committee_roles

            out = pd.concat([out, committee_roles(self.store, app_id)], ignore_index=True)
        return out.drop_duplicates(ignore_index=True)

    def _roles_now(self, app_id) -> pd.DataFrame:
        """Roles on file of the application just opened (``_open``) and its committee votes."""
        from .committee import committee_roles

        return pd.concat([self._roles, committee_roles(self.store, app_id)], ignore_index=True)

    def _check_staff(self, app_id, people, role: str | None, what: str) -> None:
        staff = self.staff()
        unknown = [p for p in people if p not in staff.index]
        if unknown:
            raise _error(app_id, f"{what}: {unknown} not in the credit staff", "actor")
        if role is not None:
            wrong = [p for p in people if not has_role(staff, p, role)]
            if wrong:
                held = ", ".join(f"{p} ({staff.at[p, 'role']})" for p in wrong)
                raise _error(app_id, f"{what} must be a {role}: {held}", "actor")

    def _check_authority(self, app_id, approver: str, level: str) -> None:
        self._check_staff(app_id, [approver], None, "approver")
        held = self.staff().at[approver, "approval_level"]
        if level_rank(held) < level_rank(level):
            raise _error(
                app_id,
                f"approver {approver!r} holds {held or 'no'} authority; the route requires "
                f"the {LEVEL_TEXT[level][0]}",
                "actor",
                SeparationOfDutiesError,
            )

    # --- disbursement conditions ---------------------------------------------------------
    def disbursement_check(self, ids=None, at=None) -> DisbursementCheck:
        """The disbursement conditions (policy ``disbursement.conditions``) for applications,
        judged at ``at`` (default now): admission still holds at that date (or the committee
        granted an override), the terms within the limits, approved by the authority the route
        requires, every condition met, the contract signed."""
        apps = self.applications(ids)
        when = _now(at).normalize()
        ctx = self.context(apps, when, None)
        adm = check_admission(apps, ctx["customers"], when, exposure=ctx["exposure"],
                              policy=self.policy, validate=False)  # fmt: skip
        steps = self.steps(apps["application_id"].tolist())
        by_app = dict(tuple(steps.groupby("application_id", sort=False)))
        states = {a: _replay(a, by_app.get(a, steps.iloc[:0])) for a in apps["application_id"]}
        return _disbursement_table(apps, adm, states, self.policy)

    # --- reading -------------------------------------------------------------------------
    def file(self, app_id, lang: str = "en") -> CreditFile:
        """The credit file of one application: terms, the customer (masked), every step with
        who, when, what and why, where it stands and what is still open."""
        from ..book.customers import CustomerRegister

        app = self.application(app_id)
        customer = CustomerRegister(self.store).view(app["borrower_id"])
        steps = self.steps(app_id)
        return CreditFile(app, customer, _timeline(steps, lang), self.state(app_id))

    def status(self) -> pd.DataFrame:
        """Every application with its route level, stage and last decision."""
        apps = self.applications()
        steps = self.steps()
        rows = []
        for a in apps.itertuples(index=False):
            st = _replay(a.application_id, steps[steps["application_id"] == a.application_id])
            rows.append((a.application_id, a.borrower_id, a.amount, st.level, st.stage,
                         st.decision, len(st.open_conditions)))  # fmt: skip
        cols = ["application_id", "borrower_id", "amount", "level", "stage", "decision",
                "open_conditions"]  # fmt: skip
        return pd.DataFrame(rows, columns=cols).set_index("application_id")


@dataclass
class ProcessAssessment:
    """What :meth:`CreditProcess.assess` found: admission, route, joint groups and the
    champion's scores (None without an approved model)."""

    admission: AdmissionResult
    route: Route
    groups: object
    scores: object = None

    def to_frame(self) -> pd.DataFrame:
        t = self.admission.table.join(self.route.table[["level", "exposure", "reasons"]])
        return t.reset_index()

    def __repr__(self) -> str:
        return f"ProcessAssessment({self.admission!r}; {self.route!r})"

    def _repr_html_(self) -> str:
        return self.admission._repr_html_() + self.route._repr_html_()


def _assessment_steps(apps, adm: AdmissionResult, route: Route, as_of, scores) -> pd.DataFrame:
    ids = apps["application_id"].to_numpy()
    t = adm.table.reindex(ids)
    r = route.table.reindex(ids)
    when = (np.full(len(ids), np.datetime64(pd.Timestamp(as_of).date(), "ns")) if as_of is not None
            else apps["application_date"].to_numpy())  # fmt: skip
    fails = adm.failures.groupby("application_id")["explanation_en"].agg(list)
    adm_detail = [
        _json(
            {
                "failed": [c for c in codes.split(",") if c],
                "facts": fails.get(a, []),
                "admitted": bool(ad),
                "terms_ok": bool(ok),
            }
        )  # fmt: skip
        for a, codes, ad, ok in zip(
            ids, t["failed"].to_numpy(), t["admitted"], t["terms_ok"], strict=True
        )  # fmt: skip
    ]
    sc = scores.table.reindex(ids) if scores is not None else None
    route_detail = [_route_detail(r, sc, k, scores) for k in range(len(ids))]
    a_rows = pd.DataFrame({"application_id": ids, "step": "admission", "actor": SYSTEM,
                           "role": "system", "decision": np.where(t["eligible"], "pass", "fail"),
                           "comment": "", "detail": adm_detail, "decided_at": when})  # fmt: skip
    r_rows = pd.DataFrame({"application_id": ids, "step": "route", "actor": SYSTEM,
                           "role": "system", "decision": r["level"].to_numpy(),
                           "comment": r["reasons"].to_numpy(), "detail": route_detail,
                           "decided_at": when})  # fmt: skip
    return pd.concat([a_rows, r_rows]).sort_index(kind="stable").reset_index(drop=True)


def _route_detail(r: pd.DataFrame, sc, k: int, scores) -> str:
    """The route step's detail: investigators, exceptions, exposure, and the champion's
    score, PD and grade at the assessment."""
    return _json(
        {
            "investigators": int(r["investigators"].iloc[k]),
            "exceptions": [c for c in r["exceptions"].iloc[k].split(",") if c],
            "exposure": float(r["exposure"].iloc[k]),
            "grade": r["grade"].iloc[k],
            "model": None if scores is None else scores.model,
            "score": None if sc is None else float(sc["score"].iloc[k]),
            "pd": None if sc is None else float(sc["pd"].iloc[k]),
        }
    )


def register_as_of(store, customers: pd.DataFrame, as_of) -> pd.DataFrame:
    """``customers`` (current register records) as they stood on ``as_of``: every field
    changed after that day is set back to the value it had before the first such change (the
    register's history), so a decision is judged on the facts known when it was taken.

    Customers first recorded after ``as_of`` keep their first record.
    """
    from ..book.customers import HISTORY

    if not len(customers) or not store.has_table(HISTORY):
        return customers
    ids = [str(b) for b in customers["borrower_id"]]
    h = store.read(HISTORY, where_in={"borrower_id": ids}, order_by="change_id")
    later = pd.to_datetime(h["changed_at"]).dt.normalize() > pd.Timestamp(as_of).normalize()
    h = h[later.to_numpy(dtype=bool) & h["field"].isin(customers.columns).to_numpy(dtype=bool)]
    if not len(h):
        return customers
    first = h.drop_duplicates(["borrower_id", "field"], keep="first")
    out = customers.set_index("borrower_id")
    for col, rows in first.groupby("field", sort=False):
        old = pd.Series(rows["old_value"].to_numpy(dtype=object), index=rows["borrower_id"])
        out.loc[old.index, col] = _from_text(old, out[col]).to_numpy()
    return out.reset_index()


def _from_text(values: pd.Series, like: pd.Series) -> pd.Series:
    """History text (dates ``YYYY-MM-DD``, numbers, ``true``/``false``) in ``like``'s type."""
    if pd.api.types.is_datetime64_any_dtype(like.dtype):
        return pd.to_datetime(values, format="%Y-%m-%d").astype(like.dtype)
    if pd.api.types.is_bool_dtype(like.dtype):
        return values.map({"true": True, "false": False})
    if pd.api.types.is_numeric_dtype(like.dtype):
        return pd.to_numeric(values)
    return values


def check_step_date(app_id, step: str, when, steps: pd.DataFrame) -> None:
    """Raise :class:`ProcessError` when ``step`` dated ``when`` would come before the latest
    step it follows (:data:`AFTER`) among the application's recorded ``steps``.

    Examples
    --------
    >>> steps = pd.DataFrame({"step": ["application", "investigation"],
    ...                       "decided_at": pd.to_datetime(["2026-11-02", "2026-11-16"])})
    >>> check_step_date("A1", "review", pd.Timestamp("2026-11-16"), steps)
    >>> check_step_date("A1", "review", pd.Timestamp("2026-11-13"), steps)
    Traceback (most recent call last):
    ...
    riskkit.lending.process.ProcessError: ...
    """
    before = AFTER.get(step, ())
    prior = steps[steps["step"].isin(before).to_numpy(dtype=bool)] if len(steps) else steps
    if not before or not len(prior):
        return
    last = prior.assign(at=pd.to_datetime(prior["decided_at"])).sort_values("at").iloc[-1]
    if pd.Timestamp(when).normalize() < last["at"].normalize():
        raise _error(
            app_id,
            f"{step} dated {pd.Timestamp(when):%Y-%m-%d} is before the {last['step']} of "
            f"{last['at']:%Y-%m-%d} (steps come in order: received <= investigation <= review "
            "<= approval or committee <= contract <= disbursement)",
            "decided_at",
        )


def _two_people(app_id, officers: list, needed: int) -> None:
    if len(officers) < needed:
        raise _error(app_id, f"the on-site investigation takes {needed} officers; got "
                     f"{len(officers)} ({', '.join(officers) or 'none'})", "actor")  # fmt: skip
    if len(set(officers)) < len(officers):
        dup = pd.Series(officers)[pd.Series(officers).duplicated()].iloc[0]
        raise _error(
            app_id,
            f"investigating officers {dup!r} and {dup!r} are the same person; the on-site "
            f"investigation takes {needed} different officers (双人调查)",
            "actor",
            SeparationOfDutiesError,
        )


def _require_text(app_id, text, rule: str) -> None:
    if is_blank(pd.Series([text], dtype=object))[0]:
        raise _error(app_id, rule, "comment")


def _check_decision(app_id, decision: str, conditions, comment) -> None:
    if decision == "approve_with_conditions" and not list(conditions):
        raise _error(app_id, "an approval with conditions must state them", "conditions")
    if decision in ("decline", "return"):
        _require_text(app_id, comment, f"a {decision} needs its reason (comment)")


def _storable(apps: pd.DataFrame) -> pd.DataFrame:
    out = apps.copy()
    for c in ("group_id",):
        out[c] = out[c].astype(object).where(out[c].notna(), None)
    out["admission_override"] = out["admission_override"].astype("boolean").fillna(False)
    return out.astype({"admission_override": bool})


def _restore_apps(a: pd.DataFrame) -> pd.DataFrame:
    a = a.copy()
    a["group_id"] = a["group_id"].astype(object).where(a["group_id"].notna(), None)
    a["admission_override"] = a["admission_override"].astype(bool)
    for c in ("n_guarantors",):
        a[c] = a[c].astype("Int64") if a[c].isna().any() else a[c].astype(np.int64)
    return a


# ---------------------------------------------------------------------------------------------
# disbursement conditions


def disbursement_conditions(policy=None) -> pd.DataFrame:
    """The policy's disbursement conditions (index ``code``: article, en, zh)."""
    p = load_policy(policy) if not isinstance(policy, Policy) else policy
    return pd.DataFrame(p["disbursement"]["conditions"]).T.rename_axis("code")


def _disbursement_table(apps, adm, states: dict, policy) -> DisbursementCheck:
    ids = apps["application_id"].to_numpy()
    t = adm.table.reindex(ids)
    st = [states[a] for a in ids]
    override = np.array(["admission_override" in s.exceptions and s.approved for s in st])
    cond = pd.DataFrame(
        {
            "admitted": t["admitted"].to_numpy(dtype=bool) | override,
            "loan_terms": t["terms_ok"].to_numpy(dtype=bool),
            "approved": np.array([s.approved and s.reviewed for s in st]),
            "conditions_met": np.array([s.approved and not s.open_conditions for s in st]),
            "contract_signed": np.array([s.contract for s in st]),
        },
        index=pd.Index(ids, name="application_id"),
    )
    cond["ok"] = cond.all(axis=1) & ~np.array([bool(s.closed) for s in st])
    why = {a: _why_not(a, cond.loc[a], adm, states[a]) for a in ids}
    amounts = dict(zip(ids, apps["amount"].to_numpy(dtype=float), strict=True))
    return DisbursementCheck(cond, why, disbursement_conditions(policy), amounts)


def _roles_of(steps: pd.DataFrame) -> pd.DataFrame:
    """``application_id, person, role`` of the steps where a person acts in a role."""
    s = steps[steps["step"].isin(list(STEP_ROLE)).to_numpy(dtype=bool)]
    return pd.DataFrame(
        {
            "application_id": s["application_id"].to_numpy(dtype=object),
            "person": s["actor"].to_numpy(dtype=object),
            "role": s["step"].map(STEP_ROLE).to_numpy(dtype=object),
        }
    )


def _why_not(app_id, row, adm: AdmissionResult, st: FileState) -> list[tuple[str, str]]:
    out = []
    f = adm.failures[adm.failures["application_id"] == app_id]
    if st.closed:
        out.append(("closed", f"the file is closed ({st.closed})"))
    if not row["admitted"]:
        facts = f.loc[f["kind"] == "admission", "explanation_en"].tolist()
        out.append(("admitted", "not admitted at disbursement: " + "; ".join(facts)))
    if not row["loan_terms"]:
        facts = f.loc[f["kind"] == "loan", "explanation_en"].tolist()
        out.append(("loan_terms", "terms outside the limits: " + "; ".join(facts)))
    if not row["approved"]:
        out.append(("approved", f"not approved (stage: {st.stage})"))
    if st.approved and st.open_conditions:
        out.append(("conditions_met", "open conditions: " + "; ".join(st.open_conditions)))
    if not row["contract_signed"]:
        out.append(("contract_signed", "the contract is not signed"))
    return out


@dataclass
class DisbursementCheck(TableResult):
    """Disbursement conditions per application (:meth:`CreditProcess.disbursement_check`).

    ``table`` (index ``application_id``): one boolean column per condition and ``ok``;
    ``reasons``: application -> [(condition, what is missing)]; ``conditions``: the policy's
    conditions with their texts.
    """

    table: pd.DataFrame
    reasons: dict
    conditions: pd.DataFrame
    amounts: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return self.table.reset_index()

    def failures_of(self, app_id) -> list[tuple[str, str]]:
        return self.reasons.get(app_id, [])

    def explain(self, app_id, lang: str = "en") -> list[str]:
        """Each condition for one application: ``[pass]`` / ``[fail]`` with what is missing."""
        miss = dict(self.failures_of(app_id))
        col = "zh" if lang == "zh" else "en"
        lines = []
        for code, c in self.conditions.iterrows():
            ok = bool(self.table.at[app_id, code])
            lines.append(f"[{'pass' if ok else 'fail'}] {code}: {c[col]}"
                         + ("" if ok else f" -- {miss.get(code, '')}"))  # fmt: skip
        return lines

    def __repr__(self) -> str:
        ok = int(self.table["ok"].sum())
        return f"DisbursementCheck({len(self.table):,} applications, {ok:,} may be disbursed)"

    def _repr_html_(self) -> str:
        return f"<div><b>Disbursement conditions 放款条件</b>{self.table.to_html()}</div>"


# ---------------------------------------------------------------------------------------------
# the credit file


def _timeline(steps: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Steps as the file shows them: when, what, who (role), decision, conditions, why."""
    s = steps.copy()
    k = 1 if lang == "zh" else 0
    s["what"] = s["step"].map(lambda x: STEP_TEXT[x][k])
    s["conditions"] = s["conditions"].map(lambda c: "; ".join(json.loads(c or "[]")))
    s["why"] = [_why(r) for r in s.itertuples(index=False)]
    cols = ["step_id", "decided_at", "what", "actor", "role", "decision", "conditions", "why"]
    return s[cols].reset_index(drop=True)


def _why(row) -> str:
    d = json.loads(row.detail) if isinstance(row.detail, str) and row.detail else {}
    if row.step == "admission":
        return "; ".join(d.get("facts", [])) or "every admission rule passed"
    if row.step == "route":
        return row.comment
    if row.step == "condition_met":
        return f"{d.get('condition')}: {row.comment}".rstrip(": ")
    if row.step == "disbursement":
        return f"loan {d.get('loan_id')} of {d.get('amount', 0):,.0f}"
    if row.step == "committee":
        parts = [f"meeting {d.get('meeting_id')}: {d.get('tally', '')}", str(row.comment or "")]
        if d.get("amount"):
            parts.append(f"amount approved {d['amount']:,.0f}")
        parts.append(d.get("note", ""))
        return "; ".join(p for p in parts if p)
    return str(row.comment or "")


@dataclass(repr=False)
class CreditFile(TableResult):
    """One application's credit file (:meth:`CreditProcess.file`): ``table`` is the timeline
    of its steps (when, what, who in which role, decision, conditions, why)."""

    application: pd.Series
    customer: pd.DataFrame
    table: pd.DataFrame
    state: FileState

    def __repr__(self) -> str:
        a = self.application
        st = self.state
        lines = [
            f"CreditFile {a['application_id']}: {a['borrower_id']} asks {a['amount']:,.0f} "
            f"({a['product']}, {a['term_months']} months, {a['guarantee_type']}); route: "
            f"{st.level}; stage: {st.stage}"
        ]
        for r in self.table.itertuples(index=False):
            cond = f" [conditions: {r.conditions}]" if r.conditions else ""
            lines.append(f"  {pd.Timestamp(r.decided_at):%Y-%m-%d} {r.what}: {r.decision} by "
                         f"{r.actor} ({r.role}){cond} - {r.why}")  # fmt: skip
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = html.escape(repr(self).splitlines()[0])
        return f"<div><b>{head}</b>{self.customer.to_html()}{self.table.to_html(index=False)}</div>"
