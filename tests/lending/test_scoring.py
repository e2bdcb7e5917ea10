"""Applications are scored with the features the champion was developed on: for loans already
in the book, the application features equal application_sample's; the PD is held for the
amount; the champion comes from the registry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskkit.datasets import make_microloan_book
from riskkit.errors import ValidationError
from riskkit.lending.scoring import application_features, champion_scorecard, score_applications
from riskkit.scoring import Scorecard, application_sample
from riskkit.store import Store


@pytest.fixture(scope="module")
def book():
    return make_microloan_book(n_loans=3_000, months=30, seed=6)


def _as_applications(book, loan_ids):
    L = book.loans.set_index("loan_id").loc[loan_ids].reset_index()
    g = book.guarantors.groupby("loan_id").size()
    col = book.collateral.sort_values("valuation_date")
    d0 = col["loan_id"].map(book.loans.set_index("loan_id")["disbursement_date"])
    first = col[col["valuation_date"] <= d0].drop_duplicates("collateral_id", keep="last")
    value = first.groupby("loan_id")["appraised_value"].sum()
    return L.rename(
        columns={"loan_id": "application_id", "disbursement_date": "application_date"}
    ).assign(
        n_guarantors=g.reindex(L["loan_id"], fill_value=0).to_numpy(),
        collateral_value=value.reindex(L["loan_id"]).to_numpy(),
    )


def test_features_of_loans_as_applications_equal_the_development_sample(book):
    sample = application_sample(book)
    loans = book.loans.set_index("loan_id").loc[sample.index]
    # same-day loans of one borrower are ordered by id in the sample; keep the unambiguous ones
    dup = loans.duplicated(["borrower_id", "disbursement_date"], keep=False)
    ids = sample.index[~dup.to_numpy()][:800]
    apps = _as_applications(book, ids)
    got = application_features(apps, book.borrowers, book)
    want = sample.loc[ids, got.columns]
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False,
        check_exact=False, rtol=1e-9,
    )  # fmt: skip


def test_scores_hold_the_pd_for_the_amount_and_use_the_champion(book):
    sample = application_sample(book)
    feats = [c for c in sample.columns if c not in ("bad", "disbursement_date", "outcome",
                                                     "window_end", "branch")]  # fmt: skip
    sc = Scorecard().fit(sample[feats], sample["bad"])
    store = Store("sqlite://")
    with pytest.raises(ValidationError, match="no approved champion scorecard"):
        champion_scorecard(store)
    from riskkit.scoring import ModelRegistry

    reg = ModelRegistry(store)
    reg.register(sc, "app_sc", use="application", development_window=("2023-01-01", "2025-10-31"),
                 author="analyst")  # fmt: skip
    reg.approve("app_sc", 1, approver="validator", reason="validated")
    model, label = champion_scorecard(store)
    assert label == "app_sc v1"
    apps = _as_applications(book, sample.index[:300])
    s = score_applications(model, apps, book.borrowers, book, label=label)
    t = s.table
    assert s.model == "app_sc v1" and len(t) == 300
    assert (t["pd"] >= t["pd_model"] - 1e-15).all()
    X = application_features(apps, book.borrowers, book)[list(model.feature_names_in_)]
    np.testing.assert_allclose(t["pd_model"], model.predict_proba(X)[:, 1])
    assert t["grade"].str.match(r"^R\d+$").all()
    assert {"reason_1", "points_lost_1"} <= set(t.columns)
