"""Credit scoring: optimal binning, WoE/IV and selection, scorecards, PD calibration, master
scale, validation metrics, JSON/Excel/SQL deployment and notebook plots.

Examples
--------
>>> from riskkit.scoring import Scorecard, WoETransformer
>>> sc = Scorecard(binning=WoETransformer(min_iv=0.02, special_values=[-999]))
"""

from . import metrics
from .binning import OptimalBinning, UnseenCategoryWarning, woe_iv
from .calibration import MasterScale, PDCalibrator, shift_to_target
from .metrics import (
    auc,
    brier,
    calibration_curve,
    csi,
    csi_by_period,
    gains_table,
    gini,
    grade_tests,
    hosmer_lemeshow,
    ks,
    psi,
    psi_by_period,
    psi_status,
)
from .persistence import points_to_excel, scorecard_from_json, scorecard_to_json, scorecard_to_sql
from .registry import ModelRegistry, ModelVersion, RegistryError
from .sample import APPLICATION_FEATURES, application_sample, feature_columns
from .scorecard import InsufficientDataWarning, Scorecard
from .selection import select_by_correlation, select_by_iv, select_by_vif, stepwise, vif
from .woe import WoETransformer

__all__ = [
    "InsufficientDataWarning",
    "APPLICATION_FEATURES",
    "application_sample",
    "feature_columns",
    "MasterScale",
    "ModelRegistry",
    "ModelVersion",
    "RegistryError",
    "PDCalibrator",
    "auc",
    "brier",
    "calibration_curve",
    "csi",
    "csi_by_period",
    "gains_table",
    "gini",
    "grade_tests",
    "hosmer_lemeshow",
    "ks",
    "metrics",
    "psi",
    "psi_by_period",
    "psi_status",
    "shift_to_target",
    "OptimalBinning",
    "Scorecard",
    "UnseenCategoryWarning",
    "WoETransformer",
    "points_to_excel",
    "scorecard_from_json",
    "scorecard_to_json",
    "scorecard_to_sql",
    "select_by_correlation",
    "select_by_iv",
    "select_by_vif",
    "stepwise",
    "vif",
    "woe_iv",
]
