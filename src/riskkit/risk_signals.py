"""The risk signals that put a loan under special watch (seed 002, art. 5; DOMAIN.md s.5): the
vocabulary shared by the loan book (its ``signals`` table), the classification rules and the
post-loan inspection.

Each signal has a code, its number in article 5, English and Chinese wording and the way
riskkit learns of it (``detection``): ``derived`` (computed from the book by
:func:`riskkit.inspection.detect_signals`), ``feed`` (arrives in the book's ``signals`` table
from other systems) or ``manual`` (recorded by the officer).

After the sixteen of article 5 comes ``guarantor_liability`` (联保成员违约): a member of the loan's
joint-guarantee group (三户联保, seed 002) has a loan at special mention or worse, so this borrower
is liable for it as a joint guarantor and this loan's own guarantee has weakened. It is a case
of item 13 (the guarantor's standing fell) that riskkit derives from the classification
(:func:`riskkit.book.groups.guarantor_liability_signals`).

Examples
--------
>>> from riskkit.risk_signals import RiskSignal
>>> RiskSignal.INCOME_DROP.zh, RiskSignal.INCOME_DROP.number, RiskSignal.INCOME_DROP.detection
('收入明显下降，不足以还款', 3, 'derived')
>>> RiskSignal.parse("enforcement_started") is RiskSignal.ENFORCEMENT_STARTED
True
>>> len(SIGNAL_CODES), SIGNAL_CODES[0], RiskSignal.GUARANTOR_LIABILITY.number
(17, 'missed_installment', 13)
"""

from __future__ import annotations

from enum import StrEnum

#: How riskkit learns of a signal.
DETECTIONS = ("derived", "feed", "manual")

# code -> (English, Chinese, detection), in the order of seed 002 art. 5
_DEFINITIONS: dict[str, tuple[str, str, str]] = {
    "missed_installment": (
        "installment not paid as contracted",
        "未按合同约定还本付息",
        "derived",
    ),
    "sanctioned": ("borrower sanctioned for illegal acts", "借款人受到法律或行政处罚", "manual"),
    "income_drop": (
        "income no longer covers the installments",
        "收入明显下降，不足以还款",
        "derived",
    ),
    "health_worsened": (
        "health worsened / lost capacity to work",
        "健康恶化或丧失劳动能力",
        "manual",
    ),
    "death_or_missing": (
        "borrower dead, missing or without civil capacity",
        "借款人死亡、失踪或丧失民事行为能力",
        "manual",
    ),
    "fund_misuse": ("loan misused or diverted", "挪用贷款", "manual"),
    "property_destroyed": (
        "financed property destroyed by disaster",
        "财产因灾害损失或灭失",
        "manual",
    ),
    "collateral_disposed": (
        "collateral sold, rented or re-pledged without consent",
        "抵（质）押物被擅自处置或重复抵押",
        "manual",
    ),
    "inspection_obstructed": (
        "inspection refused or false information",
        "拒绝或阻挠贷后检查、提供虚假信息",
        "manual",
    ),
    "contact_changes": ("address and contact keep changing", "居所和联系方式经常变动", "feed"),
    "collateral_value_low": (
        "collateral value toward or below the loan",
        "抵（质）押物价值趋于或低于贷款金额",
        "derived",
    ),
    "presale_not_registered": (
        "pre-sale property not completed or registered",
        "期房未按期完工或办妥产权抵押",
        "manual",
    ),
    "guarantor_downgrade": (
        "guarantor's standing or capacity fell",
        "保证人资格或能力下降",
        "feed",
    ),
    "law_change": ("new law makes the contracts defective", "新法规致合同存在缺陷", "manual"),
    "documents_missing": ("loan documents incomplete or lost", "贷款手续或档案不全、遗失", "feed"),
    "enforcement_started": (
        "guarantee, insurance or legal action invoked",
        "已要求履行保证、保险责任或诉诸法律",
        "feed",
    ),
    "guarantor_liability": (
        "a joint-guarantee partner's loan is in arrears: joint liability",
        "联保成员贷款出现风险，承担连带保证责任",
        "derived",
    ),
}
#: Article-5 item of the signals riskkit adds after the sixteen of the seed.
_ITEM_OF_ADDED = {"guarantor_liability": 13}


class RiskSignal(StrEnum):
    """One risk signal of seed 002 art. 5 (or ``guarantor_liability``, see the module
    docstring); the value is its code (``"income_drop"``)."""

    MISSED_INSTALLMENT = "missed_installment"
    SANCTIONED = "sanctioned"
    INCOME_DROP = "income_drop"
    HEALTH_WORSENED = "health_worsened"
    DEATH_OR_MISSING = "death_or_missing"
    FUND_MISUSE = "fund_misuse"
    PROPERTY_DESTROYED = "property_destroyed"
    COLLATERAL_DISPOSED = "collateral_disposed"
    INSPECTION_OBSTRUCTED = "inspection_obstructed"
    CONTACT_CHANGES = "contact_changes"
    COLLATERAL_VALUE_LOW = "collateral_value_low"
    PRESALE_NOT_REGISTERED = "presale_not_registered"
    GUARANTOR_DOWNGRADE = "guarantor_downgrade"
    LAW_CHANGE = "law_change"
    DOCUMENTS_MISSING = "documents_missing"
    ENFORCEMENT_STARTED = "enforcement_started"
    GUARANTOR_LIABILITY = "guarantor_liability"

    @property
    def code(self) -> str:
        """Machine name, e.g. ``"income_drop"``."""
        return self.value

    @property
    def number(self) -> int:
        """Item number in seed 002 art. 5 (1..16; ``guarantor_liability`` is a case of 13)."""
        return _ITEM_OF_ADDED.get(self.value) or list(_DEFINITIONS).index(self.value) + 1

    @property
    def en(self) -> str:
        """English wording."""
        return _DEFINITIONS[self.value][0]

    @property
    def zh(self) -> str:
        """Chinese wording (the seed's)."""
        return _DEFINITIONS[self.value][1]

    @property
    def detection(self) -> str:
        """``derived``, ``feed`` or ``manual`` (see the module docstring)."""
        return _DEFINITIONS[self.value][2]

    def label(self, lang: str = "en") -> str:
        """Wording in ``"en"`` or ``"zh"``."""
        if lang not in ("en", "zh"):
            raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
        return self.zh if lang == "zh" else self.en

    @classmethod
    def parse(cls, value: object) -> RiskSignal:
        """The signal named by its code; the error lists the known codes."""
        try:
            return cls(str(value).strip())
        except ValueError:
            raise ValueError(
                f"unknown risk signal {value!r}; expected one of {SIGNAL_CODES}"
            ) from None


#: Signal codes in the order of seed 002 art. 5, then ``guarantor_liability``.
SIGNAL_CODES: tuple[str, ...] = tuple(s.value for s in RiskSignal)
#: code -> (English, Chinese) wording.
SIGNAL_TEXT: dict[str, tuple[str, str]] = {s.value: (s.en, s.zh) for s in RiskSignal}
#: Codes riskkit computes from the book.
DERIVED: tuple[str, ...] = tuple(s.value for s in RiskSignal if s.detection == "derived")
#: Codes that arrive from other systems in the book's ``signals`` table.
FEED: tuple[str, ...] = tuple(s.value for s in RiskSignal if s.detection == "feed")

assert tuple(_DEFINITIONS) == SIGNAL_CODES
