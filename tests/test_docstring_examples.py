"""Every example in riskkit's docstrings runs and prints what it says (doctest)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import matplotlib
import pytest

import riskkit

matplotlib.use("Agg")

MODULES = ["riskkit"] + sorted(
    m.name for m in pkgutil.walk_packages(riskkit.__path__, prefix="riskkit.")
)


def test_modules_found():
    assert len(MODULES) > 40 and "riskkit.book.schedule" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
