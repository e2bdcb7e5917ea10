"""Credit limits by guarantee structure (seed 002) and the suggested limit.

* pure credit ``limits.credit``; one guarantor ``limits.guaranteed`` *in total* (borrower and
  guarantor do not each get it); a three-household joint guarantee ``limits.joint_per_member``
  for *each* member; a joint group with fewer than ``limits.joint_min_households`` households
  counts as a single guarantee; mortgage and pledge ``ltv x appraised value``;
* suggested limit = the smaller of the structure limit and the repayment capacity
  (:func:`riskkit.lending.affordability.capacity_limit`), rounded down to
  ``limits.limit_rounding``.
"""

from __future__ import annotations

import numpy as np

from .terms import as_array, as_text_array, broadcast_length, check_terms, lending_limits, row_ids

#: Labels of the guarantee structures offered to the credit committee.
GUARANTEE_LABELS = {
    "credit": "none (pure credit)",
    "guaranteed": "one guarantor",
    "joint": "three-household joint guarantee",
    "mortgage": "collateral (mortgage)",
    "pledge": "pledge",
}


def credit_limit(
    guarantee_type, collateral_value=0.0, households=3, policy=None, ids=None
) -> np.ndarray:
    """Credit limit of the applicant from the guarantee structure alone (DOMAIN.md s.2).

    Parameters
    ----------
    guarantee_type : str or array of str
        ``credit``, ``guaranteed`` (one guarantor), ``joint`` (joint-liability group),
        ``mortgage`` or ``pledge``.
    collateral_value : float or array
        Appraised value of the collateral/pledged asset (mortgage and pledge only).
    households : int or array
        Households in a joint-guarantee group; below ``limits.joint_min_households`` the group
        counts as a single guarantee (``limits.guaranteed`` in total).
    policy : Policy, mapping, path or None

    Returns
    -------
    ndarray of float
        The applicant's own limit (for a joint group: each member's limit).

    Examples
    --------
    >>> credit_limit(["credit", "guaranteed", "joint", "joint", "mortgage"],
    ...              [0, 0, 0, 0, 400_000], households=[1, 2, 3, 2, 1]).tolist()
    [100000.0, 500000.0, 500000.0, 500000.0, 280000.0]
    """
    lim = lending_limits(policy)
    g = as_text_array(guarantee_type)
    n = broadcast_length(g, collateral_value, households)
    g = np.broadcast_to(g, (n,))
    cv = np.broadcast_to(as_array(collateral_value), (n,))
    hh = np.broadcast_to(as_array(households), (n,))
    check_terms(
        "credit limit input",
        row_ids(ids, n),
        guarantee=g,
        collateral_value=cv,
        households=hh,
    )
    joint_ok = hh >= lim["joint_min_households"]
    return np.select(
        [
            g == "credit",
            g == "guaranteed",
            (g == "joint") & joint_ok,
            g == "joint",
            g == "mortgage",
            g == "pledge",
        ],
        [
            float(lim["credit"]),
            float(lim["guaranteed"]),
            float(lim["joint_per_member"]),
            float(lim["guaranteed"]),
            lim["collateral_ltv"] * cv,
            lim["pledge_ltv"] * cv,
        ],
        default=np.nan,
    ).astype(float)


def suggested_limit(structure_limit, capacity, policy=None) -> np.ndarray:
    """``min(structure limit, capacity)`` rounded down to ``limits.limit_rounding``.

    Examples
    --------
    >>> suggested_limit([500_000, 100_000], [321_456.7, 250_000]).tolist()
    [321000.0, 100000.0]
    """
    unit = float(lending_limits(policy)["limit_rounding"])
    m = np.minimum(as_array(structure_limit), as_array(capacity))
    # a tiny tolerance keeps exact multiples (e.g. 100000.0000001 from float maths) intact
    return np.floor(m / unit + 1e-9) * unit
