"""Macro scenarios on an annual footing: a year's systematic shock, turned into monthly shifts.

A scenario is stated as one number per projection year: the year's **systematic factor Z**
(one-factor model, ``Z ~ N(0, 1)``; ``Z < 0`` a bad year). ``Z = -2`` is a year as bad as one
in 44 (``1 / Phi(-2)``), ``Z = -1`` one in 6. Paths cover several years (the ECL scenarios'
lifetime): ``z: [-2, -1, 0]`` is a severe year, a weak one, then an average one.

**The shift.** The estimated monthly matrix ``P`` is taken as an average year: its 12-month
matrix ``A = P^12`` is the year with ``Z = 0``. For a year with factor ``Z`` every row of ``A``
is shifted toward worse outcomes (order: :attr:`StateSpace.severity`; exits that are not
credit outcomes, ``repaid``, are held, see :mod:`riskkit.migration.stress`): with ``G`` the
probability of ending in an outcome or worse,

    ``G(Z) = Phi(Phi^-1(G) - c Z)``,  ``c = sqrt(rho / (1 - rho))``

(Vasicek/Belkin-Suchower-Forest with the thresholds taken from the neutral year), so ``Z = 0``
gives ``A`` itself. **Monthly steps.** A month of the scenario year uses ``P`` shifted by a
monthly factor ``z_m``, the same in each of the 12 months, calibrated so that the 12 monthly
matrices compound to the annual shift: ``shift(P, z_m)^12 ~ shift(A, Z)``
(:func:`monthly_shift`: least squares on the cumulative outcome distributions, worst outcome
first, of the non-absorbing rows weighted by their exposure). One-factor shifts are not closed
under compounding, so the match is close, not exact (``Z = 0`` is exact): the fit is tested
and reported (:attr:`MonthlyShift.max_abs_error`, the largest cell difference). On the sample
book a year at ``Z = -2`` is twelve months at ``z_m`` of about -0.8; applying ``Z = -2`` itself
every month instead would be a year of twelve such shocks.

Examples
--------
>>> import numpy as np
>>> from riskkit.migration.matrix import TransitionMatrix
>>> p = np.eye(8); p[0, [0, 1, 5]] = [0.9, 0.05, 0.05]; p[1, [0, 1, 2]] = [0.3, 0.5, 0.2]
>>> p[2, [2, 3]] = [0.8, 0.2]; p[3, [3, 7]] = [0.9, 0.1]
>>> m = monthly_shift(TransitionMatrix(p), z=-2.0, rho=0.05)
>>> bool(-2.0 < m.z_month < 0), round(m.max_abs_error, 3)
(True, 0.051)
>>> round(return_period(-2.0))
44
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import ndtr

from ..policy import Policy, load_policy
from .matrix import TransitionMatrix
from .stress import bsf_thresholds

_FIT_BOUNDS = (-6.0, 6.0)


def return_period(z: float) -> float:
    """Years between years at least as bad as ``z`` (``1 / Phi(z)``); for ``z >= 0`` the
    years at least as good (``1 / Phi(-z)``)."""
    return float(1.0 / ndtr(-abs(float(z))))


def shift_matrix(tm: TransitionMatrix, z: float, rho: float, method: str = "") -> TransitionMatrix:
    """``tm`` shifted by systematic factor ``z`` with the neutral anchor (``z = 0`` returns
    ``tm``): ``G(z) = Phi(Phi^-1(G) - sqrt(rho / (1 - rho)) z)`` per row, neutral exits held."""
    if not 0 <= rho < 1:
        raise ValueError(f"rho must be in [0, 1), got {rho}")
    order, x = bsf_thresholds(tm)
    c = np.sqrt(rho / (1 - rho))
    g = ndtr(x - c * float(z))
    g[:, -1] = 1.0
    pw = np.clip(np.diff(g, axis=1, prepend=0.0), 0.0, None)
    out = tm.matrix.copy()
    credit = tm.matrix[:, order].sum(axis=1, keepdims=True)
    out[:, order] = pw * credit
    out /= out.sum(axis=1, keepdims=True)
    return TransitionMatrix(
        out,
        tm.states,
        period=tm.period,
        weight=tm.weight,
        method=method or f"shift(z={float(z):g}, rho={float(rho):g})",
    )


@dataclass
class MonthlyShift:
    """The monthly matrix of a scenario year and how well 12 months compound to the year.

    Attributes
    ----------
    z_year : float
        The year's systematic factor.
    z_month : float
        The calibrated monthly factor (the same in each month).
    monthly : TransitionMatrix
        ``P`` shifted by ``z_month``.
    annual_target : TransitionMatrix
        ``P^12`` shifted by ``z_year``.
    compounded : TransitionMatrix
        ``monthly^12``.
    max_abs_error : float
        Largest absolute difference between ``compounded`` and ``annual_target`` over the
        rows with exposure.
    """

    z_year: float
    z_month: float
    rho: float
    monthly: TransitionMatrix
    annual_target: TransitionMatrix
    compounded: TransitionMatrix
    max_abs_error: float

    def __repr__(self) -> str:
        return (
            f"MonthlyShift(z_year={self.z_year:g}, z_month={self.z_month:.4f}, rho={self.rho:g}, "
            f"max_abs_error={self.max_abs_error:.2e})"
        )


def _row_weights(tm: TransitionMatrix) -> np.ndarray:
    sp = tm.states
    live = ~sp.mask(sp.absorbing)
    w = tm.exposure if tm.exposure is not None else np.ones(len(sp))
    w = np.where(live, np.asarray(w, dtype=float), 0.0)
    return w / w.sum() if w.sum() > 0 else live / max(live.sum(), 1)


def monthly_shift(tm: TransitionMatrix, z: float, rho: float, months: int = 12) -> MonthlyShift:
    """Calibrate the monthly factor whose ``months``-fold product matches the annual shift.

    Minimises ``sum_i w_i sum_k (C_ik(z_m) - T_ik)^2`` over ``z_m``, where ``C`` and ``T`` are
    the cumulative outcome distributions (outcomes worst first) of ``shift(P, z_m)^12`` and of
    ``shift(P^12, Z)``, and ``w_i`` the row exposures of ``tm`` (its counts) over the
    non-absorbing rows.
    """
    z = float(z)
    target = shift_matrix(tm.power(months), z, rho)
    if z == 0.0:
        comp = tm.power(months)
        err = float(np.abs(comp.matrix - target.matrix).max())
        return MonthlyShift(z, 0.0, rho, tm, target, comp, err)
    w = _row_weights(tm)[:, None]
    sp = tm.states
    worst_first = np.array([sp.states.index(s) for s in reversed(sp.severity)])
    t_cum = np.cumsum(target.matrix[:, worst_first], axis=1)

    def loss(zm: float) -> float:
        comp = np.linalg.matrix_power(shift_matrix(tm, zm, rho).matrix, months)
        return float((w * (np.cumsum(comp[:, worst_first], axis=1) - t_cum) ** 2).sum())

    zm = float(
        minimize_scalar(loss, bounds=_FIT_BOUNDS, method="bounded", options={"xatol": 1e-8}).x
    )
    monthly = shift_matrix(tm, zm, rho, method=f"monthly shift(z_year={z:g}, rho={rho:g})")
    comp = monthly.power(months)
    live = w[:, 0] > 0
    err = float(np.abs(comp.matrix - target.matrix)[live].max())
    return MonthlyShift(z, zm, rho, monthly, target, comp, err)


@dataclass
class Scenario:
    """A macro scenario: a name and the systematic factor Z of each projection year.

    Attributes
    ----------
    name : str
    z : tuple of float
        Year 1, 2, ...; years after the last one repeat the last value.
    weight : float
        Probability weight in the expected credit loss (0: a stress test only).
    """

    name: str
    z: tuple
    weight: float = 0.0

    def z_of_year(self, year: int) -> float:
        """Z of projection year ``year`` (1-based)."""
        return float(self.z[min(max(int(year), 1), len(self.z)) - 1])

    def describe(self, lang: str = "en") -> str:
        """The scenario in words, e.g. ``"year 1: a severe year, one in 44 (Z = -2.0); ..."``."""
        parts = [
            year_text(zv, lang, year=k + 1 if len(self.z) > 1 else None)
            for k, zv in enumerate(self.z)
        ]
        sep = "；" if lang == "zh" else "; "
        return sep.join(parts)

    def __repr__(self) -> str:
        return f"Scenario({self.name!r}, z={list(self.z)}, weight={self.weight:g})"


def year_text(z: float, lang: str = "en", year: int | None = None) -> str:
    """One year of a scenario in words with its return period (English or Chinese)."""
    z = float(z)
    rp = return_period(z)
    if abs(z) < 1e-12:
        en, zh = "an average year (Z = 0)", "平常年份（Z = 0）"
    elif z < 0:
        en = f"a bad year, as bad as one year in {rp:,.0f} (Z = {z:+.2f})"
        zh = f"不利年份，约 {rp:,.0f} 年一遇（Z = {z:+.2f}）"
    else:
        en = f"a good year, as good as one year in {rp:,.0f} (Z = {z:+.2f})"
        zh = f"有利年份，约 {rp:,.0f} 年一遇（Z = {z:+.2f}）"
    if year is None:
        return zh if lang == "zh" else en
    return f"第{year}年：{zh}" if lang == "zh" else f"year {year}: {en}"


def scenarios_from_policy(policy: Policy | dict | str | None = None, ecl_only: bool = False):
    """The scenarios of the policy's ``scenarios`` section (``ecl_only``: weight > 0)."""
    sc = load_policy(policy)["scenarios"]
    out = []
    for name, spec in sc["definitions"].items():
        s = Scenario(name, tuple(float(v) for v in spec["z"]), float(spec["ecl_weight"]))
        if not ecl_only or s.weight > 0:
            out.append(s)
    return out


