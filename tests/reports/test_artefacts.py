"""A report's artefacts (scorecard JSON, SQL, metrics) are written atomically."""

from __future__ import annotations

import json
import pathlib

import pandas as pd
import pytest

from riskkit.reports import context
from riskkit.reports.context import Report


def _report(tmp_path):
    params = {"as_of": pd.Timestamp("2026-10-31"), "output_dir": str(tmp_path)}
    return Report("score_calibration", params, display=False)


def test_failed_text_write_keeps_previous_artefact(tmp_path, monkeypatch):
    rpt = _report(tmp_path)
    rpt.save_text("scorecard.json", '{"version": 1}')
    real_write = pathlib.Path.write_text

    def half_then_fail(self, data, *args, **kwargs):
        real_write(self, data[: len(data) // 2], *args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(pathlib.Path, "write_text", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        rpt.save_text("scorecard.json", '{"version": 2}')
    monkeypatch.undo()
    assert json.loads((tmp_path / "scorecard.json").read_text()) == {"version": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scorecard.json"]  # no temp left


def test_failed_json_write_keeps_previous_metrics(tmp_path, monkeypatch):
    rpt = _report(tmp_path)
    rpt.record(npl_ratio=0.0432)
    rpt.finish()
    before = (tmp_path / "metrics.json").read_text()

    def half_then_fail(obj, f, **kwargs):
        f.write('{"report": "score_cal')
        raise OSError("disk full")

    monkeypatch.setattr(context.json, "dump", half_then_fail)
    rpt.record(npl_ratio=0.05)
    with pytest.raises(OSError, match="disk full"):
        rpt.finish()
    monkeypatch.undo()
    assert (tmp_path / "metrics.json").read_text() == before
    assert json.loads(before)["metrics"]["npl_ratio"] == 0.0432
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]
