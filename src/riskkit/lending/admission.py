"""Customer admission (客户准入, seed 000 art. 5) and the loan conditions of art. 12, as policy,
evaluated for a whole batch of applications at once, every failure explained.

The rules are policy data (``admission.rules`` and ``admission.loan_rules``): each has a code,
the article it implements, an English and a Chinese text and its parameters; an institution
changes a parameter, a text or switches a rule off in its policy file. The products' ranges are
policy ``products``, the regulator's limits policy ``regulator``.

Admission (the customer, from the customer register :mod:`riskkit.book.customers`):

* ``age``: at least ``min_age`` at the decision date, at most ``max_age`` at maturity;
* ``civil_capacity``: full civil capacity;
* ``id_valid``: an ID document on file, valid at the decision date (or long-term);
* ``income_stable``: an accepted income source and a positive monthly income;
* ``income_verified``: income verified within ``within_months`` before the decision;
* ``credit_report``: a credit report pulled within ``within_days`` before the decision;
* ``no_current_overdue``: at most ``max_amount`` overdue elsewhere and no loan past due with us;
* ``worst_delinquency``: worst past delinquency at most ``max_days`` days;
* ``residence``: an accepted residence status for at least ``min_months`` months;
* ``business_operating``: business customers' business running for ``min_months`` months.

Loan conditions (the application's terms): ``product_known``, ``purpose_allowed``,
``amount_within_limits`` (product range; the borrower's outstanding plus this batch's requests
within the regulator's single-borrower limit), ``term_within_limits``, ``rate_within_limits``
(product range, regulator's ceiling).

A missing fact fails its rule ("not recorded"): admission is proven, not presumed.

Examples
--------
>>> import pandas as pd
>>> from riskkit.lending.admission import check_admission
>>> apps = pd.DataFrame({"application_id": ["A1"], "borrower_id": ["B1"],
...     "application_date": pd.to_datetime(["2026-11-03"]), "product": ["business_loan"],
...     "amount": [80_000.0], "term_months": [12], "annual_rate": [0.15],
...     "repayment_method": ["annuity"], "guarantee_type": ["credit"],
...     "purpose": ["stock purchase"], "officer_id": ["O01"], "branch": ["城关支行"]})
>>> cust = pd.DataFrame({"borrower_id": ["B1"], "segment": ["trader"],
...     "monthly_income": [9000.0], "birth_date": pd.to_datetime(["1960-05-01"]),
...     "civil_capacity": ["full"], "id_type": ["resident_id"],
...     "id_expiry_date": pd.to_datetime(["2026-10-01"]), "id_long_term": [False]})
>>> res = check_admission(apps, cust)
>>> bool(res.table.loc["A1", "admitted"]), res.failed_codes("A1")[:3]
(False, ['age', 'id_valid', 'income_stable'])
>>> for line in res.explain("A1")[:4]:
...     print(line)
A1: not admitted
[fail] age (000 art. 5(1)): aged 67 at maturity (2027-11-03), above 65
[pass] civil_capacity (000 art. 5(1)): a natural person with full civil capacity
[fail] id_valid (000 art. 5(2)): ID expired on 2026-10-01 (must be valid at the decision date)
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..book.keys import positions
from ..policy import Policy, load_policy
from ..results import TableResult
from .applications import column_or, validate_applications

#: Admission rules (the customer) and loan conditions (the terms), in evaluation order.
ADMISSION_RULES = (
    "age",
    "civil_capacity",
    "id_valid",
    "income_stable",
    "income_verified",
    "credit_report",
    "no_current_overdue",
    "worst_delinquency",
    "residence",
    "business_operating",
)
LOAN_RULES = (
    "product_known",
    "purpose_allowed",
    "amount_within_limits",
    "term_within_limits",
    "rate_within_limits",
)

#: What a failure says, per (rule, case): English and Chinese, ``{v}`` is the fact.
FAILURE_TEXT: dict[tuple[str, str], tuple[str, str]] = {
    ("age", "missing"): ("date of birth not recorded", "未登记出生日期"),
    ("age", "young"): ("aged {v} at the decision date, below {min_age}", "决策日年龄{v}岁，未满{min_age}周岁"),
    ("age", "old"): ("aged {v}, above {max_age}", "年龄{v}岁，超过{max_age}周岁"),
    ("civil_capacity", "missing"): ("civil capacity not recorded", "未登记民事行为能力"),
    ("civil_capacity", "not_full"): ("civil capacity: {v}", "民事行为能力：{v}"),
    ("id_valid", "missing"): ("no ID document on file", "未登记身份证件"),
    ("id_valid", "no_expiry"): ("ID expiry not recorded", "未登记证件有效期"),
    ("id_valid", "expired"): ("ID expired on {v} (must be valid at the decision date)", "证件已于{v}过期（须在决策日有效）"),
    ("income_stable", "missing"): ("income source not recorded", "未登记收入来源"),
    ("income_stable", "source"): ("income source '{v}' not accepted", "收入来源“{v}”不符合要求"),
    ("income_stable", "no_income"): ("monthly income {v}", "月收入{v}"),
    ("income_verified", "missing"): ("income never verified", "收入未经核实"),
    ("income_verified", "stale"): ("income verified more than {within_months} months before the decision: {v}", "收入核实早于决策日前{within_months}个月：{v}"),
    ("credit_report", "missing"): ("no credit report", "未查询征信报告"),
    ("credit_report", "stale"): ("credit report older than {within_days} days: {v}", "征信报告超过{within_days}天：{v}"),
    ("no_current_overdue", "missing"): ("amount overdue elsewhere not recorded", "未登记他行逾期情况"),
    ("no_current_overdue", "elsewhere"): ("{v} RMB overdue elsewhere (at most {max_amount})", "他行逾期{v}元（上限{max_amount}元）"),
    ("no_current_overdue", "with_us"): ("a loan with us {v} days past due", "本机构贷款逾期{v}天"),
    ("worst_delinquency", "missing"): ("credit history not recorded", "未登记历史逾期情况"),
    ("worst_delinquency", "too_long"): ("worst past delinquency {v} days, above {max_days}", "历史最长逾期{v}天，超过{max_days}天"),
    ("residence", "missing"): ("residence not recorded", "未登记居住情况"),
    ("residence", "status"): ("residence status '{v}'", "居住状态“{v}”"),
    ("residence", "short"): ("resident here since {v}, under {min_months} months", "自{v}起在本地居住，不足{min_months}个月"),
    ("business_operating", "missing"): ("business start not recorded", "未登记开始经营日期"),
    ("business_operating", "short"): ("business operating since {v}, under {min_months} months", "自{v}起经营，不足{min_months}个月"),
    ("product_known", "unknown"): ("unknown product '{v}'", "未开办的产品“{v}”"),
    ("purpose_allowed", "not_listed"): (
        "purpose '{v}' not on the product's list",
        "用途“{v}”不在产品允许的范围内",
    ),
    ("amount_within_limits", "below"): ("amount {v} below the product minimum", "金额{v}低于产品下限"),
    ("amount_within_limits", "above"): ("amount {v} above the product maximum", "金额{v}超过产品上限"),
    ("amount_within_limits", "exposure"): (
        "borrower's exposure with this request {v} RMB above {max_borrower_exposure}",
        "含本笔申请借款人授信总额{v}元，超过{max_borrower_exposure}元",
    ),
    ("term_within_limits", "outside"): ("term {v} months outside the product's range", "期限{v}个月超出产品范围"),
    ("rate_within_limits", "outside"): ("rate {v} outside the product's range", "利率{v}超出产品范围"),
    ("rate_within_limits", "ceiling"): ("rate {v} above the ceiling {max_annual_rate}", "利率{v}超过上限{max_annual_rate}"),
}  # fmt: skip


@dataclass(frozen=True)
class Rule:
    """One admission rule or loan condition as the policy states it."""

    code: str
    kind: str  # admission | loan
    article: str
    en: str
    zh: str
    enabled: bool
    params: dict = field(default_factory=dict)

    def text(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en


def admission_rules(policy=None) -> list[Rule]:
    """The admission rules and loan conditions of the policy, texts filled with parameters."""
    p = load_policy(policy) if not isinstance(policy, Policy) else policy
    a = p["admission"]
    out = []
    for kind, section, codes in (
        ("admission", a["rules"], ADMISSION_RULES),
        ("loan", a["loan_rules"], LOAN_RULES),
    ):
        for code in codes:
            r = dict(section[code])
            params = {k: v for k, v in r.items() if k not in ("article", "en", "zh", "enabled")}
            fill = _fill_values(code, params, p)
            out.append(
                Rule(
                    code=code,
                    kind=kind,
                    article=str(r["article"]),
                    en=str(r["en"]).format(**fill),
                    zh=str(r["zh"]).format(**fill),
                    enabled=bool(r["enabled"]),
                    params=params,
                )
            )
    return out


def _fill_values(code: str, params: dict, p: Policy) -> dict:
    fill = {k: ", ".join(map(str, v)) if isinstance(v, list) else v for k, v in params.items()}
    reg = p["regulator"]
    fill["max_borrower_exposure"] = f"{reg['max_borrower_exposure']:,.0f}"
    fill["max_annual_rate"] = f"{reg['max_annual_rate']:.0%}"
    fill["products"] = ", ".join(p["products"])
    return fill


def rule_table(policy=None) -> pd.DataFrame:
    """The rules as a table (index ``code``): kind, article, en, zh, enabled, parameters."""
    rows = [
        {
            "code": r.code,
            "kind": r.kind,
            "article": r.article,
            "en": r.en,
            "zh": r.zh,
            "enabled": r.enabled,
            "parameters": r.params,
        }
        for r in admission_rules(policy)
    ]
    return pd.DataFrame(rows).set_index("code")


# ---------------------------------------------------------------------------------------------
# evaluation


@dataclass
class _Facts:
    """The inputs of every rule, one array per fact, aligned with the applications."""

    n: int
    ids: np.ndarray
    decision: np.ndarray  # datetime64[D]
    maturity: np.ndarray
    c: pd.DataFrame  # customer columns aligned with the applications
    a: pd.DataFrame  # the applications
    exposure: np.ndarray  # borrower's outstanding with us
    dpd_with_us: np.ndarray  # worst days past due of the borrower's loans with us


@dataclass
class _Outcome:
    """Failures of one rule: ``cases`` of (case code, mask, fact text)."""

    code: str
    cases: list = field(default_factory=list)

    def add(self, case: str, mask, value="", fmt: str = "str") -> None:
        """Record failures where ``mask``; ``value`` (the fact, per application) is formatted
        by ``fmt`` (str, date, int, amount, pct) for the failing rows only."""
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            v = value if np.ndim(value) else np.full(mask.shape, value, dtype=object)
            self.cases.append((case, mask, np.asarray(v), fmt))


def _format(v: np.ndarray, fmt: str) -> pd.Series:
    """The facts of failing rows as text."""
    if fmt == "date":
        t = np.datetime_as_string(v.astype("datetime64[D]"), unit="D")
    elif fmt == "int":
        t = np.nan_to_num(v.astype(float)).astype(np.int64).astype(str)
    elif fmt == "amount":
        t = np.char.mod("%.0f", np.nan_to_num(v.astype(float)))
    elif fmt == "pct":
        t = np.char.mod("%.2f%%", v.astype(float) * 100)
    else:
        t = v.astype(object).astype(str)
    return pd.Series(np.asarray(t, dtype=object))


def _years_between(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Whole years from ``start`` to ``end`` (both datetime64[D]); NaT gives -1."""
    s = pd.DatetimeIndex(start)
    e = pd.DatetimeIndex(end)
    y = e.year - s.year - ((e.month < s.month) | ((e.month == s.month) & (e.day < s.day)))
    missing = np.asarray(pd.isna(s) | pd.isna(e))
    return np.where(missing, -1, np.nan_to_num(np.asarray(y, dtype=float), nan=-1)).astype(np.int64)


