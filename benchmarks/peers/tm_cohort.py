"""Time transitionMatrix 0.5.1's CohortEstimator on a cohort-format CSV (run in the peer venv).

Usage: benchmarks/.venv-tm/bin/python benchmarks/peers/tm_cohort.py DATA.csv N_STATES OUT.json

DATA.csv has columns ID, Time, State (integer states 0..N_STATES-1, integer times). Timing
covers ``CohortEstimator.fit`` only (CSV reading and sorting excluded). Writes fit_s and the
count-averaged matrix.
"""

import json
import sys
import time
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")


def main() -> None:
    path, n_states, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    import transitionMatrix as tm
    from transitionMatrix.estimators.cohort_estimator import CohortEstimator
    from transitionMatrix.utils.preprocessing import unique_timestamps

    data = pd.read_csv(path).sort_values(["ID", "Time"])
    states = tm.StateSpace([(str(i), str(i)) for i in range(n_states)])
    est = CohortEstimator(
        states=states,
        cohort_bounds=unique_timestamps(data),
        ci={"method": "goodman", "alpha": 0.05},
    )
    t0 = time.perf_counter()
    est.fit(data)
    fit_s = time.perf_counter() - t0
    with open(out, "w") as f:
        json.dump({"fit_s": fit_s, "average_matrix": np.asarray(est.average_matrix).tolist()}, f)


if __name__ == "__main__":
    main()
