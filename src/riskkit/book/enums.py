"""Enumerations of the loan book (DOMAIN.md s.2), with Chinese labels for reports."""

from __future__ import annotations

from enum import StrEnum


class _Labelled(StrEnum):
    @property
    def zh(self) -> str:
        return self._zh_labels()[self.value]

    @classmethod
    def _zh_labels(cls) -> dict[str, str]:  # pragma: no cover - overridden
        return {}

    @classmethod
    def values(cls) -> list[str]:
        return [m.value for m in cls]


class RepaymentMethod(_Labelled):
    """How a loan is repaid."""

    ANNUITY = "annuity"  # 等额本息
    EQUAL_PRINCIPAL = "equal_principal"  # 等额本金
    INTEREST_ONLY = "interest_only"  # 按月付息、到期还本
    BULLET = "bullet"  # 到期一次还本付息

    @classmethod
    def _zh_labels(cls):
        return {
            "annuity": "等额本息",
            "equal_principal": "等额本金",
            "interest_only": "按月付息到期还本",
            "bullet": "到期一次还本付息",
        }


class GuaranteeType(_Labelled):
    """Guarantee structure of a loan."""

    CREDIT = "credit"  # 信用
    GUARANTEED = "guaranteed"  # 保证 (natural-person or company guarantor)
    JOINT = "joint"  # 联保 (e.g. 三户联保)
    MORTGAGE = "mortgage"  # 抵押
    PLEDGE = "pledge"  # 质押

    @classmethod
    def _zh_labels(cls):
        return {
            "credit": "信用",
            "guaranteed": "保证",
            "joint": "联保",
            "mortgage": "抵押",
            "pledge": "质押",
        }


class Segment(_Labelled):
    """Borrower segment."""

    TRADER = "trader"  # 个体工商户
    MICRO_ENTERPRISE = "micro_enterprise"  # 小微企业主
    FARMER = "farmer"  # 农户
    CONSUMER = "consumer"  # 个人消费

    @classmethod
    def _zh_labels(cls):
        return {
            "trader": "个体工商户",
            "micro_enterprise": "小微企业主",
            "farmer": "农户",
            "consumer": "个人消费",
        }


class CollateralType(_Labelled):
    """Collateral or pledged asset."""

    REAL_ESTATE = "real_estate"
    MACHINERY = "machinery"
    VEHICLE = "vehicle"
    DEPOSIT = "deposit"
    RECEIVABLES = "receivables"
    EQUITY = "equity"

    @classmethod
    def _zh_labels(cls):
        return {
            "real_estate": "房产",
            "machinery": "机器设备",
            "vehicle": "车辆",
            "deposit": "存单",
            "receivables": "应收账款",
            "equity": "股权",
        }


class PaymentSource(_Labelled):
    """Who paid: the borrower, or a workout channel after default (``payments.source``)."""

    BORROWER = "borrower"  # 借款人还款
    GUARANTOR = "guarantor"  # 保证人代偿 (incl. joint-guarantee members)
    COLLATERAL = "collateral"  # 抵质押物处置
    ESTATE = "estate"  # 遗产清偿

    @classmethod
    def _zh_labels(cls):
        return {
            "borrower": "借款人还款",
            "guarantor": "保证人代偿",
            "collateral": "抵质押物处置",
            "estate": "遗产清偿",
        }


class RecoveryStatus(_Labelled):
    """Workout status of a defaulted loan (``recovery_status`` table), in the order a workout
    usually runs. The latest status recorded on or before a date is the loan's status then."""

    COLLECTION = "collection"  # 催收
    GUARANTOR_CALLED = "guarantor_called"  # 要求保证人履行代偿责任
    LEGAL_ACTION = "legal_action"  # 诉讼/仲裁/申请强制执行
    COLLATERAL_SALE = "collateral_sale"  # 处置抵质押物（查封、拍卖、变卖）
    ESTATE_CLAIM = "estate_claim"  # 以遗产清偿（借款人死亡或宣告失踪）
    EXHAUSTED = "exhausted"  # 追偿终结：保证、抵质押物、遗产均已处置，仍未收回
    CURED = "cured"  # 恢复正常还款，清收结束

    @classmethod
    def _zh_labels(cls):
        return {
            "collection": "催收",
            "guarantor_called": "要求保证人代偿",
            "legal_action": "诉讼追偿",
            "collateral_sale": "处置抵质押物",
            "estate_claim": "遗产清偿",
            "exhausted": "追偿终结",
            "cured": "恢复正常",
        }
