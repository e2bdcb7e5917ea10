"""The classification rules of seed 002 (chapter 3) as vectorised masks over category codes.

Every rule is a named mask with a minimum category; a loan's category is the maximum of the
minimums of the rules that fired (``np.maximum`` over int8 codes), so a loan always lands in
exactly one category (indivisibility, 不可拆分原则). Rules fire in this order:

1. **quantitative** (定量): consecutive missed periods (连续违约期数) against
   ``classification.missed_periods`` (defaults: 3 special mention, 4-6 substandard, >=7
   doubtful; 0-2 normal);
2. **DPD backstops** (optional, ``classification.dpd_backstops``): any overdue installment,
   over 90 / 270 / 360 days past due;
3. **qualitative** (定性): 1-2 missed periods that are not incidental (a late installment in
   the ``incidental_lookback_months`` before), the risk signals recorded up to the as-of
   date with the minimum category of ``classification.signal_minimum``, and the loan's
   structured **recovery status** (the latest row of the book's ``recovery_status`` table on
   or before the as-of date) with the minimum of ``classification.recovery_status_minimum``:
   guarantor called, legal action, collateral sale or estate claim -> at least doubtful (the
   lender has called on the guarantee or collateral, seed 002 art. 8(4)); recovery
   ``exhausted`` -> loss (unpaid after guarantee, collateral and estate, art. 8(5)). Loss is
   decided from this status, never from words in a note;
4. paid-off loans are normal (``paid_off_normal``); then, in the classifier, written-off loans
   (rule ``written_off``: off the balance sheet), borrower-level consistency and manual
   overrides.

Each fired rule sets one bit in an int64 mask, so the list of rules of a loan and its
explanation can be rebuilt from the mask alone.

Examples
--------
>>> import numpy as np
>>> from riskkit.classification.rules import apply_rules, rule_codes
>>> out = apply_rules(missed=np.array([0, 3, 4, 7]), dpd=np.array([0, 60, 95, 200]))
>>> out.quantitative.tolist(), out.final.tolist()
([0, 1, 2, 3], [0, 1, 2, 3])
>>> rule_codes(out.bits[2])
['missed_substandard', 'dpd_overdue', 'dpd_over_substandard']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..book.enums import RecoveryStatus
from ..categories import Category
from ..policy import Policy, load_policy
from ..risk_signals import SIGNAL_CODES, SIGNAL_TEXT


@dataclass(frozen=True)
class Rule:
    """One classification rule: code, kind, English and Chinese wording."""

    code: str
    kind: str  # quantitative | backstop | qualitative | consistency | override | paid_off |
    # written_off
    en: str
    zh: str


_BASE_RULES = (
    Rule(
        "missed_special_mention", "quantitative", "{m} consecutive missed periods", "连续违约{m}期"
    ),
    Rule("missed_substandard", "quantitative", "{m} consecutive missed periods", "连续违约{m}期"),
    Rule("missed_doubtful", "quantitative", "{m} consecutive missed periods", "连续违约{m}期"),
    Rule("dpd_overdue", "backstop", "overdue", "存在逾期"),
    Rule("dpd_over_substandard", "backstop", "over {d} days past due", "逾期超过{d}天"),
    Rule("dpd_over_doubtful", "backstop", "over {d} days past due", "逾期超过{d}天"),
    Rule("dpd_over_loss", "backstop", "over {d} days past due", "逾期超过{d}天"),
    Rule(
        "not_incidental",
        "qualitative",
        "{m} missed period(s), not incidental (another late installment within {k} months)",
        "连续违约{m}期且非偶然（{k}个月内曾逾期）",
    ),
    Rule(
        "recovery_exhausted",
        "qualitative",
        "recovery exhausted (guarantee, collateral or estate does not cover the loan)",
        "追偿终结（保证、抵质押物或遗产清偿后仍无法收回）",
    ),
    Rule(
        "borrower_consistency",
        "consistency",
        "borrower's other loan(s) classified worse (borrower-level consistency)",
        "同一借款人其他贷款分类较差（一致性）",
    ),
    Rule("manual_override", "override", "manual override", "人工调整"),
    Rule("paid_off", "paid_off", "paid off", "已结清"),
)

#: Recovery status -> (English, Chinese) wording of its rule ``recovery_<status>``.
RECOVERY_TEXT = {
    "collection": ("in collection after default", "已进入催收"),
    "guarantor_called": ("guarantor called on to pay", "已要求保证人履行代偿责任"),
    "legal_action": ("legal action for recovery", "已诉诸法律追偿"),
    "collateral_sale": ("collateral being sold", "正在处置抵质押物"),
    "estate_claim": ("claim on the estate of a deceased or missing borrower", "以遗产清偿"),
    "exhausted": (
        "recovery exhausted (guarantee, collateral or estate does not cover the loan)",
        "追偿终结（保证、抵质押物或遗产清偿后仍无法收回）",
    ),
    "cured": ("arrears paid, collection closed", "已还清欠款，催收结束"),
}
RECOVERY_STATUSES: tuple[str, ...] = tuple(RecoveryStatus.values())
assert set(RECOVERY_TEXT) == set(RECOVERY_STATUSES)
#: Rules added with the workout states; appended after the signal rules so that the bit
#: positions of stored results keep their meaning (``recovery_exhausted`` keeps its old bit).
_WORKOUT_RULES = tuple(
    Rule(f"recovery_{s}", "qualitative", RECOVERY_TEXT[s][0], RECOVERY_TEXT[s][1])
    for s in RECOVERY_STATUSES
    if s != "exhausted"
) + (
    Rule(
        "written_off",
        "written_off",
        "written off (off the balance sheet; recovery continues)",
        "已核销（账销案存，继续追偿）",
    ),
)

SIGNAL_RULES = tuple(
    Rule(f"signal_{s}", "qualitative", SIGNAL_TEXT[s][0], SIGNAL_TEXT[s][1]) for s in SIGNAL_CODES
)
RULES: tuple[Rule, ...] = _BASE_RULES + SIGNAL_RULES + _WORKOUT_RULES
RULE_CODES: tuple[str, ...] = tuple(r.code for r in RULES)
BIT: dict[str, int] = {code: i for i, code in enumerate(RULE_CODES)}
SIGNAL_BIT0 = BIT["signal_" + SIGNAL_CODES[0]]
assert len(RULES) <= 62


def rule_codes(bits) -> list[str]:
    """Codes of the rules set in one rule mask, in rule order."""
    b = int(bits)
    return [code for code, i in BIT.items() if b >> i & 1]


def signal_bit(signal: str) -> int:
    """Bit position of a risk signal in the rule mask."""
    return BIT["signal_" + signal]


def _cat(name) -> int:
    return int(Category.parse(name))


@dataclass
class RuleOutput:
    """Vectorised rule results: quantitative and final int8 category codes, int64 rule masks."""

    quantitative: np.ndarray
    final: np.ndarray
    bits: np.ndarray


def recovery_status_codes(table, loan_ids, as_of) -> np.ndarray:
    """Each loan's recovery status on ``as_of``: the latest row of the ``recovery_status``
    table dated on or before it (rows of one day in table order), as positions in
    :data:`RECOVERY_STATUSES`; -1 where a loan has none. Vectorised (one sort).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"loan_id": ["A", "A", "B"],
    ...                   "status_date": pd.to_datetime(["2026-01-05", "2026-05-01", "2026-03-01"]),
    ...                   "status": ["collection", "exhausted", "legal_action"]})
    >>> codes = recovery_status_codes(t, ["A", "B", "C"], "2026-04-30")
    >>> [RECOVERY_STATUSES[c] if c >= 0 else None for c in codes]
    ['collection', 'legal_action', None]
    """
    ids = pd.Index(np.asarray(loan_ids, dtype=object))
    out = np.full(len(ids), -1, dtype=np.int64)
    if table is None or len(table) == 0:
        return out
    t = table[(table["status_date"] <= pd.Timestamp(as_of)).to_numpy(dtype=bool)]
    pos = ids.get_indexer(t["loan_id"].astype(object))
    code = pd.Index(RECOVERY_STATUSES).get_indexer(t["status"].astype(object))
    ok = (pos >= 0) & (code >= 0)
    day = t["status_date"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    order = np.lexsort((np.arange(len(t)), day, pos))
    order = order[ok[order]]
    last = order[np.r_[pos[order][1:] != pos[order][:-1], True]] if len(order) else order
    out[pos[last]] = code[last]
    return out


def quantitative_category(missed: np.ndarray, policy: Policy | None = None) -> np.ndarray:
    """Category codes from consecutive missed periods alone (seed 002, art. 8)."""
    mp = load_policy(policy)["classification"]["missed_periods"]
    missed = np.asarray(missed)
    q = np.zeros(missed.shape, dtype=np.int8)
    q[missed >= mp["special_mention"]] = Category.SPECIAL_MENTION
    q[missed >= mp["substandard"]] = Category.SUBSTANDARD
    q[missed >= mp["doubtful"]] = Category.DOUBTFUL
    return q


def apply_rules(
    missed,
    dpd,
    signal_bits=None,
    recovery_status=None,
    late_recent=None,
    paid_off=None,
    policy: Policy | dict | None = None,
) -> RuleOutput:
    """Classify from per-loan arrays; no loop over loans.

    Parameters
    ----------
    missed : int array
        Consecutive missed periods.
    dpd : int array
        Days past due.
    signal_bits : int64 array, optional
        Active risk signals, one bit per signal at :func:`signal_bit`.
    recovery_status : int array, optional
        Current recovery status per loan as positions in :data:`RECOVERY_STATUSES` (-1: none);
        see :func:`recovery_status_codes`.
    late_recent : bool array, optional
        Another installment was late within ``incidental_lookback_months``; makes 1-2 missed
        periods not incidental.
    paid_off : bool array, optional
    policy : Policy, mapping or path, optional

    Returns
    -------
    RuleOutput
    """
    policy = load_policy(policy)
    cp = policy["classification"]
    missed = np.asarray(missed, dtype=np.int64)
    dpd = np.asarray(dpd, dtype=np.int64)
    n = len(missed)
    zeros = np.zeros(n, dtype=bool)
    signal_bits = np.zeros(n, np.int64) if signal_bits is None else np.asarray(signal_bits)
    rstat = np.full(n, -1) if recovery_status is None else np.asarray(recovery_status)
    late_recent = zeros if late_recent is None else np.asarray(late_recent, dtype=bool)
    paid_off = zeros if paid_off is None else np.asarray(paid_off, dtype=bool)

    bits = np.zeros(n, dtype=np.int64)

    def fire(code: str, mask: np.ndarray) -> None:
        np.bitwise_or(bits, mask.astype(np.int64) << BIT[code], out=bits)

    mp = cp["missed_periods"]
    quant = quantitative_category(missed, policy)
    fire("missed_special_mention", quant == Category.SPECIAL_MENTION)
    fire("missed_substandard", quant == Category.SUBSTANDARD)
    fire("missed_doubtful", quant == Category.DOUBTFUL)
    final = quant.copy()

    def raise_to(code: str, mask: np.ndarray, category: int) -> None:
        fire(code, mask)
        np.maximum(final, np.where(mask, np.int8(category), np.int8(0)), out=final)

    bs = cp["dpd_backstops"]
    if bs["enabled"]:
        raise_to("dpd_overdue", dpd > 0, _cat(bs["any_overdue"]))
        raise_to("dpd_over_substandard", dpd > bs["substandard_over"], Category.SUBSTANDARD)
        raise_to("dpd_over_doubtful", dpd > bs["doubtful_over"], Category.DOUBTFUL)
        raise_to("dpd_over_loss", dpd > bs["loss_over"], Category.LOSS)

    few = (missed > 0) & (missed < mp["special_mention"])
    raise_to("not_incidental", few & late_recent, Category.SPECIAL_MENTION)

    minimum = cp["signal_minimum"]
    for s in SIGNAL_CODES:
        b = signal_bit(s)
        has = (signal_bits >> b & 1).astype(bool)
        raise_to("signal_" + s, has, _cat(minimum.get(s, "special_mention")))
    rmin = cp["recovery_status_minimum"]
    for k, st in enumerate(RECOVERY_STATUSES):
        raise_to("recovery_" + st, rstat == k, _cat(rmin[st]))

    if cp.get("paid_off_normal", True):
        fire("paid_off", paid_off)
        final = np.where(paid_off, np.int8(0), final).astype(np.int8)
    return RuleOutput(quantitative=quant, final=final, bits=bits)
