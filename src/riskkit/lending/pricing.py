"""Loss and price: LGD by guarantee type, expected loss PD x LGD x EAD and the risk-based
annual rate floor (cost of funds + PD x LGD + operating cost + margin, seed 000)."""

from __future__ import annotations

import numpy as np

from ..book.enums import GuaranteeType
from .terms import as_array, as_text_array, broadcast_length, check_terms, lending_limits, row_ids


def loss_given_default(guarantee_type, ead, collateral_value=0.0, policy=None, ids=None):
    """LGD by guarantee type; secured loans lose ``lgd.credit`` on the part above ``ltv x value``.

    Examples
    --------
    >>> loss_given_default(["credit", "joint", "mortgage", "mortgage"], 100_000,
    ...                    [0, 0, 50_000, 200_000]).round(4).tolist()
    [0.65, 0.4, 0.4225, 0.2]
    """
    lim = lending_limits(policy)
    g = as_text_array(guarantee_type)
    n = broadcast_length(g, ead, collateral_value)
    g = np.broadcast_to(g, (n,))
    ead = np.broadcast_to(as_array(ead), (n,))
    cv = np.broadcast_to(as_array(collateral_value), (n,))
    check_terms("LGD input", row_ids(ids, n), amount=ead, guarantee=g, collateral_value=cv)
    lgd = lim["lgd"]
    base = np.select(
        [g == k for k in GuaranteeType.values()],
        [float(lgd[k]) for k in GuaranteeType.values()],
        default=np.nan,
    )
    ltv = np.where(g == "pledge", lim["pledge_ltv"], lim["collateral_ltv"])
    unsecured = lgd["credit"] * np.maximum(ead - ltv * cv, 0.0) / ead
    secured = np.isin(g, ["mortgage", "pledge"])
    return np.where(secured, np.maximum(base, unsecured), base)


def expected_loss(pd_, lgd, ead) -> np.ndarray:
    """Expected loss ``PD x LGD x EAD`` (RMB).

    Examples
    --------
    >>> expected_loss([0.05, 0.1], [0.45, 0.65], [200_000, 50_000]).round(2).tolist()
    [4500.0, 3250.0]
    """
    p, g, e = as_array(pd_), as_array(lgd), as_array(ead)
    n = broadcast_length(p, g, e)
    check_terms("expected loss input", np.arange(n), pd_=np.broadcast_to(p, (n,)))
    return p * g * e


def price_floor(pd_, lgd, policy=None) -> np.ndarray:
    """Risk-based annual rate floor: cost of funds + PD x LGD + operating cost + margin.

    Examples
    --------
    >>> price_floor(0.05, 0.45).round(4).tolist()  # 0.045 + 0.0225 + 0.03 + 0.02
    [0.1175]
    """
    lim = lending_limits(policy)
    p = as_array(pd_)
    check_terms("price floor input", np.arange(p.size), pd_=p)
    return lim["cost_of_funds"] + p * as_array(lgd) + lim["operating_cost"] + lim["margin"]
