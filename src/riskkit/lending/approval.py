"""Who must approve an application (the authority matrix, 审批权限) and who may act on it
(separation of duties, 审贷分离; seed 000 art. 11).

**Route.** The policy's ``approval.authority`` gives each delegated level (``officer``: a lead
officer with authority for small loans; ``branch_approver``: the branch's approver) the largest
exposure it may approve per guarantee type and the worst risk grade. An application goes to
the lowest level whose authority covers it: exposure = the borrower's outstanding with the
lender + the amount requested; grade = the master-scale grade of the approved model (R1 best).
Beyond the branch approver, and for the exceptions of ``approval.committee_for`` (an admission
override, a joint group over its limit, no risk grade), the credit committee decides. An
application that fails admission without an override, or whose terms break the product's or
the regulator's limits, is not routed: it is declined as requested (hard rules first).

**Separation of duties.** For one application the investigating officers (two for an on-site
investigation, ``approval.investigators``), the reviewer and the approver (or the committee
members voting) are different people; the approver holds at least the authority the route
requires (staff ``approval_level``). A violation is a :class:`SeparationOfDutiesError` naming
both people and their roles.

Examples
--------
>>> import pandas as pd
>>> apps = pd.DataFrame({"application_id": ["A1", "A2", "A3"], "borrower_id": ["B1", "B2", "B3"],
...                      "amount": [30_000.0, 250_000.0, 400_000.0],
...                      "guarantee_type": ["credit", "guaranteed", "joint"]})
>>> r = approval_route(apps, grade=["R2", "R6", "R3"])
>>> r.table["level"].tolist()
['officer', 'branch_approver', 'credit_committee']
>>> r.table.loc["A3", "reasons"]
'exposure 400,000 (request 400,000) above the branch approver authority of 300,000 for joint loans'
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..book.keys import positions
from ..errors import Problem, ProblemCollector, ValidationError
from ..policy import Policy, load_policy
from ..results import TableResult
from .applications import column_or

#: Approval levels, lowest authority first.
LEVELS = ("officer", "branch_approver", "credit_committee")
LEVEL_TEXT = {
    "officer": ("officer", "授权客户经理"),
    "branch_approver": ("branch approver", "支行审批人"),
    "credit_committee": ("credit committee", "贷款审批委员会"),
    "declined": ("declined as requested (not routed)", "按申请条件否决（不进入审批）"),
}
#: Roles a person can hold on one application (separation of duties).
ROLES = ("investigating officer", "reviewer", "approver", "committee member")
STAFF_ROLES = ("officer", "reviewer", "approver", "committee_member")


class SeparationOfDutiesError(ValidationError):
    """The same person in two roles on one application, or an approver without authority."""


def approval_policy(policy=None) -> dict:
    """The policy's ``approval`` section, checked (levels, guarantee types, grades)."""
    p = load_policy(policy) if not isinstance(policy, Policy) else policy
    a = p["approval"]
    from ..book.enums import GuaranteeType

    for level in LEVELS[:2]:
        auth = a["authority"][level]
        missing = [g for g in GuaranteeType.values() if g not in auth]
        if missing:
            raise ValueError(f"policy approval.authority.{level} lacks {missing}")
    if int(a["investigators"]) < 1:
        raise ValueError("policy approval.investigators must be at least 1")
    return a


def grade_number(grade) -> np.ndarray:
    """Master-scale grades ``R1``..``Rn`` as numbers (missing: NaN).

    >>> grade_number(["R1", "R10", None]).tolist()
    [1.0, 10.0, nan]
    """
    g = np.atleast_1d(np.asarray(grade, dtype=object))
    codes, distinct = pd.factorize(pd.Series(g, dtype=object))  # each grade parsed once
    num = pd.to_numeric(
        pd.Series(np.asarray(distinct, dtype=object)).str.extract(r"^[Rr]?(\d+)$", expand=False),
        errors="coerce",
    ).to_numpy(dtype=float)
    return np.where(codes >= 0, num[np.maximum(codes, 0)] if len(num) else np.nan, np.nan)


