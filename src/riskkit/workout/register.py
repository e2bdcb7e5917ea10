"""The write-off register (呆账核销登记簿): the only way a loan leaves the book written off.

Each entry records one approved write-off: the loan, the write-off date, the principal (and
any interest) written off, the eligibility rule that held on that date, its regulatory basis,
who proposed and who approved it (with the approver's role) and why. The register is the
append-only table ``write_off_register`` in the :class:`~riskkit.store.Store`; rows are never
updated or deleted (a loan is written off once; recoveries afterwards are payments on the
loan, 账销案存). Entries are validated together before anything is written
(:func:`validate_write_offs`): unknown or already written-off loans, dates outside the loan's
life or after the book's date, blank proposer/approver/reason, a proposer approving their own
write-off, a loan not eligible on its date under the policy's rules
(:mod:`riskkit.workout.eligibility`), a principal that is not the outstanding principal then,
or an amount above the approver role's authority are errors naming the loan and the rule;
nothing is written.

Classification reads the register (:meth:`WriteOffRegister.written_off`): a loan written off
on or before the as-of date is off the balance sheet.

Examples
--------
>>> from riskkit.store import Store
>>> reg = WriteOffRegister(Store("sqlite://"))
>>> len(reg.load()), reg
(0, WriteOffRegister(0 write-offs))
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ProblemCollector, is_blank
from ..policy import Policy, load_policy
from .eligibility import BASIS, role_limit, write_off_eligibility

TABLE = "write_off_register"
COLUMNS = (
    "write_off_id",
    "loan_id",
    "write_off_date",
    "principal",
    "interest",
    "amount",
    "rule",
    "basis",
    "proposer",
    "approver",
    "approver_role",
    "reason",
    "recorded_at",
)
_REQUIRED = ("loan_id", "write_off_date", "proposer", "approver", "approver_role", "reason")
_TEXT = ("proposer", "approver", "approver_role", "reason")


def _empty() -> pd.DataFrame:
    kinds: dict[str, object] = {"write_off_date": "datetime64[ns]", "recorded_at": "datetime64[ns]"}
    kinds.update(dict.fromkeys(("principal", "interest", "amount"), float))
    kinds["write_off_id"] = np.int64
    return pd.DataFrame({c: pd.Series(dtype=kinds.get(c, object)) for c in COLUMNS})


def _dates(df: pd.DataFrame, errors: ProblemCollector) -> pd.Series:
    raw = df["write_off_date"]
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        d = raw.astype("datetime64[ns]")
    else:
        d = pd.to_datetime(raw, errors="coerce", format="ISO8601")
        errors.check("write_offs", "write_off_date", d.isna(), df["loan_id"], "not a date")
    errors.check("write_offs", "write_off_date", raw.isna(), df["loan_id"], "missing date")
    return d.dt.normalize()


def _amounts(df: pd.DataFrame, col: str, errors: ProblemCollector) -> pd.Series | None:
    if col not in df.columns:
        return None
    v = df[col]
    if not pd.api.types.is_numeric_dtype(v.dtype) or pd.api.types.is_bool_dtype(v.dtype):
        errors.add("write_offs", col, f"must be numeric, got dtype {v.dtype}")
        return None
    x = v.astype(float)
    errors.check("write_offs", col, ~np.isfinite(x) | (x < 0), df["loan_id"], "must be >= 0")
    return x


def _check_people(df: pd.DataFrame, pol: Policy, errors: ProblemCollector) -> None:
    ids = df["loan_id"]
    for c in _TEXT:
        errors.check("write_offs", c, is_blank(df[c]), ids, f"{c} is required")
    roles = list(pol["write_off"]["authority"])
    unknown = ~df["approver_role"].astype(str).isin(roles).to_numpy() & ~is_blank(
        df["approver_role"]
    )
    errors.check("write_offs", "approver_role", unknown, ids, f"unknown role; roles: {roles}")
    if pol["write_off"]["separate_proposer_approver"]:
        same = df["proposer"].astype(str).str.strip() == df["approver"].astype(str).str.strip()
        errors.check(
            "write_offs",
            "approver",
            same.to_numpy() & ~is_blank(df["approver"]),
            ids,
            "the proposer may not approve their own write-off (separation of duties)",
        )


def _check_loans(df, dates, book, previous, errors: ProblemCollector) -> np.ndarray:
    """Known loans, not written off before, once per batch, dated within the loan's life."""
    ids = df["loan_id"]
    loans = book.loans.set_index("loan_id")
    known = ids.isin(loans.index).to_numpy()
    errors.check("write_offs", "loan_id", ~known, ids, "unknown loan")
    errors.check("write_offs", "loan_id", ids.duplicated(keep=False), ids, "loan listed twice")
    before = ids.isin(previous["loan_id"]).to_numpy()
    errors.check("write_offs", "loan_id", before, ids, "already written off (register)")
    disb = ids.map(loans["disbursement_date"]).to_numpy(dtype="datetime64[ns]")
    early = known & (dates.to_numpy(dtype="datetime64[ns]") < disb)
    errors.check("write_offs", "write_off_date", early, ids, "before disbursement")
    if book.as_of_date is not None:
        late = (dates > book.as_of_date).to_numpy(dtype=bool, na_value=False)
        errors.check(
            "write_offs",
            "write_off_date",
            late,
            ids,
            f"after the book's date {book.as_of_date.date()}",
        )
    return known & ~before


