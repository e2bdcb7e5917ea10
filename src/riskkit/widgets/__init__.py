"""Credit-committee what-if dashboards (ipywidgets), one line each in a notebook.

>>> from riskkit.widgets import applicant_dashboard, cutoff_dashboard      # doctest: +SKIP
>>> applicant_dashboard(scorecard, applications)                          # doctest: +SKIP

``riskkit app`` serves ``notebooks/credit_committee.ipynb`` with Voila (:mod:`.app`).
"""

from .applicant import ApplicantWhatIf, applicant_dashboard
from .committee import CommitteeScreen, committee_screen
from .cutoff import CutoffWhatIf, cutoff_dashboard
from .portfolio import PortfolioWhatIf, portfolio_dashboard

__all__ = [
    "ApplicantWhatIf",
    "CommitteeScreen",
    "committee_screen",
    "CutoffWhatIf",
    "PortfolioWhatIf",
    "applicant_dashboard",
    "cutoff_dashboard",
    "portfolio_dashboard",
]
