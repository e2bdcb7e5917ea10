"""Fuzz: `Scorecard.from_json` on damaged model files raises only ValidationError, or gives a
scorecard whose PDs and scores are finite and sane."""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from riskkit.errors import ValidationError
from riskkit.scoring import Scorecard

from .conftest import fuzz_settings


@functools.cache
def _fitted() -> tuple[str, pd.DataFrame]:
    rng = np.random.default_rng(0)
    n = 1500
    X = pd.DataFrame(
        {
            "income": rng.normal(size=n),
            "segment": pd.array(rng.choice(["trader", "farmer", "consumer"], n), dtype="str"),
        }
    )
    X.loc[X.index[:20], "income"] = -999.0
    y = (rng.random(n) < 1 / (1 + np.exp(2 + X["income"].clip(-3, 3)))).astype(int)
    from riskkit.scoring import WoETransformer

    sc = Scorecard(binning=WoETransformer(special_values=[-999])).fit(X, y)
    return sc.to_json(), X.head(200)


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**64), 2**64),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=10),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(doc, prefix=()):
    """Every path to a value in a JSON document."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*prefix, i))


def _set(doc, path, value):
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


def _delete(doc, path):
    for key in path[:-1]:
        doc = doc[key]
    del doc[path[-1]]


@fuzz_settings(200)
@given(data=st.data())
def test_damaged_model_files_raise_only_validation_errors(data):
    text, X = _fitted()
    doc = json.loads(text)
    paths = [p for p in _paths(doc) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        path = data.draw(st.sampled_from(paths))
        action = data.draw(st.sampled_from(["set", "set", "delete"]))
        if action == "set":
            _set(doc, path, data.draw(json_values))
        else:
            _delete(doc, path)
    damaged = json.dumps(doc)
    if data.draw(st.booleans()):  # a file cut short
        damaged = damaged[: data.draw(st.integers(0, len(damaged)))]
    try:
        sc = Scorecard.from_json(damaged)
    except ValidationError:
        return
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unseen categories may warn, as documented
        p = sc.predict_proba(X)[:, 1]
        scores = sc.credit_score(X)
    assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()
    assert (np.abs(np.asarray(scores, dtype=float)) < 1e12).all()  # never INT64_MIN garbage


@fuzz_settings(100)
@given(
    value=st.one_of(
        st.text(max_size=40),
        st.binary(max_size=10).map(lambda b: b.decode("latin-1")),
        st.sampled_from(["", " ", "[1,2,3]", "{", "null", "1e999", "NaN", "\x00", "{}", "[]"]),
    )
)
def test_text_that_is_not_a_model_says_what_was_expected(tmp_path, value):
    try:
        Scorecard.from_json(value)
    except ValidationError as e:
        assert "scorecard" in str(e)
    except FileNotFoundError as e:  # text that can only be a path, naming no file
        assert "no scorecard file at" in str(e)
    else:  # pragma: no cover - no such text is a model
        raise AssertionError(f"{value!r} loaded as a scorecard")


def test_the_fuzzed_model_itself_loads_and_scores_exactly():
    text, X = _fitted()
    again = Scorecard.from_json(text)
    assert math.isclose(
        float(again.predict_proba(X)[:, 1].sum()),
        float(Scorecard.from_json(again.to_json()).predict_proba(X)[:, 1].sum()),
        rel_tol=0,
        abs_tol=0,
    )
