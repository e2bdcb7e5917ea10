"""riskkit: a credit-risk workbench for microloan lenders.

Scorecards (:mod:`riskkit.scoring`), five-category classification
(:mod:`riskkit.classification`), post-loan inspection (:mod:`riskkit.inspection`), migration
and provisions (:mod:`riskkit.migration`), report runs (:mod:`riskkit.reports`) and
credit-committee dashboards (:mod:`riskkit.widgets`), on a validated loan book
(:mod:`riskkit.book`) kept in a real database (:mod:`riskkit.store`).
"""

from importlib.metadata import PackageNotFoundError, version

from .book import LoanBook, delinquency_status, make_schedule
from .categories import Category
from .errors import ValidationError
from .policy import Policy, load_policy

try:  # the one version source is pyproject.toml, read from the installed distribution
    __version__ = version("riskkit")
except PackageNotFoundError:  # pragma: no cover - only when run from a bare source tree
    __version__ = "0+unknown"

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