@dataclass
class Route(TableResult):
    """The approval route of each application (:func:`approval_route`).

    ``table`` (index ``application_id``): ``exposure``, ``guarantee_type``, ``grade``,
    ``level`` (``officer``, ``branch_approver``, ``credit_committee`` or ``declined``),
    ``investigators`` (officers the investigation needs), ``exceptions`` (codes that sent it
    to the committee), ``reasons`` and ``reasons_zh`` (why this level).
    """

    table: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.table.reset_index()

    def counts(self) -> pd.Series:
        """Applications per level."""
        return self.table["level"].value_counts().reindex([*LEVELS, "declined"], fill_value=0)

    def __repr__(self) -> str:
        c = self.counts()
        parts = ", ".join(f"{k}={v:,}" for k, v in c.items())
        return f"Route({len(self.table):,} applications: {parts})"

    def _repr_html_(self) -> str:
        return (
            f"<div><b>Approval route 审批路径</b>: {html.escape(repr(self))}"
            f"{self.counts().to_frame('applications').to_html()}</div>"
        )


def approval_route(
    applications: pd.DataFrame,
    grade=None,
    *,
    admission=None,
    exposure: pd.DataFrame | None = None,
    group_over_limit=None,
    policy=None,
) -> Route:
    """The level that must approve each application, vectorised.

    Parameters
    ----------
    applications : DataFrame
        ``application_id, borrower_id, amount, guarantee_type`` (+ ``admission_override``).
    grade : array-like of str, optional
        Master-scale grade per application (``R1`` best) from the approved model; missing
        grades send the application to the committee (``approval.committee_for.no_risk_grade``).
    admission : AdmissionResult, optional
        Applications not admitted (without an override) or with terms outside the limits are
        ``declined``; an override goes to the committee.
    exposure : DataFrame, optional
        Per borrower ``outstanding`` with the lender (:func:`~riskkit.lending.admission.
        borrower_exposure`).
    group_over_limit : array-like of bool, optional
        The application's joint group exceeds its limit with this request.
    policy : Policy, mapping or path, optional

    Returns
    -------
    Route
    """
    a = applications.reset_index(drop=True)
    ap = approval_policy(policy)
    n = len(a)
    g = a["guarantee_type"].astype(object).to_numpy()
    amount = a["amount"].to_numpy(dtype=float)
    out = np.zeros(n)
    if exposure is not None and len(exposure):
        ep = positions(exposure.index, a["borrower_id"])
        owed = exposure["outstanding"].to_numpy(dtype=float)
        out = np.where(ep >= 0, owed[np.maximum(ep, 0)], 0.0)
    total = amount + out
    gr = np.full(n, np.nan) if grade is None else grade_number(grade)
    level, reason_en, reason_zh = _delegated_level(ap, g, total, amount, out, gr)
    exc_codes, exc_en, exc_zh = _exceptions(ap, a, gr, group_over_limit)
    to_committee = exc_codes != ""
    level = np.where(to_committee, "credit_committee", level)
    reason_en = np.where(to_committee, exc_en, reason_en)
    reason_zh = np.where(to_committee, exc_zh, reason_zh)
    level, reason_en, reason_zh = _declined(a, admission, level, reason_en, reason_zh)
    single = float(ap["single_officer_up_to"])
    inv = np.where(amount <= single, 1, int(ap["investigators"]))
    table = pd.DataFrame(
        {
            "borrower_id": a["borrower_id"].to_numpy(),
            "amount": amount,
            "exposure": total,
            "guarantee_type": g,
            "grade": pd.Series(
                np.atleast_1d(grade) if grade is not None else [None] * n, dtype=object
            ).to_numpy(),  # fmt: skip
            "level": level,
            "investigators": inv.astype(np.int64),
            "exceptions": exc_codes,
            "reasons": reason_en,
            "reasons_zh": reason_zh,
        },
        index=pd.Index(a["application_id"].to_numpy(), name="application_id"),
    )
    return Route(table)


def _money(x: np.ndarray) -> np.ndarray:
    """Amounts as text with thousands separators (each distinct amount formatted once)."""
    u, inv = np.unique(np.asarray(x, dtype=float), return_inverse=True)
    return np.array([f"{v:,.0f}" for v in u], dtype=object)[inv.reshape(-1)]


