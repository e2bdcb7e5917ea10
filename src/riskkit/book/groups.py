"""Joint-guarantee groups (三户联保, seed 002): who is in a group, the group's exposure against
its limit, and what one member's arrears mean for the others.

A group is the set of loans whose guarantor rows carry the same ``group_id`` (the loan book's
``guarantors`` table: in a three-household joint guarantee each loan is guaranteed by the other
households); its members are those loans' borrowers and guarantors (households).

* **Group exposure** = the outstanding principal of the group's loans plus the amounts pending
  applications in the group request.
* **Group limit** (policy ``groups`` and ``limits``): with at least
  ``limits.joint_min_households`` households, ``limits.joint_per_member`` for each household,
  at most ``groups.max_exposure``; with fewer households the group is a single guarantee:
  ``limits.guaranteed`` *in total* (seed 002: two households left get 500k together, not each).
* **Guarantor liability**: a member's loan at ``groups.liability_from`` (special mention) or
  worse raises the signal ``guarantor_liability`` on every other live loan of the group (the
  other households answer for it as joint guarantors, and their own guarantee has weakened);
  the inspection plan schedules those loans at once.

Examples
--------
>>> import pandas as pd
>>> g = pd.DataFrame({"loan_id": ["L1", "L1", "L2", "L2", "L3", "L3"],
...                   "guarantor_id": ["B2", "B3", "B1", "B3", "B1", "B2"],
...                   "group_id": "G1"})
>>> loans = pd.DataFrame({"loan_id": ["L1", "L2", "L3"], "borrower_id": ["B1", "B2", "B3"]})
>>> exp = group_exposure(loans, g, outstanding={"L1": 300_000, "L2": 500_000, "L3": 0.0})
>>> t = exp.table.loc["G1"]     # L3 is repaid, but B3 still guarantees L1 and L2
>>> int(t["households"]), float(t["exposure"]), float(t["group_limit"]), bool(t["over_limit"])
(3, 800000.0, 1500000.0, False)
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..categories import Category
from ..errors import ProblemCollector
from ..policy import Policy, load_policy
from ..results import TableResult
from .keys import isin_values, positions

SIGNAL = "guarantor_liability"
_STRUCTURE_JOINT = "joint"
_STRUCTURE_SINGLE = "single_guarantee"


def group_policy(policy=None) -> dict:
    """The policy's ``groups`` section with the limits it uses, checked."""
    p = load_policy(policy) if not isinstance(policy, Policy) else policy
    g = dict(p["groups"])
    Category.parse(g["liability_from"])  # a category name, or an error naming the value
    lim = p["limits"]
    g.update(
        per_member=float(lim["joint_per_member"]),
        single=float(lim["guaranteed"]),
        min_households=int(lim["joint_min_households"]),
    )
    return g


def group_limit(households, policy=None) -> np.ndarray:
    """Limit of joint groups by number of households (see the module docstring).

    Examples
    --------
    >>> group_limit([3, 4, 2, 1]).tolist()     # 3 x 500k; 4 x 500k capped at 1.5M; single
    [1500000.0, 1500000.0, 500000.0, 500000.0]
    """
    g = group_policy(policy)
    hh = np.atleast_1d(np.asarray(households, dtype=float))
    joint = np.minimum(g["per_member"] * hh, float(g["max_exposure"]))
    return np.where(hh >= g["min_households"], joint, g["single"])


def group_members(loans: pd.DataFrame, guarantors: pd.DataFrame) -> pd.DataFrame:
    """One row per loan under a joint guarantee: ``loan_id, group_id, borrower_id``.

    A loan whose guarantor rows name two different groups is an error naming the loan.
    """
    g = guarantors.loc[guarantors["group_id"].notna().to_numpy(dtype=bool), ["loan_id", "group_id"]]
    lcode, lids = pd.factorize(g["loan_id"])
    gcode, gids = pd.factorize(g["group_id"])
    pair = lcode.astype(np.int64) * max(len(gids), 1) + gcode
    _, first = np.unique(pair, return_index=True)
    first = np.sort(first)
    lc, gc = lcode[first], gcode[first]
    two = np.bincount(lc, minlength=len(lids))[lc] > 1
    if two.any():
        errors = ProblemCollector("joint-guarantee groups")
        errors.check("guarantors", "group_id", two, np.asarray(lids)[lc], "loan is in two groups")
        errors.raise_if_any()
    loan_ids = np.asarray(lids, dtype=object)[lc]
    pos = positions(loans["loan_id"], loan_ids)
    bor = loans["borrower_id"].to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "loan_id": loan_ids,
            "group_id": np.asarray(gids, dtype=object)[gc],
            "borrower_id": np.where(pos >= 0, bor[np.maximum(pos, 0)], None),
        }
    )


