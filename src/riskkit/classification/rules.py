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
   the ``incidental_lookback_months`` before), and the risk signals recorded up to the as-of
   date with the minimum category of ``classification.signal_minimum``; a
   ``death_or_missing`` or ``enforcement_started`` signal whose note carries an exhaustion
   marker (``classification.exhaustion_markers``, e.g. ``"estate_exhausted"``) means recovery
   is exhausted: loss;
4. paid-off loans are normal (``paid_off_normal``); then, in the classifier, borrower-level
   consistency and manual overrides.

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

from ..categories import Category
from ..policy import Policy, load_policy
from ..risk_signals import SIGNAL_CODES, SIGNAL_TEXT


@dataclass(frozen=True)
class Rule:
    """One classification rule: code, kind, English and Chinese wording."""

    code: str
    kind: str  # quantitative | backstop | qualitative | consistency | override | paid_off
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
        "追偿/遗产清偿后仍无法收回",
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

SIGNAL_RULES = tuple(
    Rule(f"signal_{s}", "qualitative", SIGNAL_TEXT[s][0], SIGNAL_TEXT[s][1]) for s in SIGNAL_CODES
)
RULES: tuple[Rule, ...] = _BASE_RULES + SIGNAL_RULES
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
    exhausted=None,
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
    exhausted : bool array, optional
        Recovery exhausted (estate/guarantee/collateral does not cover the loan).
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
    exhausted = zeros if exhausted is None else np.asarray(exhausted, dtype=bool)
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
    raise_to("recovery_exhausted", exhausted, Category.LOSS)

    if cp.get("paid_off_normal", True):
        fire("paid_off", paid_off)
        final = np.where(paid_off, np.int8(0), final).astype(np.int8)
    return RuleOutput(quantitative=quant, final=final, bits=bits)