def _level_caps(auth: dict, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A level's maximum per application by guarantee type, as numbers and as text."""
    caps = {k: float(v) for k, v in auth.items() if k != "max_grade"}
    k = pd.Index(list(caps)).get_indexer(g)
    values = np.array(list(caps.values()))
    return values[k], _money(values)[k]


def _delegated_level(ap, g, total, amount, out, gr):
    """Lowest delegated level covering each application, and why (vectorised; each reason
    is written only for the applications it explains)."""
    n = len(g)
    fits = {}
    for lv in LEVELS[:2]:
        auth = ap["authority"][lv]
        cap, cap_txt = _level_caps(auth, g)
        ok_amt = total <= cap
        fits[lv] = (ok_amt & (np.isnan(gr) | (gr <= float(auth["max_grade"]))), ok_amt, cap_txt)
    officer = fits["officer"][0]
    branch = ~officer & fits["branch_approver"][0]
    level = np.where(officer, "officer", np.where(branch, "branch_approver", "credit_committee"))
    en = np.full(n, "", dtype=object)
    zh = np.full(n, "", dtype=object)
    for lv, rows in (("officer", officer), ("branch_approver", branch)):
        _write_within(en, zh, rows, lv, ap, g, total, amount, out, gr, fits[lv][2])
    over = ~officer & ~branch
    _write_over(en, zh, over, ap, g, total, amount, out, gr, fits["branch_approver"])
    return level.astype(object), en, zh


def _request_text(rows, total, amount, out) -> np.ndarray:
    t, a, o = total[rows], amount[rows], out[rows]
    req = np.where(o > 0, " (request " + _money(a) + " + outstanding " + _money(o) + ")",
                   " (request " + _money(a) + ")")  # fmt: skip
    return "exposure " + _money(t) + req


def _write_within(en, zh, rows, lv, ap, g, total, amount, out, gr, cap_txt) -> None:
    if not rows.any():
        return
    name_en, name_zh = LEVEL_TEXT[lv]
    m = int(ap["authority"][lv]["max_grade"])
    grade = np.where(np.isnan(gr[rows]), "", f"; grade within R{m}")
    en[rows] = (_request_text(rows, total, amount, out) + f" within the {name_en} authority of "
                + cap_txt[rows] + " for " + g[rows] + " loans" + grade)  # fmt: skip
    zh[rows] = "授信总额" + _money(total[rows]) + f"元在{name_zh}权限" + cap_txt[rows] + "元以内"


def _write_over(en, zh, rows, ap, g, total, amount, out, gr, branch_fit) -> None:
    _, ok_amt, cap_txt = branch_fit
    name_en, name_zh = LEVEL_TEXT["branch_approver"]
    m = int(ap["authority"]["branch_approver"]["max_grade"])
    amt = rows & ~ok_amt
    if amt.any():
        en[amt] = (_request_text(amt, total, amount, out) + f" above the {name_en} authority of "
                   + cap_txt[amt] + " for " + g[amt] + " loans")  # fmt: skip
        zh[amt] = "授信总额" + _money(total[amt]) + f"元超过{name_zh}权限" + cap_txt[amt] + "元"
    grade = rows & ok_amt
    if grade.any():
        num = np.nan_to_num(gr[grade]).astype(np.int64).astype(str).astype(object)
        en[grade] = "grade R" + num + f" worse than the {name_en}'s R{m}"
        zh[grade] = "风险等级R" + num + f"低于{name_zh}权限R{m}"


_EXCEPTION_TEXT = {
    "admission_override": ("admission override requested", "申请例外准入"),
    "group_over_limit": ("joint-guarantee group over its limit", "联保小组超过限额"),
    "no_risk_grade": ("no risk grade from the approved model", "无审批模型风险等级"),
}


def _exceptions(ap, a: pd.DataFrame, gr, group_over_limit):
    n = len(a)
    flags = {
        "admission_override": column_or(a, "admission_override", False),
        "group_over_limit": np.zeros(n, dtype=bool)
        if group_over_limit is None
        else np.asarray(group_over_limit, dtype=bool),
        "no_risk_grade": np.isnan(gr),
    }
    codes = np.full(n, "", dtype=object)
    en = np.full(n, "", dtype=object)
    zh = np.full(n, "", dtype=object)
    for code, on in ap["committee_for"].items():
        if not on:
            continue
        hit = flags[code]
        sep = np.where(codes == "", "", ",")
        codes = np.where(hit, codes + sep + code, codes)
        e, z = _EXCEPTION_TEXT[code]
        en = np.where(hit, en + np.where(en == "", "", "; ") + e, en)
        zh = np.where(hit, zh + np.where(zh == "", "", "；") + z, zh)
    en = np.where(codes != "", "to the credit committee: " + en, en)
    zh = np.where(codes != "", "提交贷审会：" + zh, zh)
    return codes, en, zh


def _declined(a, admission, level, en, zh):
    if admission is None:
        return level, en, zh
    t = admission.table
    if not t.index.equals(pd.Index(a["application_id"])):
        t = t.iloc[positions(t.index, a["application_id"])]
    override = column_or(a, "admission_override", False)
    failed_adm = ~t["admitted"].to_numpy(dtype=bool) & ~override
    failed_terms = ~t["terms_ok"].to_numpy(dtype=bool)
    out = failed_adm | failed_terms
    codes = t["failed"].to_numpy(dtype=object)
    level = np.where(out, "declined", level)
    en = np.where(out, "declined as requested: failed " + codes, en)
    zh = np.where(out, "按申请条件否决：未通过" + codes, zh)
    return level, en, zh


# ---------------------------------------------------------------------------------------------
# staff and separation of duties


def validate_staff(staff: pd.DataFrame) -> pd.DataFrame:
    """Check the credit staff table and return it indexed by ``staff_id``.

    Columns: ``staff_id``, ``role`` (``officer``, ``reviewer``, ``approver`` or
    ``committee_member``; several separated by commas for someone who wears two hats),
    ``branch``, ``approval_level`` (authority held alone: ``officer``, ``branch_approver`` or
    empty), ``committee`` (member of the credit committee), optional ``chair``.
    """
    errors = ProblemCollector("credit staff")
    errors.require("staff", staff, ("staff_id", "role", "branch", "approval_level", "committee"))
    errors.raise_if_any()
    ids = staff["staff_id"]
    errors.check("staff", "staff_id", ids.duplicated(keep=False).to_numpy(), ids, "duplicate id")
    roles = staff["role"].astype(str).str.split(r"\s*,\s*")
    bad = ~roles.map(lambda rs: set(rs) <= set(STAFF_ROLES)).to_numpy(dtype=bool)
    errors.check("staff", "role", bad, ids, f"unknown role; allowed: {list(STAFF_ROLES)}")
    lv = staff["approval_level"]
    bad = lv.notna().to_numpy(dtype=bool) & ~lv.isin(LEVELS[:2]).to_numpy(dtype=bool)
    errors.check("staff", "approval_level", bad, ids, f"unknown level; allowed: {list(LEVELS[:2])}")
    errors.raise_if_any()
    return staff.set_index("staff_id")


def has_role(staff: pd.DataFrame, person: str, role: str) -> bool:
    """Whether ``person`` (a row of the staff table indexed by id) holds ``role``."""
    return role in [r.strip() for r in str(staff.at[person, "role"]).split(",")]


def level_rank(level) -> int:
    """0 for no authority, then 1.. in the order of :data:`LEVELS`."""
    return LEVELS.index(level) + 1 if level in LEVELS else 0


def check_separation(roles: pd.DataFrame, policy=None) -> None:
    """Separation of duties over recorded roles, vectorised.

    Parameters
    ----------
    roles : DataFrame
        ``application_id, person, role`` (role one of :data:`ROLES`), one row per person and
        role on an application (e.g. built by :func:`riskkit.lending.process.roles_on_file`).

    Raises
    ------
    SeparationOfDutiesError
        Naming the application, both people and their roles, for every person holding two
        roles on one application.
    """
    r = roles.drop_duplicates(["application_id", "person", "role"])
    multi = r.groupby(["application_id", "person"])["role"].transform("nunique") > 1
    clash = r[multi.to_numpy(dtype=bool)]
    if not len(clash):
        return
    problems = []
    for (app, person), rows in clash.groupby(["application_id", "person"], sort=True):
        held = sorted(set(rows["role"]), key=ROLES.index)
        problems.append(
            Problem(
                "process",
                "actor",
                f"application {app}: {held[0]} {person!r} and {held[1]} {person!r} are the same "
                f"person; the investigating officers, the reviewer and the approver must be "
                "different people (审贷分离)",
            )
        )
    raise SeparationOfDutiesError(problems, "separation of duties")


def conflict(application_id, new_role: str, person: str, roles: pd.DataFrame) -> None:
    """Raise if ``person`` cannot take ``new_role`` on ``application_id`` given the roles on
    file (``application_id, person, role``): the error names the person already in a role and
    the one acting now (the same person) with both roles."""
    on = roles[(roles["application_id"] == application_id) & (roles["person"] == person)]
    held = [r for r in pd.unique(on["role"]) if r != new_role]
    if held:
        raise SeparationOfDutiesError(
            [
                Problem(
                    "process",
                    "actor",
                    f"application {application_id}: {new_role} {person!r} is the {held[0]} "
                    f"{person!r} of this application; the investigating officers, the reviewer "
                    "and the approver must be different people (审贷分离)",
                )
            ],
            "separation of duties",
        )
