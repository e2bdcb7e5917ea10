"""The README opens with the two commands and documents names that exist."""

import importlib
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

DOCUMENTED = {
    "riskkit.datasets": "load_german_credit make_microloan_book make_inspection_ledger "
    "make_write_off_register "
    "replicate_book relabel_book concat_books make_partitioned_book",
    "riskkit.engine": "Engine",
    "riskkit.partitioned": "PartitionedBook",
    "riskkit.reports.portfolio_summary": "portfolio_summary",
    "riskkit.io": "read_book write_book read_table",
    "riskkit.scoring": "Scorecard WoETransformer MasterScale psi_by_period OptimalBinning "
    "PDCalibrator application_sample feature_columns auc gini ks gains_table psi csi csi_by_period hosmer_lemeshow grade_tests "
    "brier calibration_curve scorecard_to_sql points_to_excel",
    "riskkit.classification": "Classifier ClassificationHistory record_overrides",
    "riskkit.provisions": "provisions ECLModel ecl_movement provisioning_adequacy assign_stages "
    "prepayment_rate",
    "riskkit.workout": "WriteOffRegister write_off_eligibility realised_lgd default_events "
    "workout_cash_flows",
    "riskkit.migration.scenarios": "Scenario monthly_shift scenario_path year_text",
    "riskkit.inspection": "signal_catalogue detect_signals watch_list inspection_plan "
    "record_inspections load_ledger",
    "riskkit.migration": "build_panel panel_from_history CohortEstimator "
    "AalenJohansenEstimator GeneratorEstimator TransitionMatrix project simulate_book "
    "bsf_stress down_multiplier_stress compare bucket_panel roll_rate_matrix "
    "roll_forward_rates vintage_curves bootstrap_ci",
    "riskkit.migration.plots": "plot_transition_matrix plot_category_shares plot_fan_chart "
    "plot_stress_comparison",
    "riskkit.scoring.plots": "plot_bins plot_score_distribution plot_roc_ks plot_calibration "
    "plot_calibration_curve plot_psi_auc",
    "riskkit.classification.plots": "plot_by_category",
    "riskkit.formatting": "money pct number table_html",
    "riskkit.reports": "run_report run_all",
    "riskkit.widgets": "applicant_dashboard cutoff_dashboard portfolio_dashboard committee_screen",
    "riskkit.lending": "assess_application CreditProcess CreditCommittee check_admission "
    "approval_route committee_outcome group_exposure SeparationOfDutiesError QuorumError",
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


def python_blocks(text: str) -> list[str]:
    """The README's ```python blocks, in order."""
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


@pytest.mark.slow
def test_readme_python_snippets_run_in_order(tmp_path, monkeypatch):
    """Every Python snippet of the README runs, in order, in one namespace (as a reader would
    paste them into one notebook), in an empty folder; then the numbers it shows are checked
    against riskkit computing them directly."""
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RISKKIT_DB_URL", raising=False)
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 5
    ns: dict = {}
    for i, code in enumerate(blocks):
        exec(compile(code, f"README.md python block {i + 1}", "exec"), ns)  # noqa: S102

    from riskkit.classification import Classifier
    from riskkit.scoring import auc

    book, res, changes = ns["book"], ns["res"], ns["changes"]
    direct = Classifier().classify(book.disbursed_by("2026-10-31"), "2026-10-31")
    assert res.npl_ratio == direct.npl_ratio
    assert str(changes.previous_as_of.date()) == "2026-09-30"
    assert ns["tm"].matrix.shape == (8, 8) and len(ns["path"].table) == 13
    # the README's write-offs went through the register; the ECL adds up by stage
    written = ns["res_wo"].table["written_off"]
    assert written.sum() == len(ns["register"].load()) > 0
    assert ns["ecl"].table.loc["total", "ecl"] == pytest.approx(ns["ecl"].loans["ecl"].sum())
    assert 0.5 < auc(ns["y"], ns["pd_"]) <= 1.0
    assert ns["policy"]["provisions"]["general_ratio"] == 0.015
    assert (tmp_path / "scorecard.json").exists()
    # the Dask engine on the partitioned copy of the book: the pandas engine's figures
    assert ns["summary"].metrics["npl_ratio"] == pytest.approx(res.npl_ratio, rel=1e-12)
    assert ns["review"].metrics["n_loans"] == len(direct)


@pytest.mark.slow
def test_getting_started_page_runs(tmp_path, monkeypatch):
    """The docs site's getting-started snippets run in order, as the README's do."""
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    page = README.parent / "docs" / "getting-started.md"
    ns: dict = {}
    for i, code in enumerate(python_blocks(page.read_text(encoding="utf-8"))):
        exec(compile(code, f"getting-started.md python block {i + 1}", "exec"), ns)  # noqa: S102
    assert ns["res"].summary().loc["total", "loans"] == int((~ns["res"].table["paid_off"]).sum())


@pytest.mark.slow
def test_the_readme_report_example_runs_on_the_bundled_sample_book(tmp_path, monkeypatch):
    """The `riskkit report run` line of the README, as written, on the sample book."""
    import shlex

    from riskkit import cli
    from riskkit.reports import ensure_kernel

    text = README.read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln.startswith("riskkit report run ")]
    assert lines, "the README shows no `riskkit report run` example"
    url = f"sqlite:///{tmp_path / 'riskkit.db'}"
    ensure_kernel("riskkit")
    cli.ensure_demo_book(url, "2026-10-31", n_loans=1200)
    monkeypatch.setenv("RISKKIT_DB_URL", url)
    monkeypatch.chdir(tmp_path)
    for line in lines:
        argv = shlex.split(line)[1:]
        assert cli.main([*argv, "--no-progress"]) == 0, line
    scoped = tmp_path / "reports/2026-10-31/post_loan_review@branch=城关支行"
    assert "贷后检查报告" in (scoped / "post_loan_review.html").read_text(encoding="utf-8")
