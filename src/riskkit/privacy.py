"""Masking of personal data and secrets (seed 000: customer information is confidential).

Reports, logs and every file the report runner writes never show an ID number, a phone number
or a password unmasked. :func:`mask_text` finds ID and mobile numbers in free text, also when
they are written with separators (spaces, dashes, dots, parentheses), in full-width digits or
touch Chinese text; :func:`mask_url` hides the password of a database URL; a
:class:`Redactor` applies both (and a run's known secrets) to text and JSON documents, and is
the one check the report runner applies to everything it writes.

Examples
--------
>>> mask_id_number("110101199003071234")
'110***********1234'
>>> mask_phone("13812345678")
'138****5678'
>>> mask_text("电话 (+86) 138.1234.5678，身份证 110101 19900307 1234")
'电话 (+86) 138****5678，身份证 110***********1234'
>>> mask_url("postgresql+psycopg://risk:s3cret-pw@db/riskkit")
'postgresql+psycopg://risk:***@db/riskkit'
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

PII_COLUMNS = ("id_number", "phone", "guarantor_id_number", "guarantor_phone", "name")
#: What a password is replaced by.
HIDDEN = "***"


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


# --- numbers in free text -----------------------------------------------------------------
# Full-width digits and punctuation (one character each, so positions stay the same).
_NARROW = str.maketrans("０１２３４５６７８９Ｘｘ＋－．（）\u3000", "0123456789Xx+-.() ")
# Not inside a longer number: no digit before (Chinese characters are word characters, so no
# \b), and not the fraction or integer part of a decimal number (0.13812345678 is a ratio).
_BEFORE = r"(?<!\d)(?<!\d\.)"
_SEP = r"[ \-.]?"
_ID18 = re.compile(
    _BEFORE + rf"(?P<d>\d{{6}}(?P<s>{_SEP})\d{{8}}(?P=s)\d{{3}}[\dXx])(?![\dXx])(?!\.\d)"
)
_DATE6 = r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"  # YYMMDD of a 15-digit ID
_ID15 = re.compile(
    _BEFORE + rf"(?P<d>[1-8]\d{{5}}(?P<s>{_SEP}){_DATE6}(?P=s)\d{{3}})(?!\d)(?!\.\d)"
)
_COUNTRY = r"(?P<cc>(?:\+|00)?86[ \-]?|\(\+?86\)[ \-]?)?"
_PHONE = re.compile(
    _BEFORE
    + _COUNTRY
    + r"(?P<d>1[3-9]\d(?P<s>[ \-.]?)\d{4}(?P=s)\d{4}|\(1[3-9]\d\)[ \-.]?\d{4}[ \-.]?\d{4})"
    + r"(?!\d)(?!\.\d)"
)


def _digits(s: str) -> str:
    return re.sub(r"[^\dXx]", "", s)


def _masked_number(m: re.Match, keep_prefix: bool) -> str:
    d = _digits(m.group("d"))
    prefix = (m.groupdict().get("cc") or "") if keep_prefix else ""
    return prefix + d[:3] + "*" * (len(d) - 7) + d[-4:]


def _substitute(pattern: re.Pattern, text: str, keep_prefix: bool = False) -> str:
    """Replace every match of ``pattern`` found in the narrowed text; the text between matches
    is kept exactly as written (full-width characters included)."""
    narrow = text.translate(_NARROW)
    out, last = [], 0
    for m in pattern.finditer(narrow):
        out.append(text[last : m.start()])
        out.append(_masked_number(m, keep_prefix))
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def mask_text(text: str) -> str:
    """Mask 18- and 15-digit ID numbers and mobile numbers inside free text: with or without
    +86, written with spaces, dashes, dots or parentheses, in full-width digits, and when they
    touch Chinese characters. The masked form keeps the first 3 and last 4 digits.

    >>> mask_text("身份证110101199003071234，电话138-1234-5678")
    '身份证110***********1234，电话138****5678'
    >>> mask_text("旧身份证 110101900307123，手机 １３８１２３４５６７８")
    '旧身份证 110********7123，手机 138****5678'
    """
    text = _substitute(_ID18, text)
    text = _substitute(_ID15, text)
    return _substitute(_PHONE, text, keep_prefix=True)


def personal_data_kinds(text: str) -> list[str]:
    """The kinds of unmasked personal data in ``text`` (``"ID number"``, ``"phone number"``)."""
    without_ids = _substitute(_ID15, _substitute(_ID18, text))
    kinds = ["ID number"] if without_ids != text else []
    if _PHONE.search(without_ids.translate(_NARROW)):
        kinds.append("phone number")
    return kinds


# --- secrets ------------------------------------------------------------------------------
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]*:)[^\s@/'\"]+@")
_QUERY_PASSWORD = re.compile(r"(?i)(?P<head>\b(?:password|passwd|pwd)=)[^&\s'\"]+")


def mask_url(url: str) -> str:
    """``url`` with its password (``user:password@`` or ``?password=``) replaced by ``***``."""
    url = _URL_PASSWORD.sub(lambda m: m.group("head") + HIDDEN + "@", str(url))
    return _QUERY_PASSWORD.sub(lambda m: m.group("head") + HIDDEN, url)


def url_secrets(url: str | None) -> list[str]:
    """The password of a database URL (empty list when it has none)."""
    if not url:
        return []
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        u = make_url(url)
    except ArgumentError:
        return []
    found: list[str] = [str(u.password)] if u.password else []
    for key, value in u.query.items():
        if key.lower() in ("password", "passwd", "pwd"):
            found += [value] if isinstance(value, str) else list(value)
    return [s for s in found if s]


# --- one check for everything written -----------------------------------------------------
#: base64 payloads (images, fonts) are not text: masking them would corrupt them, and their
#: digit runs are not personal data.
_DATA_URI = re.compile(r"data:[\w.+/-]+;base64,[A-Za-z0-9+/=\s]+")
#: JSON keys whose values are base64 payloads (Jupyter output bundles).
BINARY_KEYS = frozenset({"image/png", "image/jpeg", "image/gif", "application/pdf"})
#: Secrets shorter than this are only masked where they appear as a URL's password: masking
#: a short word everywhere would garble the text around it.
MIN_LITERAL_SECRET = 8


class Redactor:
    """Masks personal data, database passwords and a run's known ``secrets`` in text and in
    JSON-like documents; says what it found.

    Parameters
    ----------
    secrets : iterable of str
        Literal secrets (e.g. the store URL's password) replaced by ``***`` wherever they
        appear (those of at least :data:`MIN_LITERAL_SECRET` characters).

    Examples
    --------
    >>> r = Redactor(secrets=["s3cret-password"])
    >>> r.text("connect to sqlite:///x.db as s3cret-password, call 13812345678")
    'connect to sqlite:///x.db as ***, call 138****5678'
    >>> r.found("call 13812345678")
    ['phone number']
    """

    def __init__(self, secrets: Iterable[str] = ()):
        self.secrets = sorted(
            {s for s in secrets if s and len(s) >= MIN_LITERAL_SECRET}, key=len, reverse=True
        )

    def _plain(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, HIDDEN)
        return mask_text(mask_url(text))

    def text(self, text: str) -> str:
        """``text`` masked (base64 data URIs left as they are)."""
        out, last = [], 0
        for m in _DATA_URI.finditer(text):
            out.append(self._plain(text[last : m.start()]))
            out.append(m.group(0))
            last = m.end()
        out.append(self._plain(text[last:]))
        return "".join(out)

    def value(self, obj):
        """A JSON-like document with every string (and key) masked; an integer that reads as
        an ID or phone number becomes its masked text; base64 payloads are kept."""
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {
                self.text(str(k)): (v if k in BINARY_KEYS else self.value(v))
                for k, v in obj.items()
            }
        if isinstance(obj, list | tuple):
            return [self.value(v) for v in obj]
        if isinstance(obj, int) and not isinstance(obj, bool):
            masked = mask_text(str(obj))
            return obj if masked == str(obj) else masked
        return obj

    def found(self, text: str) -> list[str]:
        """What :meth:`text` would mask: ``"ID number"``, ``"phone number"``, ``"password"``."""
        plain = _DATA_URI.sub(" ", text)
        kinds = personal_data_kinds(plain)
        if any(s in plain for s in self.secrets) or mask_url(plain) != plain:
            kinds.append("password")
        return kinds
