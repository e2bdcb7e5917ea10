"""riskkit: a credit-risk workbench for microloan lenders.

Scorecards (:mod:`riskkit.scoring`), five-category classification
(:mod:`riskkit.classification`), post-loan inspection (:mod:`riskkit.inspection`), migration
and provisions (:mod:`riskkit.migration`), report runs (:mod:`riskkit.reports`) and
credit-committee dashboards (:mod:`riskkit.widgets`), on a validated loan book
(:mod:`riskkit.book`) kept in a real database (:mod:`riskkit.store`).
"""

from .book import LoanBook, delinquency_status, make_schedule
from .categories import Category
from .errors import ValidationError
from .policy import Policy, load_policy

__version__ = "0.1.0"

__all__ = [
    "Category",
    "LoanBook",
    "Policy",
    "ValidationError",
    "delinquency_status",
    "load_policy",
    "make_schedule",
    "__version__",
]
