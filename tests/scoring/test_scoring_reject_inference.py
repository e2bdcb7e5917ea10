"""Reject inference on a simulation where the declined applicants' outcomes are known."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import beta
from sklearn.base import clone

from riskkit.datasets import make_microloan_book
from riskkit.scoring import Scorecard, WoETransformer, application_sample
from riskkit.scoring.metrics import auc
from riskkit.scoring.reject_inference import (
    augment_fuzzy,
    event_rate_increase_from_sample,
    event_rate_increase_interval,
    infer_rejects,
    parcel,
    through_the_door,
)
from riskkit.scoring.sample import OUTCOME_COLUMNS


def test_fuzzy_and_parcel_by_hand():
    # odds 0.1/0.9 x 2 = 0.2222 -> PD 0.1818; 0.5 -> odds 2 -> 0.6667
    assert augment_fuzzy([0.1, 0.5], 2.0).round(4).tolist() == [0.1818, 0.6667]
    assert augment_fuzzy([0.3], 1.0)[0] == pytest.approx(0.3)
    # two bands of the approved (split at the median score): bad rates 0.5 and 0.0
    y = parcel([1, 2, 3, 4], [1, 0, 0, 0], [1.5, 3.5] * 5000, n_bands=2, seed=0)
    assert y[0::2].mean() == pytest.approx(0.5, abs=0.02) and y[1::2].sum() == 0
    assert event_rate_increase_from_sample([0.1, 0.1], [1, 0]) == pytest.approx(9.0)


@pytest.fixture(scope="module")
def simulation():
    """The demo book lends to everyone, so every outcome is known; an earlier lender's
    decisions (70% approved, by the features it saw and the officer's judgement) decide who
    is hidden. 10% of the declined were lent to anyway (a swap-in sample) to estimate how much
    worse the declined are than the approved-only model thinks."""
    s = application_sample(make_microloan_book(n_loans=20_000, seed=0))
    feats = [c for c in s.columns if c not in {"disbursement_date", *OUTCOME_COLUMNS}]
    approved = through_the_door(s, approval_rate=0.7, judgement=1.0, seed=0)
    A, D = s[approved], s[~approved]
    swap = np.random.default_rng(1).random(len(D)) < 0.1
    sc = Scorecard(binning=WoETransformer(max_n_bins=6))
    base = clone(sc).fit(A[feats], A["bad"])
    k = event_rate_increase_from_sample(base.predict_proba(D[swap][feats])[:, 1], D[swap]["bad"])
    oracle = clone(sc).fit(s[feats], s["bad"])  # what knowing every outcome would give
    return s, feats, A, D[~swap], sc, base, oracle, k


def test_swap_in_factor_reproduces_the_sample_bad_rate():
    # the factor applied PD by PD gives back the swap-in sample's bad rate (the odds ratio of
    # the means would not: 1/(0.3/0.7) = 2.33 on the hand example infers 43%, not 50%)
    pds, bad = np.array([0.1, 0.5]), np.array([1, 0])
    k = event_rate_increase_from_sample(pds, bad)
    assert k == pytest.approx(3.0) and augment_fuzzy(pds, k).mean() == pytest.approx(0.5)
    # interval: the factor at the Clopper-Pearson ends of the rate, around the estimate
    rng = np.random.default_rng(0)
    pds = rng.uniform(0.02, 0.3, 240)
    bad = (rng.random(240) < 0.39).astype(int)
    k = event_rate_increase_from_sample(pds, bad)
    lo, hi = event_rate_increase_interval(pds, bad)
    assert lo < k < hi
    # 79 bad of 240: Clopper-Pearson ends are Beta quantiles, (0.2701, 0.3925)
    assert bad.sum() == 79
    assert augment_fuzzy(pds, k).mean() == pytest.approx(79 / 240, abs=1e-9)
    assert augment_fuzzy(pds, lo).mean() == pytest.approx(beta.ppf(0.025, 79, 162), abs=1e-9)
    assert augment_fuzzy(pds, hi).mean() == pytest.approx(beta.ppf(0.975, 80, 161), abs=1e-9)


def _bias(model, D, feats):
    return model.predict_proba(D[feats])[:, 1].mean() - D["bad"].mean()


@pytest.mark.parametrize("method", ["fuzzy", "parceling"])
def test_reject_inference_removes_the_selection_bias(simulation, method):
    s, feats, A, D, sc, base, oracle, k = simulation
    assert D["bad"].mean() > 3 * A["bad"].mean()  # the declined really are worse
    assert _bias(base, D, feats) < -0.2  # approved-only: their PD 28 points too low
    assert k > 3
    r = infer_rejects(sc, A[feats], A["bad"], D[feats], method=method, event_rate_increase=k)
    # close to the model fitted on every outcome (the declined's judgement part is in no
    # feature, so no model recovers it). The odds factor comes from a swap-in sample of ~240
    # loans: over sample books 0-2 x swap-in draws the distance was 0.0-2.8 points and the
    # AUC gain 0.019-0.068, against a 14-18 point bias and no gain without inference
    assert abs(_bias(r.scorecard, D, feats) - _bias(oracle, D, feats)) < 0.035
    ttd = r.scorecard.predict_proba(s[feats])[:, 1].mean()
    assert ttd == pytest.approx(s["bad"].mean(), abs=0.02)  # base: 8.9% vs 17.4%
    auc_base = auc(s["bad"], base.predict_proba(s[feats])[:, 1])
    assert auc(s["bad"], r.scorecard.predict_proba(s[feats])[:, 1]) > auc_base + 0.01
    # no adjustment, no information: augmentation at factor 1 reproduces the approved model
    same = infer_rejects(sc, A[feats], A["bad"], D[feats], method=method, event_rate_increase=1)
    assert _bias(same.scorecard, D, feats) == pytest.approx(_bias(base, D, feats), abs=0.01)
