"""The README opens with the two commands and documents names that exist."""

import importlib
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

DOCUMENTED = {
    "riskkit.datasets": "load_german_credit make_microloan_book make_inspection_ledger",
    "riskkit.io": "read_book write_book read_table",
    "riskkit.scoring": "Scorecard WoETransformer MasterScale psi_by_period OptimalBinning "
    "PDCalibrator application_sample auc gini ks gains_table psi csi csi_by_period hosmer_lemeshow grade_tests "
    "brier calibration_curve scorecard_to_sql points_to_excel",
    "riskkit.classification": "Classifier ClassificationHistory record_overrides",
    "riskkit.provisions": "provisions",
    "riskkit.inspection": "signal_catalogue detect_signals watch_list inspection_plan "
    "record_inspections load_ledger",
    "riskkit.migration": "build_panel panel_from_history CohortEstimator "
    "AalenJohansenEstimator GeneratorEstimator TransitionMatrix project simulate_book "
    "bsf_stress down_multiplier_stress compare bucket_panel roll_rate_matrix "
    "roll_forward_rates vintage_curves bootstrap_ci",
    "riskkit.migration.plots": "heatmap category_shares fan_chart stress_comparison",
    "riskkit.reports": "run_report run_all",
    "riskkit.widgets": "applicant_dashboard cutoff_dashboard portfolio_dashboard",
    "riskkit.lending": "assess_application",
}


def test_readme_starts_with_the_two_commands():
    text = README.read_text(encoding="utf-8")
    first_block = re.search(r"```bash\n(.*?)```", text, re.S).group(1)
    commands = [ln.split("#")[0].strip() for ln in first_block.splitlines() if ln.strip()]
    assert commands == ["make demo", "make test"]
    ci = (README.parent / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)


@pytest.mark.parametrize("module", sorted(DOCUMENTED))
def test_documented_names_exist(module):
    text = README.read_text(encoding="utf-8")
    mod = importlib.import_module(module)
    for name in DOCUMENTED[module].split():
        assert f"{name}" in text, f"{name} is listed here but not in the README"
        assert hasattr(mod, name), f"README documents {module}.{name}, which does not exist"
