"""Fuzz: report names and parameters (no kernel runs here) and the masking every artefact goes
through: only documented errors, values never changed silently, addresses never paths,
personal data never left readable."""

from __future__ import annotations

import re

from hypothesis import assume, given
from hypothesis import strategies as st

from riskkit.errors import ValidationError
from riskkit.privacy import mask_text, personal_data_kinds
from riskkit.reports import REPORTS
from riskkit.reports.params import registered_report, validate_params
from riskkit.reports.paths import RunPaths, address_folder, inside

from .conftest import fuzz_settings

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=16),
    st.sampled_from(["0042", "2026-10-31", "20261031", "2026-02-30", "none", "", "zh", "1e3"]),
    st.lists(st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


@fuzz_settings(300)
@given(
    name=st.sampled_from(sorted(REPORTS)),
    raw=st.dictionaries(
        st.one_of(
            st.sampled_from(
                [
                    "branch",
                    "officer",
                    "language",
                    "appendix_rows",
                    "as_of",
                    "seed",
                    "test_share",
                    "scenarios",
                    "freq",
                    "policy_file",
                ]
            ),
            st.text(max_size=8),
        ),
        values,
        max_size=5,
    ),
)
def test_validate_params_returns_typed_values_or_a_validation_error(name, raw):
    raw = {"as_of": "2026-10-31", **raw}
    try:
        typed = validate_params(name, raw)
    except ValidationError:
        return
    spec = REPORTS[name]
    for k, v in raw.items():
        p = spec.param(k)
        if p.kind == "str" and isinstance(v, str) and v.strip().lower() not in ("", "none", "null"):
            assert typed[k] == v  # text stays exactly as given ("0042" stays "0042")
        if p.kind == "int" and typed[k] is not None:
            assert isinstance(typed[k], int) and p.min <= typed[k] <= (p.max or typed[k])
    for k, v in typed.items():  # nothing that reads as personal data gets through
        assert not personal_data_kinds(str(v)), (k, v)


@fuzz_settings(300)
@given(name=st.one_of(st.text(max_size=20), st.sampled_from(["../x", "/etc/passwd", "a/b", "."])))
def test_only_registered_names_are_reports(name):
    try:
        spec = registered_report(name)
    except ValidationError as e:
        assert "is not a registered report" in str(e)
        assert name not in REPORTS or not re.fullmatch(r"[a-z][a-z0-9_]*", name)
        return
    assert spec.name == name and name in REPORTS


@fuzz_settings(300)
@given(
    scope=st.dictionaries(
        st.sampled_from(["branch", "officer"]), st.text(max_size=24), min_size=1, max_size=2
    )
)
def test_a_scope_is_one_folder_inside_the_as_of_folder(tmp_path, scope):
    folder = address_folder("post_loan_review", scope)
    assert "/" not in folder and "\x00" not in folder and folder not in (".", "..")
    assume(len(folder.encode()) < 200)
    paths = RunPaths.build(tmp_path, "2026-10-31", folder)
    for p in (paths.target, paths.failed, paths.lock):
        inside(tmp_path, p)
    assert paths.target.parent == (tmp_path / "2026-10-31").resolve()
    # different scopes never share an address
    other = {**scope, "branch": scope.get("branch", "") + "x"}
    assert address_folder("post_loan_review", other) != folder


digits = "0123456789"
FULL = str.maketrans(digits, "０１２３４５６７８９")


@st.composite
def written_numbers(draw):
    """A mobile or ID number as people write them, and its digits."""
    kind = draw(st.sampled_from(["phone", "id18", "id15"]))
    if kind == "phone":
        d = "1" + draw(st.sampled_from("3456789")) + draw(st.text(digits, min_size=9, max_size=9))
        sep = draw(st.sampled_from(["", " ", "-", "."]))
        text = sep.join([d[:3], d[3:7], d[7:]])
        if draw(st.booleans()):
            text = draw(st.sampled_from(["+86 ", "+86", "(+86) ", "0086-", "86 "])) + text
    elif kind == "id18":
        d = draw(st.text(digits, min_size=17, max_size=17)) + draw(st.sampled_from("0123456789X"))
        sep = draw(st.sampled_from(["", " ", "-"]))
        text = sep.join([d[:6], d[6:14], d[14:]])
    else:
        yy, mm, dd = draw(st.integers(0, 99)), draw(st.integers(1, 12)), draw(st.integers(1, 28))
        d = (
            draw(st.sampled_from("12345678"))
            + draw(st.text(digits, min_size=5, max_size=5))
            + f"{yy:02d}{mm:02d}{dd:02d}"
            + draw(st.text(digits, min_size=3, max_size=3))
        )
        text = d
    if draw(st.booleans()):
        text = text.translate(FULL)
    return text, d


around = (
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Nd")), max_size=8)
    .filter(lambda s: not s.endswith((".", "+", "(")) and not s.startswith("."))
    .filter(lambda s: not re.search(r"[Xx]$", s))
)


@fuzz_settings(400)
@given(number=written_numbers(), before=around, after=around)
def test_masking_leaves_no_readable_id_or_phone(number, before, after):
    written, d = number
    assume(not re.match(r"^[Xx]", after))
    text = f"{before}{written}{after}"
    masked = mask_text(text)
    flat = re.sub(r"[^\dXx]", "", masked.translate(str.maketrans("０１２３４５６７８９", digits)))
    assert d not in flat  # the number is no longer readable
    assert "*" * (len(d) - 7) in masked  # first 3 and last 4 kept
    assert mask_text(masked) == masked  # masking is idempotent
    assert personal_data_kinds(masked) == []