def _months_before(d: np.ndarray, months: int) -> np.ndarray:
    """``d`` minus whole months (calendar months, month-end safe)."""
    return (pd.DatetimeIndex(d) - pd.DateOffset(months=int(months))).to_numpy("datetime64[D]")


def _date_text(d: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(np.asarray(d, dtype="datetime64[D]"), unit="D").astype(object)


def _dates(f: _Facts, col: str) -> np.ndarray:
    if col not in f.c.columns:
        return np.full(f.n, np.datetime64("NaT"), dtype="datetime64[D]")
    return f.c[col].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")


def _nat(d: np.ndarray) -> np.ndarray:
    return np.isnat(d)


def _rule_age(f: _Facts, prm: dict) -> _Outcome:
    o = _Outcome("age")
    birth = _dates(f, "birth_date")
    missing = _nat(birth)
    now = _years_between(birth, f.decision)
    at_end = _years_between(birth, f.maturity)
    young = ~missing & (now < prm["min_age"])
    old = ~missing & ~young & (at_end > prm["max_age"])
    o.add("missing", missing, "")
    o.add("young", young, now, "int")
    if old.any():  # the age at maturity with the maturity date, for the failing rows only
        end_txt = np.full(f.n, "", dtype=object)
        end_txt[old] = (at_end[old].astype(str).astype(object) + " at maturity ("
                        + _date_text(f.maturity[old]) + ")")  # fmt: skip
        o.add("old", old, end_txt)
    return o


def _rule_civil_capacity(f: _Facts, prm: dict) -> _Outcome:
    o = _Outcome("civil_capacity")
    v = column_or(f.c, "civil_capacity", None)
    missing = pd.isna(v)
    o.add("missing", missing, "")
    o.add("not_full", ~missing & (v != "full"), v)
    return o


def _rule_id_valid(f: _Facts, prm: dict) -> _Outcome:
    o = _Outcome("id_valid")
    has_id = pd.notna(column_or(f.c, "id_type", None)) & pd.notna(column_or(f.c, "id_number", 1))
    long_term = column_or(f.c, "id_long_term", False)
    expiry = _dates(f, "id_expiry_date")
    o.add("missing", ~has_id, "")
    o.add("no_expiry", has_id & ~long_term & _nat(expiry), "")
    expired = has_id & ~long_term & ~_nat(expiry) & (expiry < f.decision)
    o.add("expired", expired, expiry, "date")
    return o


def _rule_income_stable(f: _Facts, prm: dict) -> _Outcome:
    o = _Outcome("income_stable")
    src = column_or(f.c, "income_source", None)
    missing = pd.isna(src)
    income = column_or(f.c, "monthly_income", np.nan).astype(float)
    o.add("missing", missing, "")
    o.add("source", ~missing & ~np.isin(src, list(prm["sources"])), src)
    bad_income = ~missing & ~(income > 0)
    o.add("no_income", bad_income, np.where(np.isnan(income), "not recorded", income).astype(str))
    return o


def _rule_income_verified(f: _Facts, prm: dict) -> _Outcome:
    o = _Outcome("income_verified")
    d = _dates(f, "income_verified_date")
    since = _months_before(f.decision, prm["within_months"])
    o.add("missing", _nat(d), "")
    o.add("stale", ~_nat(d) & ((d < since) | (d > f.decision)), d, "date")
    return o


def _rule_credit_report(f: _Facts, prm: dict) -> _Outcome:
    o = _Outcome("credit_report")
    d = _dates(f, "credit_report_date")
    since = f.decision - np.timedelta64(int(prm["within_days"]), "D")
    o.add("missing", _nat(d), "")
    o.add("stale", ~_nat(d) & ((d < since) | (d > f.decision)), d, "date")
    return o


def _rule_no_current_overdue(f: _Facts, prm: dict) -> _Outcome:
    o = _Outcome("no_current_overdue")
    amt = column_or(f.c, "overdue_elsewhere", np.nan).astype(float)
    o.add("missing", np.isnan(amt), "")
    o.add("elsewhere", amt > prm["max_amount"], amt, "amount")
    o.add("with_us", f.dpd_with_us > 0, f.dpd_with_us, "int")
    return o


def _rule_worst_delinquency(f: _Facts, prm: dict) -> _Outcome:
    o = _Outcome("worst_delinquency")
    d = column_or(f.c, "worst_delinquency_days", np.nan).astype(float)
    o.add("missing", np.isnan(d), "")
    o.add("too_long", d > prm["max_days"], d, "int")
    return o


def _rule_residence(f: _Facts, prm: dict) -> _Outcome:
    o = _Outcome("residence")
    status = column_or(f.c, "residence_status", None)
    since = _dates(f, "residence_since")
    missing = pd.isna(status) | _nat(since)
    o.add("missing", missing, "")
    o.add("status", ~missing & ~np.isin(status, list(prm["statuses"])), status)
    short = ~missing & (since > _months_before(f.decision, prm["min_months"]))
    o.add("short", short & np.isin(status, list(prm["statuses"])), since, "date")
    return o


def _rule_business_operating(f: _Facts, prm: dict) -> _Outcome:
    o = _Outcome("business_operating")
    seg = column_or(f.c, "segment", None)
    business = np.isin(seg, list(prm["segments"]))
    start = _dates(f, "business_start_date")
    o.add("missing", business & _nat(start), "")
    short = business & ~_nat(start) & (start > _months_before(f.decision, prm["min_months"]))
    o.add("short", short, start, "date")
    return o


def _product_column(f: _Facts, products: dict, key: str) -> np.ndarray:
    vals = {k: float(v[key]) for k, v in products.items()}
    return f.a["product"].astype(object).map(vals).to_numpy(dtype=float, na_value=np.nan)


def _loan_rules(f: _Facts, p: Policy) -> list[_Outcome]:
    products, reg = p["products"], p["regulator"]
    prod = f.a["product"].astype(object).to_numpy()
    known = np.isin(prod, list(products))
    out = [_Outcome("product_known")]
    out[0].add("unknown", ~known, prod)
    purpose = f.a["purpose"].astype(object).to_numpy()
    allowed = [f"{k}\x1f{x}" for k, v in products.items() for x in v["purposes"]]
    pairs = f.a["product"].astype(str) + "\x1f" + f.a["purpose"].astype(str)
    o = _Outcome("purpose_allowed")
    o.add("not_listed", known & ~pairs.isin(allowed).to_numpy(dtype=bool), purpose)
    out.append(o)
    amount = f.a["amount"].to_numpy(dtype=float)
    o = _Outcome("amount_within_limits")
    o.add("below", known & (amount < _product_column(f, products, "min_amount")), amount, "amount")
    o.add("above", known & (amount > _product_column(f, products, "max_amount")), amount, "amount")
    batch = pd.Series(amount).groupby(f.a["borrower_id"].to_numpy()).transform("sum").to_numpy()
    total = f.exposure + batch
    o.add("exposure", total > reg["max_borrower_exposure"], total, "amount")
    out.append(o)
    term = f.a["term_months"].to_numpy(dtype=float)
    o = _Outcome("term_within_limits")
    lo, hi = _product_column(f, products, "min_term"), _product_column(f, products, "max_term")
    o.add("outside", known & ((term < lo) | (term > hi)), term, "int")
    out.append(o)
    rate = f.a["annual_rate"].to_numpy(dtype=float)
    o = _Outcome("rate_within_limits")
    lo, hi = _product_column(f, products, "min_rate"), _product_column(f, products, "max_rate")
    ceiling = rate > reg["max_annual_rate"] + 1e-12
    o.add("outside", known & ((rate < lo - 1e-12) | (rate > hi + 1e-12)) & ~ceiling, rate, "pct")
    o.add("ceiling", ceiling, rate, "pct")
    out.append(o)
    return out


_ADMISSION_CHECKS = {
    "age": _rule_age,
    "civil_capacity": _rule_civil_capacity,
    "id_valid": _rule_id_valid,
    "income_stable": _rule_income_stable,
    "income_verified": _rule_income_verified,
    "credit_report": _rule_credit_report,
    "no_current_overdue": _rule_no_current_overdue,
    "worst_delinquency": _rule_worst_delinquency,
    "residence": _rule_residence,
    "business_operating": _rule_business_operating,
}


def _facts(applications, customers, as_of, exposure) -> _Facts:
    a = applications.reset_index(drop=True)
    n = len(a)
    pos = positions(customers["borrower_id"], a["borrower_id"])  # first record of each
    c = customers.iloc[np.maximum(pos, 0)].reset_index(drop=True)
    if (pos < 0).any():  # validated away unless validate=False: unknown applicants have no facts
        c = c.astype(object)
        c.loc[pos < 0, :] = None
    if as_of is None:
        decision = a["application_date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    else:
        decision = np.full(n, np.datetime64(pd.Timestamp(as_of).date(), "D"))
    maturity = _add_months(decision, a["term_months"].to_numpy(dtype=np.int64))
    out = np.zeros(n)
    dpd = np.zeros(n, dtype=np.int64)
    if exposure is not None and len(exposure):
        ep = positions(exposure.index, a["borrower_id"])
        have = ep >= 0
        out = np.where(have, exposure["outstanding"].to_numpy(dtype=float)[np.maximum(ep, 0)], 0)
        dpd = np.where(have, exposure["days_past_due"].to_numpy()[np.maximum(ep, 0)], 0)
        dpd = dpd.astype(np.int64)
    return _Facts(n, a["application_id"].to_numpy(), decision, maturity, c, a, out, dpd)


def _add_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """``days`` plus whole ``months`` (end of month kept within the month), vectorised."""
    d = days.astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    day = (d - m.astype("datetime64[D]")).astype(np.int64)
    target = m + months.astype("timedelta64[M]")
    last = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    return target.astype("datetime64[D]") + np.minimum(day, last - 1).astype("timedelta64[D]")


def borrower_exposure(book, as_of=None) -> pd.DataFrame:
    """Per borrower of ``book``: ``outstanding`` principal and the worst ``days_past_due`` of
    their loans as of ``as_of`` (for :func:`check_admission`'s exposure and overdue checks)."""
    st = book.status(as_of)
    bor = book.loans.set_index("loan_id")["borrower_id"].reindex(st.index)
    g = st.groupby(bor.to_numpy())
    return pd.DataFrame(
        {"outstanding": g["outstanding_principal"].sum(), "days_past_due": g["days_past_due"].max()}
    )


def check_admission(
    applications: pd.DataFrame,
    customers: pd.DataFrame,
    as_of=None,
    *,
    exposure: pd.DataFrame | None = None,
    policy=None,
    validate: bool = True,
) -> AdmissionResult:
    """Admission rules and loan conditions for every application, vectorised.

    Parameters
    ----------
    applications : DataFrame
        Credit applications (:mod:`riskkit.lending.applications`).
    customers : DataFrame
        The customer register (``CustomerRegister.load()`` or ``book.borrowers``).
    as_of : date-like, optional
        The decision date for every application; default each ``application_date``.
    exposure : DataFrame, optional
        Indexed by borrower: ``outstanding`` and ``days_past_due`` with this lender
        (:func:`borrower_exposure`); default none.
    policy : Policy, mapping or path, optional
    validate : bool, default True
        Check the applications first (every bad input named at once).

    Returns
    -------
    AdmissionResult
    """
    p = load_policy(policy) if not isinstance(policy, Policy) else policy
    if validate:
        validate_applications(applications, customers)
    rules = {r.code: r for r in admission_rules(p)}
    f = _facts(applications, customers, as_of, exposure)
    outcomes = [
        _ADMISSION_CHECKS[code](f, rules[code].params)
        for code in ADMISSION_RULES
        if rules[code].enabled
    ]
    outcomes += [o for o in _loan_rules(f, p) if rules[o.code].enabled]
    failures = _failure_table(f, outcomes, rules, p)
    return AdmissionResult(_summary(f, failures, rules), failures, list(rules.values()))


def _failure_table(f: _Facts, outcomes, rules: dict, p: Policy) -> pd.DataFrame:
    parts = []
    for o in outcomes:
        r = rules[o.code]
        fill = _fill_values(o.code, r.params, p)
        for case, mask, value, fmt in o.cases:
            en_t, zh_t = FAILURE_TEXT[(o.code, case)]
            rows = np.flatnonzero(mask)
            v = _format(value[rows], fmt)
            parts.append(
                pd.DataFrame(
                    {
                        "row": rows,
                        "application_id": f.ids[rows],
                        "rule": o.code,
                        "kind": r.kind,
                        "article": r.article,
                        "case": case,
                        "value": v.to_numpy(),
                        "explanation_en": _render(en_t, fill, v),
                        "explanation_zh": _render(zh_t, fill, v),
                    }
                )
            )
    if not parts:
        cols = ["row", "application_id", "rule", "kind", "article", "case", "value"]
        return pd.DataFrame({c: [] for c in cols + ["explanation_en", "explanation_zh"]})
    order = {c: i for i, c in enumerate(ADMISSION_RULES + LOAN_RULES)}
    out = pd.concat(parts, ignore_index=True)
    out["_o"] = out["rule"].map(order)
    out = out.sort_values(["row", "_o"], kind="stable").drop(columns="_o")
    return out.reset_index(drop=True)


def _render(template: str, fill: dict, values: pd.Series) -> np.ndarray:
    """``template`` with the rule's parameters filled and ``{v}`` replaced row by row."""
    head, _, tail = template.partition("{v}")
    head = head.format(**fill)
    tail = tail.format(**fill)
    return (head + values + tail).to_numpy(dtype=object)


def _summary(f: _Facts, failures: pd.DataFrame, rules: dict) -> pd.DataFrame:
    rows = failures["row"].to_numpy(dtype=np.int64)
    adm = failures["kind"].to_numpy() == "admission"
    fail_adm = np.bincount(rows[adm], minlength=f.n) > 0
    fail_loan = np.bincount(rows[~adm], minlength=f.n) > 0
    first_rule = failures.drop_duplicates(["row", "rule"])
    codes = _joined_codes(first_rule, f.n)
    table = pd.DataFrame(
        {
            "borrower_id": f.a["borrower_id"].to_numpy(),
            "decision_date": f.decision.astype("datetime64[ns]"),
            "admitted": ~fail_adm,
            "terms_ok": ~fail_loan,
            "eligible": ~fail_adm & ~fail_loan,
            "n_failed": np.bincount(first_rule["row"].to_numpy(dtype=np.int64), minlength=f.n),
            "failed": codes,
        },
        index=pd.Index(f.ids, name="application_id"),
    )
    return table


def _joined_codes(first_rule: pd.DataFrame, n: int) -> np.ndarray:
    """Per application the failed rule codes joined by commas, in rule order (vectorised: one
    pass per rule, not per application)."""
    rows = first_rule["row"].to_numpy(dtype=np.int64)
    rule = first_rule["rule"].to_numpy(dtype=object)
    failing, pos = np.unique(rows, return_inverse=True)
    sub = np.full(len(failing), "", dtype=object)
    for code in ADMISSION_RULES + LOAN_RULES:
        hit = np.zeros(len(failing), dtype=bool)
        hit[pos[rule == code]] = True
        sub = np.where(hit, np.where(sub == "", code, sub + "," + code), sub)
    out = np.full(n, "", dtype=object)
    out[failing] = sub
    return out


@dataclass
class AdmissionResult(TableResult):
    """Admission and loan conditions for a batch of applications (:func:`check_admission`).

    ``table`` (index ``application_id``): ``borrower_id``, ``decision_date``, ``admitted``
    (every admission rule passed), ``terms_ok`` (every loan condition passed), ``eligible``
    (both), ``n_failed``, ``failed`` (rule codes). ``failures``: one row per failed fact
    (``application_id, rule, kind, article, case, value, explanation_en, explanation_zh``).
    ``rules``: the rules applied, as the policy states them.
    """

    table: pd.DataFrame
    failures: pd.DataFrame
    rules: list

    def to_frame(self) -> pd.DataFrame:
        return self.table.reset_index()

    def failed_codes(self, application_id) -> list[str]:
        """Codes of the rules one application failed, in rule order."""
        f = self.failures[self.failures["application_id"] == application_id]
        return list(pd.unique(f["rule"]))

    def explain(self, application_id, lang: str = "en") -> list[str]:
        """Every rule for one application: ``[pass]`` or ``[fail]`` with the facts."""
        if application_id not in self.table.index:
            raise KeyError(f"no application {application_id!r} in this result")
        f = self.failures[self.failures["application_id"] == application_id]
        col = "explanation_zh" if lang == "zh" else "explanation_en"
        by_rule = f.groupby("rule", sort=False)[col].agg("; ".join)
        head = "admitted" if self.table.at[application_id, "admitted"] else "not admitted"
        if lang == "zh":
            head = "准入通过" if self.table.at[application_id, "admitted"] else "准入未通过"
        lines = [f"{application_id}: {head}"]
        for r in self.rules:
            if not r.enabled:
                continue
            if r.code in by_rule.index:
                lines.append(f"[fail] {r.code} ({r.article}): {by_rule[r.code]}")
            else:
                lines.append(f"[pass] {r.code} ({r.article}): {r.text(lang)}")
        return lines

    def by_rule(self) -> pd.DataFrame:
        """Applications failing each rule (index ``rule``, in rule order), with the share."""
        n = len(self.table)
        counts = self.failures.drop_duplicates(["application_id", "rule"])["rule"].value_counts()
        codes = [r.code for r in self.rules if r.enabled]
        kinds = {r.code: r.kind for r in self.rules}
        out = pd.DataFrame(
            {"kind": [kinds[c] for c in codes], "failed": counts.reindex(codes, fill_value=0)},
            index=pd.Index(codes, name="rule"),
        )
        out["share"] = out["failed"] / n if n else np.nan
        return out

    def __repr__(self) -> str:
        t = self.table
        return (
            f"AdmissionResult({len(t):,} applications: {int(t['admitted'].sum()):,} admitted, "
            f"{int(t['eligible'].sum()):,} eligible (admission and loan conditions), "
            f"{len(self.failures):,} failed facts)"
        )

    def _repr_html_(self) -> str:
        b = self.by_rule()
        b = b[b["failed"] > 0]
        return (
            f"<div><b>Admission 客户准入</b>: {html.escape(repr(self))}"
            f"{b.to_html() if len(b) else ''}</div>"
        )
