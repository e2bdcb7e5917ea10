"""A real scorecard fitted on a small synthetic application sample (no fake models)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.widgets.helpers import FEATURES, synthetic_applications


@pytest.fixture(scope="session")
def applications() -> pd.DataFrame:
    return synthetic_applications()


@pytest.fixture(scope="session")
def scorecard(applications):
    from riskkit.scoring import Scorecard

    # without the model rules, so every synthetic feature stays in (guarantee_type has no
    # mortgage in this sample: the unseen-level note is tested on it)
    return Scorecard(rules=None).fit(applications[FEATURES], applications["bad"])
