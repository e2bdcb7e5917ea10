"""The one result convention: ``table`` is the main table, ``to_frame()`` returns it, a repr
and an HTML repr; deprecated names warn; report metrics are typed and read as mappings."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from riskkit.classification import Classifier
from riskkit.classification.history import ClassificationChanges, compare
from riskkit.inspection import inspection_plan
from riskkit.migration import TransitionMatrix, project
from riskkit.provisions import provisions
from riskkit.reports.post_loan import ReviewMetrics
from riskkit.results import ReportMetrics
from tests.classification.helpers import AS_OF, loan_rows, make_book, on_time


@pytest.fixture(scope="module")
def result():
    # m0 on time (normal, 3,000 left), m3 three missed (special mention, 6,000), P repaid in
    # full in March (paid off: normal with balance 0)
    payments = on_time("m0", 9) + on_time("m3", 6) + [("P", "2025-03-01", 12_000.0)]
    book = make_book(loan_rows(["m0", "m3", "P"]), payments)
    return Classifier().classify(book, AS_OF), book


def test_summary_counts_the_outstanding_loans_as_the_review_does(result):
    res, _ = result
    s = res.summary()
    assert len(res) == 3 and s.attrs["paid_off"] == 1
    # hand count: m0 normal (3,000), m3 special mention (6,000); P is not "normal outstanding"
    assert s.loc["normal", "loans"] == 1 and s.loc["normal", "balance"] == 3000.0
    assert s.loc["special_mention", "loans"] == 1 and s.loc["special_mention", "balance"] == 6000.0
    assert s.loc["total", "loans"] == 2
    assert "paid_off=1" in repr(res) and "1 paid off" in res._repr_html_()


def test_results_share_one_shape(result):
    res, book = result
    objects = [
        res,
        provisions(res, by="branch"),
        inspection_plan(book, "2025-11-01", "2025-11-30", result=res),
        ClassificationChanges(compare(res.table, res.table), AS_OF, AS_OF),
        project(_tm(), {"normal": 100.0}, horizon=2),
    ]
    for obj in objects:
        assert dataclasses.is_dataclass(obj), type(obj)
        assert isinstance(obj.table, pd.DataFrame)
        frame = obj.to_frame()
        assert isinstance(frame, pd.DataFrame) and frame is not obj.table
        assert repr(obj).startswith(type(obj).__name__)
        assert obj._repr_html_().startswith("<")
    assert objects[1].table.loc["城关", "loans"] == 3


@pytest.mark.parametrize("make", ["classification", "projection"])
def test_old_frame_name_warns_and_still_works(result, make):
    res, _ = result
    obj = res if make == "classification" else project(_tm(), {"normal": 1.0}, horizon=1)
    with pytest.warns(DeprecationWarning, match=r"\.frame is deprecated, use .*\.table"):
        old = obj.frame
    assert old is obj.table


def test_report_metrics_are_typed_and_write_the_same_json():
    names = [f.name for f in dataclasses.fields(ReviewMetrics)]
    values = {n: i for i, n in enumerate(names)}
    m = ReviewMetrics(**values)
    assert isinstance(m, ReportMetrics)
    assert m.npl_ratio == values["npl_ratio"] == m["npl_ratio"]
    assert list(m) == names and dict(m) == values
    assert json.dumps(dict(m)) == json.dumps(values)  # key order kept for metrics.json
    with pytest.raises(KeyError):
        m["no_such_figure"]


def _tm():
    return TransitionMatrix(np.eye(8))  # the five categories, repaid, recovered, written off
