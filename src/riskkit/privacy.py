"""Masking of personal data (seed 000: customer information is confidential).

Reports and logs never show ID numbers or phone numbers unmasked.

Examples
--------
>>> mask_id_number("110101199003071234")
'110***********1234'
>>> mask_phone("13812345678")
'138****5678'
"""

from __future__ import annotations

import re

import pandas as pd

PII_COLUMNS = ("id_number", "phone", "guarantor_id_number", "guarantor_phone", "name")


def _mask(s: str, keep_head: int, keep_tail: int) -> str:
    if s is None or (isinstance(s, float) and pd.isna(s)):
        return s
    s = str(s)
    if len(s) <= keep_head + keep_tail:
        return "*" * len(s)
    return s[:keep_head] + "*" * (len(s) - keep_head - keep_tail) + s[len(s) - keep_tail :]


def mask_id_number(value: str) -> str:
    """Keep the first 3 and last 4 characters of an ID number."""
    return _mask(value, 3, 4)


def mask_phone(value: str) -> str:
    """Keep the first 3 and last 4 digits of a phone number."""
    return _mask(value, 3, 4)


def mask_name(value: str) -> str:
    """Keep the family name (first character) only: 张三 -> 张*."""
    return _mask(value, 1, 0) if value is not None and len(str(value)) > 1 else value


_MASKERS = {
    "id_number": mask_id_number,
    "guarantor_id_number": mask_id_number,
    "phone": mask_phone,
    "guarantor_phone": mask_phone,
    "name": mask_name,
}


def mask_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``df`` with every known PII column masked."""
    out = df.copy()
    for col, fn in _MASKERS.items():
        if col in out.columns:
            out[col] = out[col].map(fn, na_action="ignore")
    return out


# Digit look-arounds, not \b: Chinese characters are word characters, so "身份证1101..." has
# no word boundary before the number.
_ID_RE = re.compile(r"(?<!\d)(\d{3})\d{11}(\d{3}[\dXx])(?![\dXx])")
_PHONE_RE = re.compile(r"(?<!\d)((?:\+?86[- ]?)?1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})(?!\d)")


def mask_text(text: str) -> str:
    """Mask 18-character ID numbers and mobile numbers (with or without +86, dashes or spaces)
    inside free text, also when they touch Chinese characters.

    >>> mask_text("身份证110101199003071234，电话138-1234-5678")
    '身份证110***********1234，电话138****5678'
    """
    text = _ID_RE.sub(lambda m: m.group(1) + "*" * 11 + m.group(2), text)
    return _PHONE_RE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