@dataclass
class ScenarioPath:
    """Monthly matrices of one scenario over a horizon (one calibrated matrix per year)."""

    scenario: Scenario
    years: list = field(default_factory=list)  # MonthlyShift per projection year

    def matrix(self, month: int) -> TransitionMatrix:
        """The monthly matrix of month ``month`` (1-based)."""
        return self.years[min((int(month) - 1) // 12, len(self.years) - 1)].monthly

    def matrices(self, horizon: int) -> list[TransitionMatrix]:
        return [self.matrix(m) for m in range(1, int(horizon) + 1)]

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{k + 1}</td><td>{y.z_year:+.2f}</td><td>{y.z_month:+.4f}</td>"
            f"<td>{y.max_abs_error:.1e}</td></tr>"
            for k, y in enumerate(self.years)
        )
        return (
            f"<div><b>{html.escape(self.scenario.name)}</b>: "
            f"{html.escape(self.scenario.describe())}<table><tr><th>year</th><th>Z</th>"
            f"<th>monthly z</th><th>max |error|</th></tr>{rows}</table></div>"
        )


def scenario_path(
    tm: TransitionMatrix, scenario: Scenario, horizon: int, rho: float
) -> ScenarioPath:
    """Calibrated monthly matrices of ``scenario`` for ``horizon`` months from ``tm``."""
    n_years = max(1, -(-int(horizon) // 12))
    cache: dict[float, MonthlyShift] = {}
    years = []
    for y in range(1, n_years + 1):  # a loop over years
        zy = scenario.z_of_year(y)
        if zy not in cache:
            cache[zy] = monthly_shift(tm, zy, rho)
        years.append(cache[zy])
    return ScenarioPath(scenario, years)
