"""Portfolio migration across the five categories (迁徙率): estimation, projection, Monte
Carlo, stress, roll rates and vintages.

Modules: :mod:`~riskkit.migration.panel` (input validation), :mod:`~.estimation` (cohort,
Aalen-Johansen), :mod:`~.generator` (continuous time), :mod:`~.intervals` (CIs),
:mod:`~.projection`, :mod:`~.montecarlo`, :mod:`~.stress`, :mod:`~.rollrates`,
:mod:`~.vintage`, :mod:`~.plots`.

Examples
--------
>>> from riskkit.migration import FIVE_CATEGORY
>>> FIVE_CATEGORY.labels
['normal', 'special_mention', 'substandard', 'doubtful', 'loss', 'repaid', 'recovered', 'written_off']
"""

from .estimation import (
    AalenJohansenEstimator,
    CohortEstimator,
    aalen_johansen,
    cohort_counts,
    cohort_matrix,
)
from .generator import Generator, GeneratorEstimator, generator_mle
from .intervals import bootstrap_ci, bootstrap_matrices, multinomial_ci
from .matrix import TransitionMatrix
from .montecarlo import MonteCarloResult, simulate_book, simulate_panel, simulate_states
from .panel import (
    FIVE_CATEGORY,
    MigrationPanel,
    StateSpace,
    build_panel,
    mark_recoveries,
    panel_from_history,
)
from .projection import Projection, project
from .rollrates import BUCKET_STATES, bucket_panel, dpd_bucket, roll_forward_rates, roll_rate_matrix
from .stress import bsf_stress, compare, down_multiplier_stress, fit_z
from .vintage import vintage_curves

__all__ = [
    "BUCKET_STATES",
    "FIVE_CATEGORY",
    "AalenJohansenEstimator",
    "CohortEstimator",
    "Generator",
    "GeneratorEstimator",
    "MigrationPanel",
    "MonteCarloResult",
    "Projection",
    "StateSpace",
    "TransitionMatrix",
    "aalen_johansen",
    "bootstrap_ci",
    "bootstrap_matrices",
    "bsf_stress",
    "bucket_panel",
    "build_panel",
    "cohort_counts",
    "cohort_matrix",
    "compare",
    "down_multiplier_stress",
    "dpd_bucket",
    "fit_z",
    "generator_mle",
    "mark_recoveries",
    "multinomial_ci",
    "panel_from_history",
    "project",
    "roll_forward_rates",
    "roll_rate_matrix",
    "simulate_book",
    "simulate_panel",
    "simulate_states",
    "vintage_curves",
]
