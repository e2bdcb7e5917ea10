"""The five loan categories (贷款五级分类), ordered from best to worst.

Examples
--------
>>> from riskkit.categories import Category
>>> Category.parse("次级") is Category.SUBSTANDARD
True
>>> Category.SPECIAL_MENTION < Category.DOUBTFUL, Category.DOUBTFUL.is_npl
(True, True)
>>> Category.LOSS.label("zh")
'损失'
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import pandas as pd

_ZH = ("正常", "关注", "次级", "可疑", "损失")
_EN = ("Normal", "Special mention", "Substandard", "Doubtful", "Loss")


class Category(IntEnum):
    """Ordered five-category classification; a higher value is a worse loan."""

    NORMAL = 0
    SPECIAL_MENTION = 1
    SUBSTANDARD = 2
    DOUBTFUL = 3
    LOSS = 4

    @property
    def code(self) -> str:
        """Machine name, e.g. ``"special_mention"``."""
        return self.name.lower()

    @property
    def zh(self) -> str:
        """Chinese label, e.g. ``"关注"``."""
        return _ZH[self.value]

    @property
    def en(self) -> str:
        """English label, e.g. ``"Special mention"``."""
        return _EN[self.value]

    def label(self, lang: str = "en") -> str:
        """Label in ``"en"`` or ``"zh"``."""
        if lang not in ("en", "zh"):
            raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
        return self.zh if lang == "zh" else self.en

    @property
    def is_npl(self) -> bool:
        """True for the three non-performing categories (substandard, doubtful, loss)."""
        return self >= Category.SUBSTANDARD

    @classmethod
    def parse(cls, value: object) -> Category:
        """Parse a category from its code, English or Chinese label, or integer value.

        Raises
        ------
        ValueError
            If ``value`` names no category; the message lists the accepted values.
        """
        if isinstance(value, Category):
            return value
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            if 0 <= int(value) <= 4:
                return cls(int(value))
        elif isinstance(value, str):
            key = value.strip()
            found = _LOOKUP.get(key.lower()) or _LOOKUP.get(key)
            if found is not None:
                return found
        raise ValueError(
            f"unknown loan category {value!r}; expected one of "
            f"{[c.code for c in cls]} or {list(_ZH)}"
        )

    @classmethod
    def codes(cls) -> list[str]:
        """Machine names in order of worsening."""
        return [c.code for c in cls]


def _lookup_code(value) -> int:
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value) if 0 <= int(value) <= 4 else -1
    key = str(value).strip()
    found = _LOOKUP.get(key.lower()) or _LOOKUP.get(key)
    return -1 if found is None else int(found)


_LOOKUP: dict[str, Category] = {}
for _c in Category:
    _LOOKUP[_c.code] = _c
    _LOOKUP[_c.en.lower()] = _c
    _LOOKUP[_c.zh] = _c
    _LOOKUP[_c.code.replace("_", " ")] = _c

NPL_CATEGORIES = (Category.SUBSTANDARD, Category.DOUBTFUL, Category.LOSS)
CATEGORY_DTYPE = pd.CategoricalDtype(Category.codes(), ordered=True)


def parse_categories(values, *, column: str = "category", ids=None) -> np.ndarray:
    """Vectorised parse of a column of category values to int8 codes 0..4.

    Parameters
    ----------
    values : array-like
        Codes, English or Chinese labels, or integers 0..4.
    column : str
        Column name used in the error message.
    ids : array-like, optional
        Row identifiers (loan ids) named in the error message.

    Raises
    ------
    ValueError
        Naming the column, the first offending ids and the unknown values.
    """
    s = pd.Series(values)
    if pd.api.types.is_integer_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        out = s.to_numpy()
        bad = (out < 0) | (out > 4)
    else:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        lut = np.array([_lookup_code(u) for u in uniques] + [-1], dtype=np.int64)
        out = lut[codes]  # NA has code -1, which picks the trailing -1
        bad = out < 0
    if bad.any():
        idx = np.flatnonzero(bad)
        who = list(pd.Series(ids).iloc[idx[:5]]) if ids is not None else list(idx[:5])
        raise ValueError(
            f"column {column!r}: {bad.sum()} unknown category value(s) "
            f"{sorted({str(v) for v in s.iloc[idx[:5]]})} at loan id(s) {who}; "
            f"expected one of {Category.codes()} or {list(_ZH)}"
        )
    return np.asarray(out, dtype=np.int8)
