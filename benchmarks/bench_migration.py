"""Migration benchmark: riskkit vs transitionMatrix (open-risk) in the same run.

    python -m benchmarks.bench_migration [--quick]

1. Cohort estimation on N loans x 36 months (complete monthly panel, 7 states, written once
   to a CSV): riskkit (validation + estimation from the DataFrame) vs transitionMatrix 0.5.1's
   ``CohortEstimator.fit`` run in its own venv (``benchmarks/.venv-tm``) via subprocess on the
   same file. Prints both times, the ratio and the max difference of the averaged matrices
   (transitionMatrix double-counts the file's last record, so tiny differences are expected
   in at most two rows).
2. Workout-aware estimation: the same paths as a month-end classification history (five
   categories with paid-off and written-off flags) estimated as before this issue (7 states:
   the exits repaid and written off, ``panel_with_exits`` + cohort) and now
   (``panel_from_history``: 8 states, payoffs out of non-performing categories marked
   ``recovered``, + cohort), in the same run; the ratio must stay within 1.2x.
3. Monte Carlo of 1,000,000 loans x 36 months (one scenario; rho = 0 and rho = 0.1).

``--quick``: 10,000 loans for (1) and (2), 200,000 loans for (3).
Set up the peer venv once:
    python3 -m venv benchmarks/.venv-tm && benchmarks/.venv-tm/bin/pip install transitionmatrix==0.5.1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from riskkit.categories import Category
from riskkit.migration import CohortEstimator, StateSpace, TransitionMatrix, cohort_matrix
from riskkit.migration.montecarlo import simulate_book, simulate_states
from riskkit.migration.panel import panel_from_history, panel_with_exits

#: The state space before the workout states (issue 14): five categories, repaid, written off.
BEFORE = StateSpace(
    states=(*Category.codes(), "repaid", "written_off"),
    absorbing=("repaid", "written_off"),
    npl=("substandard", "doubtful", "loss"),
    default=("substandard", "doubtful", "loss", "written_off"),
    exits=("repaid", "written_off"),
    severity=("repaid", *Category.codes(), "written_off"),
)

ROOT = Path(__file__).resolve().parent
PEER_PY = ROOT / ".venv-tm" / "bin" / "python"

MONTHLY = np.array(
    [
        [0.900, 0.040, 0.005, 0.000, 0.000, 0.055, 0.000],
        [0.300, 0.450, 0.150, 0.030, 0.000, 0.070, 0.000],
        [0.050, 0.050, 0.550, 0.300, 0.020, 0.030, 0.000],
        [0.010, 0.000, 0.040, 0.700, 0.200, 0.020, 0.030],
        [0.000, 0.000, 0.000, 0.000, 0.800, 0.010, 0.190],
        [0.000, 0.000, 0.000, 0.000, 0.000, 1.000, 0.000],
        [0.000, 0.000, 0.000, 0.000, 0.000, 0.000, 1.000],
    ]
)


def cohort_bench(n_loans: int, months: int = 36) -> dict:
    import pandas as pd

    space = StateSpace.generic(range(7))
    tm = TransitionMatrix(MONTHLY, space)
    rng = np.random.default_rng(0)
    init = rng.choice(5, size=n_loans, p=[0.7, 0.1, 0.1, 0.05, 0.05])
    paths = simulate_states(tm, init, months, seed=1)  # (months+1, n_loans), complete panel
    df = pd.DataFrame(
        {
            "ID": np.repeat(np.arange(n_loans), months + 1),
            "Time": np.tile(np.arange(months + 1), n_loans),
            "State": paths.T.ravel().astype(np.int64),
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "panel.csv"
        df.to_csv(csv, index=False)
        data = pd.read_csv(csv)
        t0 = time.perf_counter()
        est = CohortEstimator(
            id_col="ID", time_col="Time", state_col="State", states=list(range(7))
        )
        est.fit(data)
        ours = time.perf_counter() - t0
        res = {"n_loans": n_loans, "rows": len(df), "riskkit_s": ours}
        if not PEER_PY.exists():
            res["peer"] = "transitionMatrix venv missing (see module docstring)"
            return res
        out = Path(tmp) / "tm.json"
        t0 = time.perf_counter()
        proc = subprocess.run(
            [str(PEER_PY), str(ROOT / "peers" / "tm_cohort.py"), str(csv), "7", str(out)],
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            res["peer"] = f"transitionMatrix failed: {proc.stderr.strip()[-400:]}"
            return res
        peer = json.loads(out.read_text())
        res["transitionmatrix_s"] = peer["fit_s"]
        res["transitionmatrix_wall_s"] = wall
        res["ratio"] = peer["fit_s"] / ours
        res["max_abs_diff"] = float(np.abs(np.array(peer["average_matrix"]) - est.matrix_).max())
    return res


def history_frame(n_loans: int, months: int = 36):
    """A month-end classification history from simulated paths (states 0-4 categories, 5
    paid off, 6 written off; exit months repeated as the classifier keeps them)."""
    import pandas as pd

    tm = TransitionMatrix(MONTHLY, StateSpace.generic(range(7)))
    rng = np.random.default_rng(0)
    init = rng.choice(5, size=n_loans, p=[0.7, 0.1, 0.1, 0.05, 0.05])
    paths = simulate_states(tm, init, months, seed=1).T.ravel().astype(np.int64)
    cats = np.asarray(Category.codes() + ["normal", "loss"], dtype=object)
    ids = np.char.add("L", np.arange(n_loans).astype(str))
    return pd.DataFrame(
        {
            "loan_id": np.repeat(ids, months + 1),
            "as_of": np.tile(pd.date_range("2024-01-31", periods=months + 1, freq="ME"), n_loans),
            "category": cats[paths],
            "outstanding_principal": np.where(paths >= 5, 0.0, 1000.0),
            "paid_off": paths == 5,
            "written_off": paths == 6,
        }
    )


def workout_bench(n_loans: int, months: int = 36, repeats: int = 3) -> dict:
    """Estimation from a classification history before and after the workout states."""
    h = history_frame(n_loans, months)

    def before():  # panel_from_history as it was: labels, exits, no recovered state
        p = panel_with_exits(
            h,
            h["category"].astype(object).to_numpy(),
            {"repaid": "paid_off", "written_off": "written_off"},
            id_col="loan_id",
            time_col="as_of",
            balance_col="outstanding_principal",
            states=BEFORE,
        )
        return cohort_matrix(p, 1)

    def after():
        return cohort_matrix(panel_from_history(h), 1)

    out = {"n_loans": n_loans, "rows": len(h)}
    for name, fn in (("before_s", before), ("after_s", after)):
        best = np.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            res = fn()
            best = min(best, time.perf_counter() - t0)
        out[name] = best
        out[name.replace("_s", "_matrix")] = res
    out["ratio"] = out["after_s"] / out["before_s"]
    out["recovered_share"] = float(out["after_matrix"].counts[2:5, 6].sum())
    return out


def monthly_with_recoveries() -> np.ndarray:
    """MONTHLY on the 8 states of FIVE_CATEGORY: a non-performing loan paid off is recovered."""
    m = np.insert(MONTHLY, 6, 0.0, axis=1)
    m = np.insert(m, 6, np.eye(8)[6], axis=0)
    m[2:5, 6], m[2:5, 5] = m[2:5, 5], 0.0
    return m


def mc_bench(n_loans: int, months: int = 36) -> dict:
    tm = TransitionMatrix(monthly_with_recoveries())
    rng = np.random.default_rng(0)
    states = rng.choice(5, size=n_loans, p=[0.8, 0.08, 0.05, 0.04, 0.03])
    bal = rng.uniform(1e3, 1e5, n_loans)
    out = {"n_loans": n_loans, "months": months}
    for rho in (0.0, 0.1):
        t0 = time.perf_counter()
        r = simulate_book(tm, states, bal, horizon=months, n_scenarios=1, rho=rho, seed=1)
        out[f"rho={rho}_s"] = time.perf_counter() - t0
        out[f"rho={rho}_npl_36"] = float(r.npl_ratio[0, -1])
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    n_cohort = 10_000 if args.quick else 100_000
    n_mc = 200_000 if args.quick else 1_000_000
    c = cohort_bench(n_cohort)
    print(f"Cohort estimation, {c['n_loans']:,} loans x 36 months ({c['rows']:,} rows):")
    print(f"  riskkit (validate + estimate)      {c['riskkit_s']:8.3f} s")
    if "ratio" in c:
        print(f"  transitionMatrix CohortEstimator   {c['transitionmatrix_s']:8.3f} s")
        print(f"  ratio transitionMatrix / riskkit   {c['ratio']:8.1f} x")
        print(f"  max |average matrix difference|    {c['max_abs_diff']:.2e}")
    else:
        print(f"  peer: {c['peer']}")
    w = workout_bench(n_cohort)
    print(f"Workout-aware estimation, {w['n_loans']:,} loans x 36 months ({w['rows']:,} rows):")
    print(f"  before (7 states, repaid / written off)     {w['before_s']:8.3f} s")
    print(f"  now (8 states, recoveries marked)           {w['after_s']:8.3f} s")
    print(f"  ratio now / before                          {w['ratio']:8.2f} x (target <= 1.2: "
          f"{'met' if w['ratio'] <= 1.2 else 'NOT met'})")  # fmt: skip
    print(f"  non-performing payoffs now counted as recovered: {w['recovered_share']:,.0f}")
    m = mc_bench(n_mc)
    print(f"Monte Carlo, {m['n_loans']:,} loans x {m['months']} months (target < 10 s):")
    print(f"  rho=0   {m['rho=0.0_s']:6.2f} s   (NPL ratio at 36m {m['rho=0.0_npl_36']:.4f})")
    print(f"  rho=0.1 {m['rho=0.1_s']:6.2f} s   (NPL ratio at 36m {m['rho=0.1_npl_36']:.4f})")


if __name__ == "__main__":
    main()
