"""Portfolio migration across the five categories (迁徙率): estimation, projection, Monte
Carlo, stress, roll rates and vintages.

Examples
--------
>>> from riskkit.migration import FIVE_CATEGORY
>>> FIVE_CATEGORY.labels
['normal', 'special_mention', 'substandard', 'doubtful', 'loss', 'repaid', 'written_off']
"""

from .estimation import (
    AalenJohansenEstimator,
    CohortEstimator,
    aalen_johansen,
    cohort_counts,
    cohort_matrix,
)
from .intervals import bootstrap_ci, bootstrap_matrices, multinomial_ci
from .matrix import TransitionMatrix
from .panel import FIVE_CATEGORY, MigrationPanel, StateSpace, build_panel, panel_from_history

__all__ = [
    "FIVE_CATEGORY",
    "AalenJohansenEstimator",
    "CohortEstimator",
    "MigrationPanel",
    "StateSpace",
    "TransitionMatrix",
    "aalen_johansen",
    "bootstrap_ci",
    "bootstrap_matrices",
    "build_panel",
    "cohort_counts",
    "cohort_matrix",
    "multinomial_ci",
    "panel_from_history",
]