def borrowers_book(book, loan_ids):
    """``book`` restricted to every loan of the borrowers of ``loan_ids`` (what classifying
    those loans needs, borrower-level consistency included)."""
    loans = book.loans
    ids = pd.Index(np.asarray(loan_ids, dtype=object))
    if "borrower_id" not in loans.columns:
        return book.subset(ids)
    who = loans.loc[loans["loan_id"].astype(object).isin(ids).to_numpy(), "borrower_id"]
    return book.subset(loans.loc[loans["borrower_id"].isin(who).to_numpy(), "loan_id"])


def _eligibility_on_dates(book, df, dates, pol, previous) -> pd.DataFrame:
    """Eligibility of each entry's loan on its write-off date (one classification per date)."""
    from ..classification import Classifier

    parts = []
    clf = Classifier(pol)
    book = borrowers_book(book, df["loan_id"])
    for d in sorted(dates.dropna().unique()):  # a loop over dates, not loans
        d = pd.Timestamp(d)
        sub = book.disbursed_by(d)
        res = clf.classify(sub, d, write_offs=previous if len(previous) else None)
        el = write_off_eligibility(sub, res, pol)
        want = df.loc[(dates == d).to_numpy(), "loan_id"]
        parts.append(el.reindex(want.astype(object).to_numpy()))
    if not parts:
        return pd.DataFrame(columns=["eligible", "rules", "principal"])
    out = pd.concat(parts)
    return out[~out.index.duplicated()]


def validate_write_offs(
    entries,
    book,
    previous: pd.DataFrame | None = None,
    policy: Policy | dict | str | None = None,
) -> pd.DataFrame:
    """Check write-off entries against the book, the register so far and the policy.

    Parameters
    ----------
    entries : DataFrame or list of dict
        ``loan_id``, ``write_off_date``, ``proposer``, ``approver``, ``approver_role``,
        ``reason``; optional ``rule`` (default: the first rule that holds), ``principal``
        (must equal the outstanding principal on the date; default: that principal) and
        ``interest`` (default 0).
    book : LoanBook
    previous : DataFrame, optional
        The register so far (:meth:`WriteOffRegister.load`).
    policy : Policy, mapping or path, optional

    Returns
    -------
    DataFrame with the register's columns (without ``write_off_id`` and ``recorded_at``).

    Raises
    ------
    riskkit.errors.ValidationError
        Listing every problem (column, loan id, rule); nothing is written.
    """
    pol = load_policy(policy)
    df = (pd.DataFrame(entries) if not isinstance(entries, pd.DataFrame) else entries).copy()
    df = df.reset_index(drop=True)
    previous = _empty() if previous is None else previous
    errors = ProblemCollector("write-off register")
    errors.require("write_offs", df, _REQUIRED)
    errors.raise_if_any()
    dates = _dates(df, errors)
    principal_in = _amounts(df, "principal", errors)
    interest = _amounts(df, "interest", errors)
    _check_people(df, pol, errors)
    usable = _check_loans(df, dates, book, previous, errors)
    errors.raise_if_any()
    el = _eligibility_on_dates(book, df, dates, pol, previous).reindex(df["loan_id"])
    ids = df["loan_id"]
    ok = el["eligible"].fillna(False).to_numpy(dtype=bool)
    errors.check(
        "write_offs",
        "loan_id",
        usable & ~ok,
        ids,
        "not eligible for write-off on its date under any enabled rule of write_off.rules",
    )
    rule = (
        df["rule"].astype(object)
        if "rule" in df.columns
        else pd.Series(None, index=df.index, dtype=object)
    )
    given = ~is_blank(rule)
    holds = np.array(
        [str(r) in str(h).split(",") for r, h in zip(rule, el["rules"].fillna(""), strict=True)]
    )
    errors.check("write_offs", "rule", given & ok & ~holds, ids, "that rule does not hold then")
    rule = rule.where(given, el["rule"].to_numpy())
    principal = el["principal"].to_numpy(dtype=float)
    if principal_in is not None:
        off = ok & (np.abs(principal_in.to_numpy() - principal) > 0.01)
        errors.check(
            "write_offs",
            "principal",
            off,
            ids,
            "is not the outstanding principal on the write-off date",
        )
    intr = np.zeros(len(df)) if interest is None else interest.to_numpy()
    amount = principal + intr
    limit = np.array([_limit(r, pol) for r in df["approver_role"].astype(str)])
    errors.check(
        "write_offs",
        "approver_role",
        ok & (amount > limit),
        ids,
        "amount above the approver role's authority (write_off.authority)",
    )
    errors.raise_if_any()
    return pd.DataFrame(
        {
            "loan_id": ids.to_numpy(),
            "write_off_date": dates.to_numpy(dtype="datetime64[ns]"),
            "principal": principal,
            "interest": intr,
            "amount": amount,
            "rule": rule.astype(str).to_numpy(),
            "basis": rule.map(BASIS).fillna("").astype(str).to_numpy(),
            "proposer": df["proposer"].astype(str).str.strip().to_numpy(),
            "approver": df["approver"].astype(str).str.strip().to_numpy(),
            "approver_role": df["approver_role"].astype(str).to_numpy(),
            "reason": df["reason"].astype(str).str.strip().to_numpy(),
        }
    )


