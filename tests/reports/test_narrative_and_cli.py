"""Narrative completeness (English and Chinese say the same things) and CLI plumbing."""

from __future__ import annotations

import string

import pytest

from riskkit import cli
from riskkit.reports import REPORTS
from riskkit.reports.narrative import TEXT, text
from riskkit.reports.runner import available_reports, batch_reports


def _fields(s):
    return {f for _, f, _, _ in string.Formatter().parse(s) if f}


@pytest.mark.parametrize("key", sorted(TEXT))
def test_both_languages_use_the_same_fields(key):
    assert set(TEXT[key]) == {"en", "zh"}
    assert _fields(TEXT[key]["en"]) == _fields(TEXT[key]["zh"]), key


def test_every_report_has_a_title_in_both_languages():
    for name in REPORTS:
        assert "2026" in text(f"{name}.title", "zh", as_of="2026-10-31")
        assert "2026" in text(f"{name}.title", "en", as_of="2026-10-31")
    with pytest.raises(ValueError, match="'en' or 'zh'"):
        text("npl_ratio", "fr")


def test_bundled_notebooks_are_registered_and_batched():
    assert available_reports() == [
        "score_calibration",
        "model_validation",
        "post_loan_review",
        "portfolio_migration",
        "provisioning",
        "model_monitoring",
        "committee_pack",
    ]
    assert set(batch_reports()) <= set(available_reports())
    assert "committee_pack" not in batch_reports()  # per meeting date, not month-end


def test_notebooks_have_one_parameters_cell_then_validation():
    import nbformat

    from riskkit.reports.runner import default_notebooks_dir

    for name in available_reports():
        nb = nbformat.read(default_notebooks_dir() / f"{name}.ipynb", as_version=4)
        tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, name
        nxt = nb.cells[tagged[0] + 1].source
        assert f'start_report(\n    "{name}"' in nxt, name
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), name
        assert nb.metadata["kernelspec"]["name"] == "riskkit"
        # every parameter of the spec is set in the parameters cell and passed on
        for p in REPORTS[name].params:
            assert f"\n{p.name} = " in "\n" + nb.cells[tagged[0]].source, (name, p.name)
            assert f"{p.name}={p.name}" in nxt, (name, p.name)


def test_app_subcommand_dispatches_to_widgets(monkeypatch):
    import types

    seen = {}
    fake = types.ModuleType("riskkit.widgets.app")
    fake.main = lambda argv: seen.setdefault("argv", argv) and 0
    monkeypatch.setitem(__import__("sys").modules, "riskkit.widgets.app", fake)
    assert cli.main(["app", "--port", "0"]) == 0
    assert seen["argv"] == ["--port", "0"]


def test_bad_cli_assignment_is_usage_error(capsys):
    assert (
        cli.main(["report", "run", "post_loan_review", "--as-of", "2026-10-31", "-p", "branch"])
        == 2
    )
    assert "-p expects key=value" in capsys.readouterr().err


def test_run_all_rejects_a_parameter_no_report_has(tmp_path, capsys):
    code = cli.main(
        [
            "report",
            "run-all",
            "--as-of",
            "2026-10-31",
            "-p",
            "langauge=zh",
            "--reports-dir",
            str(tmp_path),
        ]
    )
    assert code == 2
    assert "['langauge'] belong to none of the reports" in capsys.readouterr().err
    assert not (tmp_path / "runs.json").exists()  # nothing ran
