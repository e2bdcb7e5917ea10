import numpy as np
import pytest

from riskkit.categories import Category, parse_categories
from riskkit.policy import load_policy


def test_order_labels_and_npl():
    assert list(Category) == sorted(Category)
    assert Category.NORMAL < Category.SPECIAL_MENTION < Category.SUBSTANDARD
    assert Category.SUBSTANDARD < Category.DOUBTFUL < Category.LOSS
    assert [c.zh for c in Category] == ["正常", "关注", "次级", "可疑", "损失"]
    assert [c.is_npl for c in Category] == [False, False, True, True, True]
    assert Category.SPECIAL_MENTION.code == "special_mention"
    assert Category.DOUBTFUL.label("zh") == "可疑"


@pytest.mark.parametrize(
    "value,expected",
    [
        ("关注", Category.SPECIAL_MENTION),
        ("Special mention", Category.SPECIAL_MENTION),
        ("loss", Category.LOSS),
        ("损失", Category.LOSS),
        (2, Category.SUBSTANDARD),
        (" doubtful ", Category.DOUBTFUL),
    ],
)
def test_parse_either_label(value, expected):
    assert Category.parse(value) is expected


def test_parse_unknown_names_accepted_values():
    with pytest.raises(ValueError, match=r"unknown loan category 'cat2'.*special_mention.*关注"):
        Category.parse("cat2")
    with pytest.raises(ValueError):
        Category.parse(5)
    with pytest.raises(ValueError):
        Category.parse(True)


def test_parse_categories_vectorised_names_loan_ids():
    codes = parse_categories(["正常", "loss", "substandard"], column="cat", ids=["A", "B", "C"])
    np.testing.assert_array_equal(codes, [0, 4, 2])
    with pytest.raises(ValueError, match=r"column 'cat'.*\['bad'\].*\['B'\]"):
        parse_categories(["正常", "bad"], column="cat", ids=["A", "B"])


def test_policy_defaults_and_override(tmp_path):
    p = load_policy()
    assert p["classification"]["missed_periods"] == {
        "special_mention": 3,
        "substandard": 4,
        "doubtful": 7,
    }
    assert p["provisions"]["specific_ratio"]["loss"] == 1.0
    sc = p["scorecard"]
    assert {k: sc[k] for k in ("base_score", "base_odds", "pdo")} == {
        "base_score": 600,
        "base_odds": 50,
        "pdo": 20,
    }
    f = tmp_path / "ours.yaml"
    f.write_text("provisions:\n  general_ratio: 0.015\ninspection:\n  normal_sample_share: 0.2\n")
    q = load_policy(f)
    assert q["provisions"]["general_ratio"] == 0.015
    assert q["provisions"]["specific_ratio"]["doubtful"] == 0.5  # untouched default kept
    assert q.source == str(f)


def test_policy_rejects_typos_and_bad_values():
    with pytest.raises(KeyError, match="provisions.genral_ratio"):
        load_policy({"provisions": {"genral_ratio": 0.02}})
    with pytest.raises(ValueError, match="must increase"):
        load_policy({"classification": {"missed_periods": {"substandard": 2}}})
    with pytest.raises(TypeError, match="must be a number"):
        load_policy({"provisions": {"general_ratio": "1%"}})
    with pytest.raises(ValueError, match="outside the allowed band"):
        load_policy({"provisions": {"float": {"substandard": 0.5}}})


def test_signed_keys_accept_negative_values():
    p = load_policy()
    assert load_policy(dict(p))["migration"]["stress_z"] == p["migration"]["stress_z"] < 0
    assert (
        load_policy({"provisions": {"float": {"doubtful": -0.1}}})["provisions"]["float"][
            "doubtful"
        ]
        == -0.1
    )
    with pytest.raises(ValueError, match=">= 0"):
        load_policy({"provisions": {"general_ratio": -0.01}})