def _limit(role: str, pol: Policy) -> float:
    try:
        return role_limit(role, pol)
    except KeyError:
        return np.inf  # reported as an unknown role


class WriteOffRegister:
    """The append-only write-off register in a :class:`~riskkit.store.Store`.

    Parameters
    ----------
    store : riskkit.store.Store
    """

    def __init__(self, store):
        self.store = store

    def __repr__(self) -> str:
        return f"WriteOffRegister({len(self.load())} write-offs)"

    def load(self, as_of=None) -> pd.DataFrame:
        """Register rows (written off on or before ``as_of`` if given), oldest id first."""
        if not self.store.has_table(TABLE):
            return _empty()
        df = self.store.read(TABLE, order_by="write_off_id")
        if as_of is not None:
            df = df[df["write_off_date"] <= pd.Timestamp(as_of)].reset_index(drop=True)
        return df

    def written_off(self, as_of=None) -> pd.DataFrame:
        """``loan_id`` and ``write_off_date`` of loans written off by ``as_of`` (the classifier's
        ``write_offs`` input)."""
        return self.load(as_of)[["loan_id", "write_off_date"]]

    def _load_in(self, conn) -> pd.DataFrame:
        """The register read through the caller's connection (inside its transaction)."""
        import sqlalchemy as sa

        if not sa.inspect(conn).has_table(TABLE):
            return _empty()
        df = pd.read_sql(sa.text(f"SELECT * FROM {TABLE} ORDER BY write_off_id"), conn)
        for c in ("write_off_date", "recorded_at"):
            df[c] = pd.to_datetime(df[c], format="ISO8601")
        return df

    def record(self, entries, book, policy: Policy | dict | str | None = None, conn=None):
        """Validate ``entries`` (see :func:`validate_write_offs`) and append them in one
        transaction (``conn``: inside the caller's). Returns the rows written with their
        ``write_off_id`` and ``recorded_at``."""
        previous = self.load() if conn is None else self._load_in(conn)
        rows = validate_write_offs(entries, book, previous, policy)
        rows["recorded_at"] = pd.Timestamp.now().floor("s")
        if conn is not None:
            return self.store.append_numbered(TABLE, rows, "write_off_id", conn)
        with self.store.transaction() as c:
            return self.store.append_numbered(TABLE, rows, "write_off_id", c)


def load_write_offs(store, as_of=None) -> pd.DataFrame | None:
    """The register's ``loan_id``/``write_off_date`` up to ``as_of``, or None if the store has
    no register (the classifier's ``write_offs`` input)."""
    if store is None or not store.has_table(TABLE):
        return None
    return WriteOffRegister(store).written_off(as_of)
