"""Monte Carlo of loan-level migration paths for a whole book, vectorised over loans.

Each month every loan draws ``u`` and moves to the first state, in order from worst to best
outcome (:attr:`StateSpace.severity` reversed), whose cumulative probability in its current
row exceeds ``u``. With a systematic factor (``rho > 0``) ``u = Phi(sqrt(rho) Z + sqrt(1 -
rho) e)`` with ``Z`` common to a scenario and month and ``e`` per loan -- the one-factor model
of :mod:`riskkit.migration.stress`, so a bad month (``Z < 0``) moves every loan toward worse
states at once, which is what makes the NPL-ratio quantiles across scenarios wide. Averaged
over ``Z`` each loan migrates exactly with the given matrix. Only months (and scenario
chunks) are looped over; the loans are numpy arrays. Each scenario draws from its own random
stream, so chunks of scenarios can run anywhere (``engine="dask"``: as tasks on a cluster)
and give the single-process result for the same seed.

Examples
--------
>>> import numpy as np
>>> from riskkit.migration.matrix import TransitionMatrix
>>> p = np.eye(8); p[0, :2] = [0.97, 0.03]; p[1, [0, 1, 2]] = [0.3, 0.5, 0.2]
>>> p[2, [2, 3]] = [0.7, 0.3]; p[3, [3, 4]] = [0.8, 0.2]; p[4, [4, 7]] = [0.5, 0.5]
>>> res = simulate_book(TransitionMatrix(p), np.zeros(1000, int), np.full(1000, 1e4),
...                     horizon=12, n_scenarios=20, rho=0.1, seed=1)
>>> res.quantiles().loc[("npl_ratio", 12)].round(3).index.tolist()
[0.5, 0.95, 0.99]
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr

from ..deprecation import deprecated_alias
from ..policy import load_policy
from ..results import TableResult
from .matrix import TransitionMatrix
from .panel import StateSpace


def _worst_first(tm: TransitionMatrix):
    """Column order worst -> best and the cumulative rows in that order (last = inf)."""
    sp = tm.states
    order = np.array([sp.states.index(s) for s in reversed(sp.severity)], dtype=np.int64)
    cum = np.cumsum(tm.matrix[:, order], axis=1)
    cum[:, -1] = np.inf
    return order, cum


def step_states(state: np.ndarray, u: np.ndarray, order: np.ndarray, cum: np.ndarray):
    """Next state of every loan given uniforms ``u`` (vectorised over loans).

    One ``searchsorted`` for all loans: the breakpoints of state ``s`` are shifted to
    ``s + cum[s]``, so ``state + u`` falls among its own row's breakpoints.
    """
    s = cum.shape[1]
    breaks = (np.arange(cum.shape[0])[:, None] + np.minimum(cum[:, :-1], 1.0)).ravel()
    k = np.searchsorted(breaks, state + u, side="right") - state * (s - 1)
    return order[np.clip(k, 0, s - 1)]


def state_codes(space: StateSpace, states) -> np.ndarray:
    """State positions from labels / Category forms / integer positions."""
    arr = np.asarray(states)
    if arr.dtype.kind in "iu":
        if arr.size and (arr.min() < 0 or arr.max() >= len(space)):
            raise ValueError(f"state codes must be in 0..{len(space) - 1}")
        return arr.astype(np.int64)
    uniq = pd.unique(pd.Series(arr))
    codes = np.array([space.index(v) for v in uniq], dtype=np.int64)
    return codes[pd.Index(uniq).get_indexer(arr)]


def simulate_states(
    tm: TransitionMatrix,
    initial,
    n_steps: int,
    *,
    seed: int | None = 0,
    rho: float = 0.0,
    z=None,
) -> np.ndarray:
    """Simulate state paths: returns ``(n_steps + 1, n_loans)`` state positions (int8)."""
    order, cum = _worst_first(tm)
    state = state_codes(tm.states, initial)
    rng = np.random.default_rng(seed)
    out = np.empty((n_steps + 1, len(state)), dtype=np.int8)
    out[0] = state
    for t in range(n_steps):
        if rho > 0:
            zt = rng.standard_normal() if z is None else z[t]
            x = np.sqrt(rho) * zt + np.sqrt(1 - rho) * rng.standard_normal(len(state))
            u = ndtr(x)
        else:
            u = rng.random(len(state))
        state = step_states(state, u, order, cum)
        out[t + 1] = state
    return out


def simulate_panel(
    tm: TransitionMatrix,
    n_loans: int,
    n_months: int,
    *,
    initial=None,
    seed: int | None = 0,
    start: str | None = "2024-01-31",
    balance: float | None = 10_000.0,
    amortisation: float = 0.02,
    censor_rate: float = 0.0,
) -> pd.DataFrame:
    """A synthetic loan-month panel drawn from a known matrix (tests, benchmarks, demos).

    Loans start in ``initial`` (labels/codes per loan, or a probability vector over states;
    default: all in the first state), are observed at ``n_months + 1`` month-ends (or integer
    periods when ``start=None``), stop being observed after their first absorbing state, and
    with ``censor_rate`` drop out of observation (censoring) with that monthly probability.
    """
    rng = np.random.default_rng(seed)
    s = len(tm.states)
    if initial is None:
        init = np.zeros(n_loans, dtype=np.int64)
    else:
        arr = np.asarray(initial)
        if arr.dtype.kind == "f" and arr.shape == (s,):
            init = rng.choice(s, size=n_loans, p=arr / arr.sum())
        else:
            init = state_codes(tm.states, arr)
    paths = simulate_states(tm, init, n_months, seed=int(rng.integers(2**32))).astype(np.int64)
    absorbing = tm.states.mask(tm.states.absorbing)
    t_idx = np.arange(n_months + 1)[:, None]
    # observed while no earlier absorbing state and not yet censored
    prev_abs = np.zeros_like(paths, dtype=bool)
    prev_abs[1:] = np.cumsum(absorbing[paths[:-1]], axis=0) > 0
    censor_at = (
        rng.geometric(censor_rate, size=n_loans) if censor_rate > 0 else np.full(n_loans, 10**9)
    )
    keep = ~prev_abs & (t_idx < censor_at[None, :])
    tt, ll = np.nonzero(keep)
    order = np.lexsort((tt, ll))
    tt, ll = tt[order], ll[order]
    times = (
        pd.date_range(start, periods=n_months + 1, freq="ME").to_numpy()[tt]
        if start is not None
        else tt.astype(np.int64)
    )
    labels = np.asarray(tm.states.labels, dtype=object)[paths[tt, ll]]
    frame = pd.DataFrame(
        {"loan_id": ll.astype(np.int64), "as_of": times, "category": pd.array(labels, dtype="str")}
    )
    if balance is not None:
        exits = tm.states.mask(tm.states.exits)
        bal = balance * (1 - amortisation) ** tt
        frame["balance"] = np.where(exits[paths[tt, ll]], 0.0, bal)
    return frame


@dataclass(eq=False)
class MonteCarloResult(TableResult):
    """Scenario paths of book-level metrics; arrays are ``(n_scenarios, horizon + 1)``."""

    states: StateSpace
    balance_by_state: np.ndarray  # (n_scen, horizon + 1, S)
    count_by_state: np.ndarray  # (n_scen, horizon + 1, S)
    npl_ratio: np.ndarray
    provisions: np.ndarray
    losses: np.ndarray  # cumulative LGD x EAD at first default
    outstanding: np.ndarray
    lgd: float
    rho: float
    seed: int | None

    @property
    def table(self) -> pd.DataFrame:
        """Median, 95th and 99th percentile across scenarios per metric and month."""
        return self.quantiles()

    @property
    def n_scenarios(self) -> int:
        return self.npl_ratio.shape[0]

    @property
    def horizon(self) -> int:
        return self.npl_ratio.shape[1] - 1

    def quantiles(self, q=(0.5, 0.95, 0.99)) -> pd.DataFrame:
        """Quantiles across scenarios per metric and month: index (metric, month)."""
        frames = []
        for name in ("npl_ratio", "provisions", "losses", "outstanding"):
            arr = getattr(self, name)
            qs = np.quantile(arr, q, axis=0).T
            idx = pd.MultiIndex.from_product(
                [[name], np.arange(self.horizon + 1)], names=["metric", "month"]
            )
            frames.append(pd.DataFrame(qs, index=idx, columns=pd.Index(list(q), name="q")))
        return pd.concat(frames)

    def summary(self, q=(0.5, 0.95, 0.99)) -> pd.DataFrame:
        """Mean and quantiles at the horizon, one row per metric."""
        qt = self.quantiles(q).xs(self.horizon, level="month")
        qt.insert(
            0,
            "mean",
            [getattr(self, m)[:, -1].mean() for m in qt.index],
        )
        return qt

    def plot_fan_chart(self, metric: str = "npl_ratio", **kw):
        """Fan chart of ``metric`` (see :func:`riskkit.migration.plots.plot_fan_chart`)."""
        from .plots import plot_fan_chart

        return plot_fan_chart(self, metric, **kw)

    #: Deprecated name of :meth:`plot_fan_chart` (riskkit 0.1).
    fan_chart = deprecated_alias("plot_fan_chart")

    def __repr__(self) -> str:
        return (
            f"MonteCarloResult({self.n_scenarios} scenarios x {self.horizon} months, "
            f"rho={self.rho}, lgd={self.lgd})\n{self.summary().to_string()}"
        )

    def _repr_html_(self) -> str:
        return f"<b>{html.escape(repr(self).splitlines()[0])}</b>" + self.summary().to_html(
            float_format=lambda v: f"{v:,.4f}"
        )


def provision_vector(space: StateSpace, policy=None) -> tuple[np.ndarray, float]:
    """Specific provision ratio per state (float band applied) and the general ratio."""
    prov = load_policy(policy)["provisions"]
    spec = np.zeros(len(space))
    if space.is_five_category:
        band = prov["float_band"]
        for i, code in enumerate(space.states[:5]):
            r = prov["specific_ratio"][code]
            fl = prov["float"].get(code, 0.0) if isinstance(prov.get("float"), dict) else 0.0
            if abs(fl) > band + 1e-12:
                raise ValueError(f"provisions.float.{code}={fl} outside +/-{band}")
            spec[i] = r * (1 + fl)
    return spec, float(prov["general_ratio"])


def simulate_book(
    tm: TransitionMatrix,
    states,
    balances,
    horizon: int | None = None,
    *,
    n_scenarios: int = 100,
    rho: float | None = None,
    lgd: float | None = None,
    amortisation: float = 0.0,
    seed: int | None = 0,
    policy=None,
    max_paths_per_chunk: int = 2_000_000,
    engine="pandas",
) -> MonteCarloResult:
    """Simulate the whole book ``n_scenarios`` times over ``horizon`` months.

    Parameters
    ----------
    tm : TransitionMatrix
        One-month (one-step) matrix.
    states : array-like (n_loans,)
        Current state of each loan (labels, Category forms or positions).
    balances : array-like (n_loans,)
        Outstanding balance of each loan.
    horizon : int, optional
        Steps; default policy ``migration.horizon_months``.
    n_scenarios : int
        Independent replications of the book.
    rho : float, optional
        Systematic-factor loading (default policy ``migration.rho``); 0 gives independent
        loans.
    lgd : float, optional
        Loss given default applied to the balance at first entry into a default state
        (:attr:`StateSpace.default`); default policy ``migration.lgd``.
    amortisation : float
        Monthly run-off rate of the balance of every loan still on the book.
    seed : int
        Scenario *k* draws from its own stream, ``SeedSequence(seed).spawn(n_scenarios)[k]``,
        so the result is the same however the scenarios are split in chunks or spread over
        workers.
    policy : Policy, mapping or path, optional
        Provision ratios and migration defaults.
    max_paths_per_chunk : int
        Loan paths (loans x scenarios) simulated at once; bounds memory.
    engine : {"pandas", "dask"} or riskkit.engine.Engine
        ``"dask"``: the chunks of scenarios run as tasks on the cluster.

    Returns
    -------
    MonteCarloResult
    """
    from ..engine import open_engine

    pol = load_policy(policy)
    mig = pol["migration"]
    horizon = int(mig["horizon_months"] if horizon is None else horizon)
    rho = float(mig["rho"] if rho is None else rho)
    lgd = float(mig["lgd"] if lgd is None else lgd)
    if not 0 <= rho < 1:
        raise ValueError(f"rho must be in [0, 1), got {rho}")
    if not 0 <= amortisation < 1:
        raise ValueError(f"amortisation must be in [0, 1), got {amortisation}")
    space = tm.states
    st0 = state_codes(space, states)
    bal0 = np.asarray(balances, dtype=float)
    if bal0.shape != st0.shape:
        raise ValueError("states and balances must have the same length")
    if (bal0 < 0).any() or not np.isfinite(bal0).all():
        raise ValueError("balances must be finite and >= 0")
    streams = np.random.SeedSequence(seed).spawn(n_scenarios)
    per_chunk = max(1, max_paths_per_chunk // max(len(st0), 1))
    chunks = [streams[c0 : c0 + per_chunk] for c0 in range(0, n_scenarios, per_chunk)]
    model = _Model.of(tm, pol, horizon, rho, lgd, amortisation)
    eng = open_engine(engine)
    book = eng.share((st0, bal0))
    parts = eng.compute(eng.map(_simulate_chunk, chunks, model=model, book=book))
    if eng is not engine:
        eng.close()
    bal_by = np.concatenate([p[0] for p in parts])
    cnt_by = np.concatenate([p[1] for p in parts])
    losses = np.concatenate([p[2] for p in parts])
    outstanding = bal_by.sum(axis=2)
    npl_bal = bal_by[:, :, model.npl].sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        npl_ratio = np.where(
            outstanding > 0, npl_bal / np.where(outstanding > 0, outstanding, 1), 0
        )
    provisions = model.general * outstanding + bal_by @ model.spec
    return MonteCarloResult(
        space, bal_by, cnt_by, npl_ratio, provisions, losses, outstanding, lgd, rho, seed
    )


@dataclass(frozen=True)
class _Model:
    """What a chunk of scenarios needs: the matrix as cumulative rows, the state masks, the
    provision ratios and the parameters."""

    order: np.ndarray
    cum: np.ndarray
    exits: np.ndarray
    npl: np.ndarray
    default: np.ndarray
    spec: np.ndarray
    general: float
    horizon: int
    rho: float
    lgd: float
    amortisation: float

    @classmethod
    def of(cls, tm: TransitionMatrix, policy, horizon, rho, lgd, amortisation) -> _Model:
        space = tm.states
        order, cum = _worst_first(tm)
        spec, general = provision_vector(space, policy)
        s = len(space)
        default = space.mask(space.default) if space.default else np.zeros(s, dtype=bool)
        return cls(
            order, cum, space.mask(space.exits), space.mask(space.npl), default, spec,
            general, horizon, rho, lgd, amortisation,
        )  # fmt: skip


def _draws(gens: list, n: int, t: int, z: np.ndarray, rho: float) -> np.ndarray:
    """Uniforms of every loan of every scenario of the chunk for month ``t``, each scenario
    from its own stream."""
    if rho > 0:
        e = np.concatenate([g.standard_normal(n) for g in gens])
        return ndtr(np.sqrt(rho) * np.repeat(z[:, t], n) + np.sqrt(1 - rho) * e)
    return np.concatenate([g.random(n) for g in gens])


def _simulate_chunk(streams: list, model: _Model, book: tuple) -> tuple:
    """Balances and counts by state and cumulative losses of the scenarios ``streams``."""
    st0, bal0 = book
    n, s, c, h = len(st0), len(model.exits), len(streams), model.horizon
    gens = [np.random.default_rng(sq) for sq in streams]
    z = np.array([g.standard_normal(h) for g in gens]).reshape(c, h)
    bal_by = np.zeros((c, h + 1, s))
    cnt_by = np.zeros((c, h + 1, s))
    losses = np.zeros((c, h + 1))
    scen = np.repeat(np.arange(c), n)
    off = scen * s
    state, bal = np.tile(st0, c), np.tile(bal0, c)
    dflt = model.default[state]

    def agg(state, bal, t):
        live_bal = np.where(model.exits[state], 0.0, bal)
        bal_by[:, t] = np.bincount(off + state, weights=live_bal, minlength=c * s).reshape(c, s)
        cnt_by[:, t] = np.bincount(off + state, minlength=c * s).reshape(c, s)

    agg(state, bal, 0)
    cum_loss = np.zeros(c)
    for t in range(h):
        state = step_states(state, _draws(gens, n, t, z, model.rho), model.order, model.cum)
        new_default = model.default[state] & ~dflt
        dflt |= new_default
        cum_loss += model.lgd * np.bincount(scen, weights=bal * new_default, minlength=c)
        bal = np.where(model.exits[state], 0.0, bal * (1 - model.amortisation))
        agg(state, bal, t + 1)
        losses[:, t + 1] = cum_loss
    return bal_by, cnt_by, losses
