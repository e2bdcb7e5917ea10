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


# --- customer register (客户档案, seed 000 arts. 6-9) -------------------------------------------


class CivilCapacity(_Labelled):
    """Civil capacity of a natural person (seed 000 art. 5(1): full capacity is required)."""

    FULL = "full"  # 完全民事行为能力
    LIMITED = "limited"  # 限制民事行为能力
    NONE = "none"  # 无民事行为能力

    @classmethod
    def _zh_labels(cls):
        return {"full": "完全民事行为能力", "limited": "限制民事行为能力", "none": "无民事行为能力"}


class IdType(_Labelled):
    """Identity document on file (seed 000 art. 5(2): a valid legal ID is required)."""

    RESIDENT_ID = "resident_id"  # 居民身份证 (GB 11643 number)
    PASSPORT = "passport"  # 护照
    RESIDENCE_PERMIT = "residence_permit"  # 港澳台居民居住证 / 外国人永久居留身份证

    @classmethod
    def _zh_labels(cls):
        return {"resident_id": "居民身份证", "passport": "护照", "residence_permit": "居住证"}


class IncomeSource(_Labelled):
    """Main source of the customer's income (seed 000 art. 5(3): stable income)."""

    BUSINESS = "business"  # 经营收入
    SALARY = "salary"  # 工资收入
    FARMING = "farming"  # 种养殖收入
    PENSION = "pension"  # 养老金
    RENTAL = "rental"  # 租金收入
    OTHER = "other"  # 其他

    @classmethod
    def _zh_labels(cls):
        return {
            "business": "经营收入",
            "salary": "工资收入",
            "farming": "种养殖收入",
            "pension": "养老金",
            "rental": "租金收入",
            "other": "其他",
        }


class ResidenceStatus(_Labelled):
    """Where the customer lives relative to the lender's area (户籍 / 居住)."""

    LOCAL_HUKOU = "local_hukou"  # 本地户籍
    LOCAL_RESIDENT = "local_resident"  # 本地常住（居住证）
    NON_LOCAL = "non_local"  # 外地

    @classmethod
    def _zh_labels(cls):
        return {"local_hukou": "本地户籍", "local_resident": "本地常住", "non_local": "外地"}
