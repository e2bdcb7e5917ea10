"""Explanations of classification results in English and Chinese.

An explanation is built once per distinct combination of (fired rules, missed periods,
quantitative and final category) and mapped back to the loans, so a book of a million loans
needs only a few hundred strings and no loop over loans. The results are categoricals.

Examples
--------
>>> import numpy as np
>>> from riskkit.classification.rules import apply_rules, BIT
>>> from riskkit.classification.explain import explain
>>> out = apply_rules(np.array([4]), np.array([100]),
...                   signal_bits=np.array([1 << BIT["signal_enforcement_started"]]))
>>> en, zh = explain(out.bits, np.array([4]), out.quantitative, out.final)
>>> zh[0]
'连续违约4期，次级（定量）；存在逾期，至少关注；逾期超过90天，至少次级；已要求履行保证、保险责任或诉诸法律，至少可疑；最终分类：可疑'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..categories import Category
from ..policy import Policy, load_policy
from .rules import BIT, RULES

_MISSED_CAP = 255


def _rule_minimum(policy: Policy) -> dict[str, Category | None]:
    cp = policy["classification"]
    bs = cp["dpd_backstops"]
    out: dict[str, Category | None] = {
        "dpd_overdue": Category.parse(bs["any_overdue"]),
        "dpd_over_substandard": Category.SUBSTANDARD,
        "dpd_over_doubtful": Category.DOUBTFUL,
        "dpd_over_loss": Category.LOSS,
        "not_incidental": Category.SPECIAL_MENTION,
    }
    for s, c in cp["recovery_status_minimum"].items():
        out["recovery_" + s] = Category.parse(c)
    for s, c in cp["signal_minimum"].items():
        out["signal_" + s] = Category.parse(c)
    return out


def _one(bits: int, m: int, q: int, f: int, policy: Policy) -> tuple[str, str]:
    cp = policy["classification"]
    bs = cp["dpd_backstops"]
    fmt = {
        "m": m,
        "k": cp["incidental_lookback_months"],
    }
    days = {
        "dpd_over_substandard": bs["substandard_over"],
        "dpd_over_doubtful": bs["doubtful_over"],
        "dpd_over_loss": bs["loss_over"],
    }
    qc = Category(q)
    if m == 0:
        en = [f"no missed period: {qc.en} (quantitative)"]
        zh = [f"无违约，{qc.zh}（定量）"]
    else:
        mm = f"{m}+" if m >= _MISSED_CAP else str(m)
        en = [f"{mm} consecutive missed period{'s' if m > 1 else ''}: {qc.en} (quantitative)"]
        zh = [f"连续违约{mm}期，{qc.zh}（定量）"]
    minimum = _rule_minimum(policy)
    for r in RULES:
        if r.kind == "quantitative" or not (bits >> BIT[r.code] & 1):
            continue
        f_en = r.en.format(d=days.get(r.code, ""), **fmt)
        f_zh = r.zh.format(d=days.get(r.code, ""), **fmt)
        if r.kind in ("consistency", "override"):
            en.append(f"{f_en}: {Category(f).en}")
            zh.append(f"{f_zh}，{Category(f).zh}")
        elif r.kind == "paid_off":
            en.append(f"{f_en}: {Category.NORMAL.en}")
            zh.append(f"{f_zh}，{Category.NORMAL.zh}")
        elif r.kind == "written_off":
            en.append(f_en)
            zh.append(f_zh)
        else:
            c = minimum.get(r.code)
            if c is None or c == Category.NORMAL:
                en.append(f"{f_en} (no adjustment)")
                zh.append(f"{f_zh}（不调整）")
            else:
                en.append(f"{f_en}: at least {c.en.lower()}")
                zh.append(f"{f_zh}，至少{c.zh}")
    en.append(f"final: {Category(f).en}")
    zh.append(f"最终分类：{Category(f).zh}")
    return "; ".join(en), "；".join(zh)


def explain(bits, missed, quantitative, final, policy: Policy | dict | None = None):
    """English and Chinese explanation of every loan, as two pandas Categoricals.

    Parameters
    ----------
    bits : int64 array
        Rule masks (see :mod:`riskkit.classification.rules`).
    missed : int array
        Consecutive missed periods (shown in the quantitative part).
    quantitative, final : int array
        Category codes.
    """
    policy = load_policy(policy)
    bits = np.asarray(bits, dtype=np.int64)
    m = np.minimum(np.asarray(missed, dtype=np.int64), _MISSED_CAP)
    q = np.asarray(quantitative, dtype=np.int64)
    f = np.asarray(final, dtype=np.int64)
    key = (bits << 14) | (m << 6) | (q << 3) | f
    uniq, inverse = np.unique(key, return_inverse=True)
    texts = [
        _one(int(k >> 14), int(k >> 6 & 0xFF), int(k >> 3 & 7), int(k & 7), policy) for k in uniq
    ]
    en_u = [t[0] for t in texts]
    zh_u = [t[1] for t in texts]
    # distinct keys can share a text (e.g. the same rules with missed capped): dedupe categories
    en = _categorical(inverse, en_u)
    zh = _categorical(inverse, zh_u)
    return en, zh


def _categorical(inverse: np.ndarray, labels: list[str]) -> pd.Categorical:
    cats, codes = np.unique(np.asarray(labels, dtype=object), return_inverse=True)
    return pd.Categorical.from_codes(codes[inverse], categories=pd.Index(cats, dtype="str"))