def _people(members: pd.DataFrame, guarantors: pd.DataFrame, live: np.ndarray) -> pd.DataFrame:
    """``group_id, person``: the live loans' borrowers and their guarantors (households)."""
    m = members[live]
    g = guarantors[guarantors["group_id"].notna().to_numpy(dtype=bool)]
    g = g[isin_values(g["loan_id"], m["loan_id"])]
    people = pd.DataFrame(
        {
            "group_id": np.r_[m["group_id"].to_numpy(dtype=object),
                              g["group_id"].to_numpy(dtype=object)],
            "person": np.r_[m["borrower_id"].to_numpy(dtype=object),
                            g["guarantor_id"].to_numpy(dtype=object)],
        }
    )  # fmt: skip
    return people.drop_duplicates(ignore_index=True)


@dataclass(frozen=True)
class GroupExposure(TableResult):
    """Exposure of every joint-guarantee group against its limit (:func:`group_exposure`).

    ``table`` (index ``group_id``): ``households``, ``loans`` (live), ``outstanding``,
    ``requested``, ``exposure``, ``group_limit``, ``headroom``, ``over_limit``, ``structure``
    (``joint`` or ``single_guarantee`` when fewer households than the policy's minimum),
    ``worst_category`` and ``members_at_risk`` (loans at ``groups.liability_from`` or worse;
    with a classification). ``members``: one row per loan (``group_id, loan_id, borrower_id,
    outstanding, requested, category``).
    """

    table: pd.DataFrame
    members: pd.DataFrame
    as_of: pd.Timestamp | None = None

    def to_frame(self) -> pd.DataFrame:
        return self.table.reset_index()

    @property
    def over_limit(self) -> pd.DataFrame:
        """Groups whose exposure exceeds their limit, largest excess first."""
        t = self.table[self.table["over_limit"].to_numpy(dtype=bool)]
        return t.sort_values("headroom", kind="stable")

    def group(self, group_id) -> pd.DataFrame:
        """The members' loans of one group."""
        return self.members[self.members["group_id"] == group_id]

    def __repr__(self) -> str:
        t = self.table
        when = f" as of {self.as_of.date()}" if self.as_of is not None else ""
        return (
            f"GroupExposure({len(t):,} groups{when}: exposure {t['exposure'].sum():,.0f}, "
            f"{int(t['over_limit'].sum()):,} over their limit, "
            f"{int((t['structure'] == _STRUCTURE_SINGLE).sum()):,} below the households for a "
            "joint guarantee)"
        )

    def _repr_html_(self) -> str:
        head = self.over_limit.head(20) if len(self.over_limit) else self.table.head(20)
        return (
            f"<div><b>Joint-guarantee groups 联保小组</b>: {html.escape(repr(self))}"
            f"{head.to_html()}</div>"
        )


