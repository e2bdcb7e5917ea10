"""Post-loan inspection (贷后检查, DOMAIN.md s.5, seed 002 chapters 1-2): the risk-signal
catalogue and detection, the inspection plan by policy, and the inspection ledger (台账).

Examples
--------
>>> from riskkit.inspection import signal_catalogue
>>> signal_catalogue().loc["contact_changes", "detection"]
'feed'
"""

from .ledger import ACTIONS, METHODS, load_ledger, record_inspections, validate_inspections
from .plan import InspectionPlan, inspection_plan
from .rereview import RereviewList, record_reviews, rereview_list
from .signals import (
    active_signals,
    detect_signals,
    load_manual_signals,
    record_signals,
    signal_catalogue,
    validate_signals,
    watch_list,
)

__all__ = [
    "RereviewList",
    "record_reviews",
    "rereview_list",
    "ACTIONS",
    "METHODS",
    "InspectionPlan",
    "inspection_plan",
    "load_ledger",
    "record_inspections",
    "validate_inspections",
    "active_signals",
    "detect_signals",
    "load_manual_signals",
    "record_signals",
    "signal_catalogue",
    "validate_signals",
    "watch_list",
]
