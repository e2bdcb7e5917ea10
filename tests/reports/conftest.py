"""Fixtures for the report-run tests: the Jupyter kernel and tiny notebooks."""

from __future__ import annotations

import nbformat
import pytest

from riskkit.reports import REPORTS, ensure_kernel
from riskkit.reports.params import COMMON, Param, ReportSpec, register
from riskkit.store import Store

from .books import hand_review_book


@pytest.fixture(scope="session")
def riskkit_kernel():
    """The ``riskkit`` kernel the runner always uses (installed into the venv if missing)."""
    ensure_kernel("riskkit")
    return "riskkit"


TINY_BODY = """\
import json, pathlib, time
time.sleep(sleep)
print("value is", value)
if fail:
    raise RuntimeError("forced failure in cell")
print(extra.replace("#", ""))  # the notebook builds what it prints (parameters hold no PII)
if write_metrics:
    pathlib.Path(output_dir, "metrics.json").write_text(json.dumps({"metrics": {"value": value}}))
"""


def write_tiny_notebook(path, body: str = TINY_BODY):
    """A two-cell notebook: a ``parameters`` cell, then ``body``."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        "as_of = None\noutput_dir = None\ndb_url = None\nvalue = 1\nfail = False\n"
        "sleep = 0\nextra = ''\nwrite_metrics = True\nbranch = None\nlanguage = 'en'"
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Tiny report"),
        params,
        nbformat.v4.new_code_cell(body),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(path))
    return path


#: The tiny test report, registered only while a test uses it (only registered reports run).
TINY = ReportSpec(
    "tiny",
    "Tiny report",
    COMMON
    + (
        Param("value", "int", 1),
        Param("fail", "bool", False),
        Param("sleep", "float", 0.0),
        Param("extra", "str", ""),
        Param("write_metrics", "bool", True),
        Param("branch", "str", None, nullable=True),
    ),
    scope=("branch",),
)


@pytest.fixture
def tiny_report():
    """Register the ``tiny`` report for one test."""
    register(TINY)
    yield TINY
    REPORTS.pop("tiny", None)


@pytest.fixture
def tiny_notebooks(tmp_path, tiny_report):
    d = tmp_path / "notebooks"
    d.mkdir()
    write_tiny_notebook(d / "tiny.ipynb")
    return d


@pytest.fixture(scope="session")
def hand_store(tmp_path_factory):
    d = tmp_path_factory.mktemp("plr")
    url = f"sqlite:///{d / 'book.db'}"
    book, exp = hand_review_book()
    Store(url).save_book(book)
    return url, book, exp, d


@pytest.fixture(scope="session")
def repaid_store(tmp_path_factory):
    """The hand book plus 6 loans repaid in full months before the as-of date."""
    d = tmp_path_factory.mktemp("plr_repaid")
    url = f"sqlite:///{d / 'book.db'}"
    book, exp = hand_review_book(n_repaid=6)
    Store(url).save_book(book)
    return url, book, exp, d