def group_exposure(
    loans: pd.DataFrame,
    guarantors: pd.DataFrame,
    outstanding=None,
    *,
    result=None,
    applications: pd.DataFrame | None = None,
    as_of=None,
    policy=None,
) -> GroupExposure:
    """Exposure of each joint-guarantee group (members' outstanding plus requests) and its limit.

    Parameters
    ----------
    loans, guarantors : DataFrame
        The loan book's tables (``book.loans``, ``book.guarantors``).
    outstanding : mapping or Series loan_id -> outstanding principal, optional
        Default: from ``result`` (a :class:`~riskkit.classification.ClassificationResult`);
        loans without a balance (paid off, or not in it) count as closed.
    result : ClassificationResult, optional
        Gives balances and categories (``worst_category``, ``members_at_risk``).
    applications : DataFrame, optional
        Pending requests: ``application_id, borrower_id, amount, group_id`` (rows without a
        group are ignored); an applicant who is not yet a member adds a household.
    as_of : date-like, optional
        Shown in the result.
    policy : Policy, mapping or path, optional

    Returns
    -------
    GroupExposure
    """
    policy = load_policy(policy) if not isinstance(policy, Policy) else policy
    pol = group_policy(policy)
    members = group_members(loans, guarantors)
    bal, code = _loan_facts(members, outstanding, result)
    members = members.assign(outstanding=bal, requested=0.0)
    if result is not None:
        names = np.array([None, *Category.codes()], dtype=object)
        members["category"] = names[code + 1]
    live = bal > 0
    people = _people(members, guarantors, live)
    req = _requests(applications, members)
    frame = _group_table(members, live, people, req)
    if result is not None:
        frame = frame.join(_worst(members["group_id"], code, live, pol), how="left")
        frame["members_at_risk"] = frame["members_at_risk"].fillna(0).astype(np.int64)
        frame["worst_category"] = (
            frame["worst_category"].astype(object).where(frame["worst_category"].notna(), None)
        )
    frame = _limits(frame, pol)
    if len(req):
        members = pd.concat([members, req.assign(outstanding=0.0)], ignore_index=True)
    when = pd.Timestamp(as_of) if as_of is not None else getattr(result, "as_of", None)
    return GroupExposure(frame, members, when)


def _loan_facts(members: pd.DataFrame, outstanding, result) -> tuple[np.ndarray, np.ndarray]:
    """Each member loan's outstanding principal and category code (-1: not classified)."""
    if outstanding is None and result is None:
        raise ValueError("give outstanding (loan_id -> balance) or a classification result")
    ids = members["loan_id"]
    code = np.full(len(ids), -1, dtype=np.int64)
    if result is not None:
        f = result.table
        pos = positions(f.index, ids)
        ok = pos >= 0
        code[ok] = f["category"].cat.codes.to_numpy()[pos[ok]]
        if outstanding is None:
            bal = np.zeros(len(ids))
            bal[ok] = f["outstanding_principal"].to_numpy(dtype=float)[pos[ok]]
            return bal, code
    s = pd.Series(outstanding, dtype=float)
    pos = positions(s.index, ids) if len(s) else np.full(len(ids), -1)
    bal = (
        np.where(pos >= 0, s.to_numpy()[np.maximum(pos, 0)], 0.0) if len(s) else np.zeros(len(ids))
    )
    return np.nan_to_num(bal), code


def _requests(applications, members: pd.DataFrame) -> pd.DataFrame:
    cols = ["group_id", "loan_id", "borrower_id", "requested", "application_id"]
    if applications is None or not len(applications) or "group_id" not in applications:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    a = applications[applications["group_id"].notna().to_numpy(dtype=bool)]
    return pd.DataFrame(
        {
            "group_id": a["group_id"].to_numpy(dtype=object),
            "loan_id": None,
            "borrower_id": a["borrower_id"].to_numpy(dtype=object),
            "requested": a["amount"].to_numpy(dtype=float),
            "application_id": a["application_id"].to_numpy(dtype=object),
        }
    )


def _group_table(members, live, people: pd.DataFrame, req: pd.DataFrame) -> pd.DataFrame:
    gid = members["group_id"].to_numpy(dtype=object)
    groups = pd.Index(pd.unique(np.r_[gid, req["group_id"].to_numpy(dtype=object)])).sort_values()
    g = groups.get_indexer(gid)
    k = len(groups)
    frame = pd.DataFrame(
        {
            "households": np.bincount(groups.get_indexer(people["group_id"]), minlength=k),
            "loans": np.bincount(g[live], minlength=k),
            "outstanding": np.bincount(g, weights=members["outstanding"].to_numpy(), minlength=k),
            "requested": np.zeros(k),
        },
        index=pd.Index(groups, name="group_id"),
    )
    if len(req):
        # an applicant not yet among the group's households adds one
        known = pd.MultiIndex.from_frame(people[["group_id", "person"]])
        new = ~pd.MultiIndex.from_frame(req[["group_id", "borrower_id"]]).isin(known)
        added = req[new].drop_duplicates(["group_id", "borrower_id"])
        frame["households"] += np.bincount(groups.get_indexer(added["group_id"]), minlength=k)
        frame["requested"] = np.bincount(groups.get_indexer(req["group_id"]),
                                         weights=req["requested"].to_numpy(), minlength=k)  # fmt: skip
    frame["exposure"] = frame["outstanding"] + frame["requested"]
    return frame


