"""Stages of expected credit loss (CAS 22 / IFRS 9), by policy.

* **Stage 3** (credit-impaired): a non-performing category (substandard, doubtful, loss) or
  more than ``ecl.stage3_days_past_due`` days past due. Consistent with the 2023 risk
  classification rules (《商业银行金融资产风险分类办法》): a credit-impaired asset is at least
  substandard, and the non-performing categories are stage 3.
* **Stage 2** (significant increase in credit risk since origination): more than
  ``ecl.stage2_days_past_due`` days past due (the 30-day presumption of IFRS 9 5.5.11 /
  CAS 22), a category in ``ecl.stage2_categories`` (special mention), or an annualised
  lifetime PD now above ``ecl.stage2_pd_multiple`` times the one at origination.
* **Stage 1**: otherwise.

Each loan gets the first reason that put it in its stage (``stage_reason``).

Examples
--------
>>> import numpy as np
>>> st, why = assign_stages(np.array(["normal", "special_mention", "doubtful", "normal"]),
...                         np.array([0, 10, 100, 45]), np.array([1.0, 1.0, 1.0, 1.0]))
>>> st.tolist(), why.tolist()
([1, 2, 3, 2], ['performing', 'special_mention', 'non_performing', 'over_30_dpd'])
"""

from __future__ import annotations

import numpy as np

from ..categories import Category, parse_categories
from ..policy import Policy, load_policy

#: Reasons, in the order they are checked.
REASONS = (
    "non_performing",
    "over_90_dpd",
    "over_30_dpd",
    "special_mention",
    "pd_increase",
    "performing",
)


def assign_stages(
    category: np.ndarray,
    days_past_due: np.ndarray,
    pd_ratio: np.ndarray,
    policy: Policy | dict | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Stage (1, 2, 3) and reason per loan.

    Parameters
    ----------
    category : array of category codes (str, e.g. ``"special_mention"``) or of category
        numbers (0 normal .. 4 loss)
    days_past_due : int array
    pd_ratio : float array
        Annualised lifetime PD now over the one at origination (NaN: not assessed).
    policy : Policy, mapping or path, optional
        ``ecl`` section.
    """
    e = load_policy(policy)["ecl"]
    cat = np.asarray(category)
    if cat.dtype.kind not in "iu":  # labels -> category numbers
        cat = parse_categories(cat).astype(np.int64)
    dpd = np.asarray(days_past_due)
    ratio = np.nan_to_num(np.asarray(pd_ratio, dtype=float), nan=0.0)

    def among(names):
        return np.isin(cat, [int(Category.parse(c)) for c in names])

    tests = [
        among(e["stage3_categories"]),
        dpd > e["stage3_days_past_due"],
        dpd > e["stage2_days_past_due"],
        among(e["stage2_categories"]),
        ratio > e["stage2_pd_multiple"],
    ]
    stage_of = np.array([3, 3, 2, 2, 2, 1])
    reason = np.select(tests, np.arange(len(tests)), default=len(tests))
    return stage_of[reason], np.asarray(REASONS, dtype=object)[reason]