def _limits(frame: pd.DataFrame, pol: dict) -> pd.DataFrame:
    hh = frame["households"].to_numpy()
    joint = np.minimum(pol["per_member"] * hh, float(pol["max_exposure"]))
    frame["group_limit"] = np.where(hh >= pol["min_households"], joint, pol["single"])
    frame["headroom"] = frame["group_limit"] - frame["exposure"]
    frame["over_limit"] = frame["headroom"] < -1e-9
    frame["structure"] = np.where(hh >= pol["min_households"], _STRUCTURE_JOINT, _STRUCTURE_SINGLE)
    return frame


def _worst(group_id: pd.Series, code: np.ndarray, live: np.ndarray, pol: dict) -> pd.DataFrame:
    ok = live & (code >= 0)
    g = pd.Index(pd.unique(group_id.to_numpy(dtype=object)[ok]))
    pos = g.get_indexer(group_id.to_numpy(dtype=object)[ok])
    worst = np.full(len(g), -1, dtype=np.int64)
    np.maximum.at(worst, pos, code[ok])
    at_risk = np.bincount(pos, weights=code[ok] >= int(Category.parse(pol["liability_from"])),
                          minlength=len(g))  # fmt: skip
    codes = np.array(Category.codes(), dtype=object)
    return pd.DataFrame(
        {"worst_category": codes[worst], "members_at_risk": at_risk.astype(np.int64)}, index=g
    )


def guarantor_liability_signals(loans, guarantors, result, policy=None) -> pd.DataFrame:
    """Signals ``guarantor_liability`` on the other members' live loans of every group where a
    member's loan is at ``groups.liability_from`` (special mention) or worse in ``result``.

    Returns a signals table (``loan_id, signal_date, signal, source, note``), dated at the
    classification date, that :func:`riskkit.inspection.watch_list` and
    :func:`riskkit.inspection.inspection_plan` take; the note names the partner's loan and its
    category (the worst one when several members are in arrears).
    """
    pol = group_policy(policy)
    members = group_members(loans, guarantors)
    bal, code = _loan_facts(members, None, result)
    live = bal > 0
    risky = live & (code >= int(Category.parse(pol["liability_from"])))
    gid = members["group_id"].to_numpy(dtype=object)
    lid = members["loan_id"].to_numpy(dtype=object)
    if not len(lid):
        return _signals_frame([], [], result.as_of)
    # the worst partner of each loan: the group's worst, unless that is the loan itself
    gcode = pd.factorize(gid)[0]
    lcode = pd.factorize(lid, sort=True)[0]
    order = np.lexsort((lcode, -np.where(risky, code, -1), gcode))
    first = np.r_[True, gcode[order][1:] != gcode[order][:-1]]
    start_pos = np.flatnonzero(first)
    group_of = np.cumsum(first) - 1
    size = np.diff(np.r_[start_pos, len(order)])
    best = order[start_pos]
    second = np.where(size > 1, order[np.minimum(start_pos + 1, len(order) - 1)], -1)
    inv = np.empty(len(order), dtype=np.int64)
    inv[order] = group_of
    w1, w2 = best[inv], second[inv]
    partner = np.where(w1 == np.arange(len(lid)), w2, w1)
    p_code = np.where(partner >= 0, np.where(risky, code, -1)[np.maximum(partner, 0)], -1)
    hit = live & (p_code >= 0)
    names = np.array([c.replace("_", " ") for c in Category.codes()], dtype=object)
    note = ("joint-guarantee partner loan " + lid[partner[hit]] + " (group " + gid[hit]
            + ") is " + names[p_code[hit]] + ": this borrower is liable as joint guarantor")  # fmt: skip
    return _signals_frame(lid[hit], note, result.as_of)


def _signals_frame(loan_ids, notes, as_of) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "loan_id": np.asarray(loan_ids, dtype=object),
            "signal_date": np.full(len(loan_ids), np.datetime64(pd.Timestamp(as_of).date(), "ns")),
            "signal": SIGNAL,
            "source": "data",
            "note": np.asarray(notes, dtype=object),
        }
    )
