"""The customer register (客户档案, seed 000 arts. 6-9): one record per customer with what
admission needs, kept in the store with every change on record (who, when, what, why).

The register has the columns of the loan book's ``borrowers`` table
(:data:`riskkit.book.schema.BORROWERS`): ``borrower_id``, ``segment``, ``monthly_income`` and
the customer-register fields of :data:`~riskkit.book.schema.CUSTOMER_COLUMNS` (date of birth,
civil capacity, ID document and its expiry, income source and verification date, credit-report
date, prior loans and worst past delinquency, amount overdue elsewhere, residence, business
start), plus any further attributes (name, ID number and phone are personal data: masked by
:mod:`riskkit.privacy` in every frame this module returns for display).

* :func:`validate_customer_record` checks the rules across fields (dates in order, counts and
  amounts not negative, a resident ID number well formed) for a whole table at once; the
  loan book calls it for its ``borrowers`` table.
* :class:`CustomerRegister` keeps the register in a :class:`~riskkit.store.Store`:
  ``record`` adds new customers and changes existing ones (only the columns given), writing one
  history row per changed field into the append-only table ``customer_register_history``
  (``change_id, borrower_id, field, old_value, new_value, changed_by, changed_at, reason``);
  nothing is written when any row is invalid.

Examples
--------
>>> import pandas as pd
>>> from riskkit.store import Store
>>> reg = CustomerRegister(Store("sqlite://"))
>>> c = pd.DataFrame({"borrower_id": ["B1"], "segment": ["trader"], "name": ["张三"],
...                   "monthly_income": [8000.0]})
>>> reg.record(c, changed_by="O01", reason="new customer").n_changes
1
>>> reg.update("B1", changed_by="O01", reason="income re-verified", monthly_income=9500.0)
RegisterChange(1 customer(s), 1 change(s) by 'O01': income re-verified)
>>> reg.history()[["borrower_id", "field", "old_value", "new_value"]].iloc[-1].tolist()
['B1', 'monthly_income', '8000', '9500']
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..errors import ProblemCollector, ValidationError, is_blank
from ..privacy import PII_COLUMNS, mask_frame
from ..results import TableResult
from .schema import BORROWERS, Column

TABLE = "customer_register"
HISTORY = "customer_register_history"
HISTORY_COLUMNS = (
    "change_id",
    "borrower_id",
    "field",
    "old_value",
    "new_value",
    "changed_by",
    "changed_at",
    "reason",
)
#: ``field`` of the history row written when a customer enters the register.
CREATED = "(new customer)"
_SPEC: dict[str, Column] = {c.name: c for c in BORROWERS.columns}
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_DATE_ORDER = (
    # (earlier, later, rule): a person is born before anything else happens to them
    ("birth_date", "business_start_date", "business started before the date of birth"),
    ("birth_date", "residence_since", "residence starts before the date of birth"),
    ("birth_date", "onboarding_date", "onboarded before the date of birth"),
    ("birth_date", "income_verified_date", "income verified before the date of birth"),
)


def validate_customer_record(customers: pd.DataFrame, errors: ProblemCollector) -> None:
    """Rules across the customer-register fields of ``customers`` (one row per customer),
    recorded in ``errors``: counts and amounts not negative, dates in a possible order, an ID
    expiry or the long-term flag for every recorded ID, and a resident ID number with its
    GB 11643 check character. Columns that are absent are not checked.

    Examples
    --------
    >>> errors = ProblemCollector("customers")
    >>> validate_customer_record(pd.DataFrame({"borrower_id": ["B1"],
    ...     "worst_delinquency_days": [-3]}), errors)
    >>> str(errors.problems[0])
    'borrowers.worst_delinquency_days: must not be negative [1 row(s); customer B1]'
    """
    ids = customers["borrower_id"] if "borrower_id" in customers.columns else customers.index
    for col in ("prior_loans", "prior_delinquency", "worst_delinquency_days", "overdue_elsewhere"):
        if col in customers.columns and _numeric(customers[col]):
            v = customers[col].to_numpy(dtype=float, na_value=np.nan)
            errors.check("borrowers", col, v < 0, ids, "must not be negative")
    for early, late, rule in _DATE_ORDER:
        if {early, late} <= set(customers.columns) and _dates(customers[[early, late]]):
            bad = (customers[late] < customers[early]).to_numpy(dtype=bool, na_value=False)
            errors.check("borrowers", late, bad, ids, rule)
    if "id_expiry_date" in customers.columns and "id_long_term" in customers.columns:
        both = customers["id_expiry_date"].notna() & _true(customers["id_long_term"])
        errors.check(
            "borrowers",
            "id_expiry_date",
            both.to_numpy(dtype=bool),
            ids,
            "an ID valid long-term (id_long_term) has no expiry date",
        )
    _check_resident_ids(customers, ids, errors)


def _numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def _dates(df: pd.DataFrame) -> bool:
    return all(pd.api.types.is_datetime64_any_dtype(df[c].dtype) for c in df.columns)


def _true(s: pd.Series) -> pd.Series:
    return s.astype("boolean").fillna(False).astype(bool)


def _check_resident_ids(customers: pd.DataFrame, ids, errors: ProblemCollector) -> None:
    if not {"id_type", "id_number"} <= set(customers.columns):
        return
    from .identity import id_number_valid

    resident = (customers["id_type"].astype(object) == "resident_id").to_numpy(dtype=bool)
    given = customers["id_number"].notna().to_numpy(dtype=bool)
    rows = np.flatnonzero(resident & given)
    if not len(rows):
        return
    ok = id_number_valid(customers["id_number"].to_numpy(dtype=object)[rows])
    bad = np.zeros(len(customers), dtype=bool)
    bad[rows[~ok]] = True
    # the rule names the customer, never the number itself (personal data)
    errors.check(
        "borrowers",
        "id_number",
        bad,
        ids,
        "not a valid resident ID number (18 characters, GB 11643 check character)",
    )


def validate_customers(customers: pd.DataFrame) -> None:
    """Check a customer-register table on its own (column kinds, allowed values, unique
    ``borrower_id``, the rules of :func:`validate_customer_record`); raise one
    :class:`~riskkit.errors.ValidationError` listing every problem."""
    from .validate import validate_table

    errors = ProblemCollector("customer register")
    if not isinstance(customers, pd.DataFrame):
        raise TypeError(f"customers must be a pandas DataFrame, got {type(customers).__name__}")
    bad_names = [str(c) for c in customers.columns if not _NAME_RE.match(str(c))]
    for c in bad_names:
        errors.add("borrowers", c, "column names must be lower-case letters, digits and _")
    errors.raise_if_any()
    if validate_table(customers, "borrowers", errors):
        validate_customer_record(customers, errors)
    errors.raise_if_any()


# ---------------------------------------------------------------------------------------------
# the register in the store


@dataclass(frozen=True, repr=False)
class RegisterChange(TableResult):
    """What one :meth:`CustomerRegister.record` wrote: ``table`` holds the history rows
    (masked), one per changed field (``field == "(new customer)"`` for a new customer)."""

    table: pd.DataFrame
    changed_by: str
    reason: str

    @property
    def n_changes(self) -> int:
        """History rows written."""
        return len(self.table)

    @property
    def customers(self) -> list:
        """Customers added or changed."""
        return list(pd.unique(self.table["borrower_id"]))

    def __repr__(self) -> str:
        return (
            f"RegisterChange({len(self.customers)} customer(s), {self.n_changes} change(s) "
            f"by {self.changed_by!r}: {self.reason})"
        )

    def _repr_html_(self) -> str:
        return (
            f"<div><b>Customer register 客户档案</b>: {html.escape(repr(self))}"
            f"{self.table.to_html(index=False)}</div>"
        )


class CustomerRegister:
    """The customer register in a store: current records plus an append-only change history.

    Parameters
    ----------
    store : riskkit.store.Store
    """

    def __init__(self, store):
        self.store = store

    def __repr__(self) -> str:
        n = len(self.load()) if self.store.has_table(TABLE) else 0
        return f"CustomerRegister({n:,} customers in {self.store!r})"

    # --- reading ------------------------------------------------------------------------
    def load(self, borrower_ids=None) -> pd.DataFrame:
        """Current records (unmasked: for rules such as admission, never for display) of every
        customer or of ``borrower_ids``, sorted by ``borrower_id``, with the register's column
        types."""
        if not self.store.has_table(TABLE):
            return _conform(pd.DataFrame({c.name: [] for c in BORROWERS.required}))
        if borrower_ids is None:
            df = self.store.read(TABLE)
        else:
            ids = [str(i) for i in pd.unique(np.atleast_1d(np.asarray(borrower_ids, dtype=object)))]
            parts = [self.store.read(TABLE, where_in={"borrower_id": ids[k : k + 5000]})
                     for k in range(0, len(ids), 5000)] or [self.store.read(TABLE, where_in={"borrower_id": [""]})]  # fmt: skip
            df = pd.concat(parts, ignore_index=True)
        df = df.sort_values("borrower_id", kind="stable", ignore_index=True)
        return _conform(df)

    def view(self, borrower_ids=None) -> pd.DataFrame:
        """Records for display: personal data masked (:func:`riskkit.privacy.mask_frame`),
        indexed by ``borrower_id``."""
        df = self.load(borrower_ids)
        return mask_frame(df).set_index("borrower_id")

    def history(self, borrower_id=None) -> pd.DataFrame:
        """Change history, oldest first; old and new values of personal fields masked."""
        if not self.store.has_table(HISTORY):
            return pd.DataFrame({c: pd.Series(dtype=object) for c in HISTORY_COLUMNS})
        where = {"borrower_id": str(borrower_id)} if borrower_id is not None else None
        h = self.store.read(HISTORY, where=where, order_by="change_id")
        return mask_history(h)

    # --- writing ------------------------------------------------------------------------
    def record(
        self, customers: pd.DataFrame, changed_by: str | None, reason: str | None, changed_at=None
    ) -> RegisterChange:
        """Add new customers and change existing ones, with the change history, atomically.

        Parameters
        ----------
        customers : DataFrame
            ``borrower_id`` plus the columns to set; a new customer needs ``segment``. Columns
            not given are left as they are. For a batch of changes by different people, give
            ``changed_by``, ``reason`` (and ``changed_at``) as columns and None here.
        changed_by : str or None
            Who made the change (staff id, or e.g. ``"extract 2026-10-31"`` for a load from the
            core system).
        reason : str or None
            Why (required).
        changed_at : date-like, optional
            Default: now.

        Returns
        -------
        RegisterChange
        """
        customers, meta = _split_meta(customers, changed_by, reason, changed_at)
        if isinstance(customers, pd.DataFrame) and "borrower_id" in customers.columns:
            current = self.load(customers["borrower_id"])
        else:
            current = self.load([])
        merged, history = _merge(current, customers)
        validate_customers(merged)
        who = meta.set_index("borrower_id").reindex(history["borrower_id"])
        history = history.assign(
            changed_by=who["changed_by"].to_numpy(),
            changed_at=who["changed_at"].to_numpy(),
            reason=who["reason"].to_numpy(),
        )
        if len(history):
            changed = pd.unique(history["borrower_id"])
            rows = merged[merged["borrower_id"].isin(changed)]
            with self.store.transaction() as conn:
                _replace_rows(self.store, conn, rows, changed)
                history = self.store.append_numbered(HISTORY, history, "change_id", conn)
        by = ", ".join(pd.unique(meta["changed_by"]).astype(str)[:3])
        why = "; ".join(pd.unique(meta["reason"]).astype(str)[:3])
        return RegisterChange(mask_history(history), by, why)

    def update(self, borrower_id, changed_by: str, reason: str, changed_at=None, **fields):
        """Change fields of one customer: ``register.update("B1", "O01", "why", phone=...)``."""
        if not fields:
            raise ValueError("give at least one field to change, e.g. monthly_income=9500")
        row = pd.DataFrame({"borrower_id": [borrower_id], **{k: [v] for k, v in fields.items()}})
        known = self.load([borrower_id])
        if not len(known):
            raise ValidationError(
                [_problem("borrower_id", f"unknown customer {borrower_id!r}; add with record()")],
                "customer register change",
            )
        return self.record(_typed_like(row, known), changed_by, reason, changed_at)


def register_from_book(store, book, changed_by: str | None = None) -> RegisterChange:
    """Load (or refresh) the register from a loan book's ``borrowers`` table, e.g. after a
    new extract: new customers are added, changed fields recorded as history rows by
    ``changed_by`` (default ``"extract <as-of date>"``)."""
    when = book.as_of_date
    who = changed_by or f"extract {when.date() if when is not None else ''}".strip()
    return CustomerRegister(store).record(
        book.borrowers, who, "loan-book extract", changed_at=when if when is not None else None
    )


def mask_history(h: pd.DataFrame) -> pd.DataFrame:
    """History rows with old and new values of personal fields masked."""
    from ..privacy import mask_id_number, mask_name, mask_phone

    out = h.copy()
    if not len(out):
        return out
    maskers = {"name": mask_name, "id_number": mask_id_number, "phone": mask_phone}
    for col in ("old_value", "new_value"):
        for field, fn in maskers.items():
            sel = (out["field"] == field).to_numpy(dtype=bool)
            if sel.any():
                out.loc[sel, col] = out.loc[sel, col].map(fn, na_action="ignore")
        other_pii = out["field"].isin([p for p in PII_COLUMNS if p not in maskers])
        out.loc[other_pii.to_numpy(dtype=bool), col] = "***"
    return out


_META_COLUMNS = ("changed_by", "reason", "changed_at")


def _split_meta(customers, changed_by, reason, changed_at):
    """The register columns, and who/why/when per customer (arguments or columns), checked."""
    if not isinstance(customers, pd.DataFrame) or "borrower_id" not in customers.columns:
        return customers, pd.DataFrame({"borrower_id": [], **{c: [] for c in _META_COLUMNS}})
    n = len(customers)
    now = pd.Timestamp.now() if changed_at is None else pd.Timestamp(changed_at)
    given = {"changed_by": changed_by, "reason": reason, "changed_at": now}
    meta = pd.DataFrame({"borrower_id": customers["borrower_id"].to_numpy()})
    for c in _META_COLUMNS:
        col = customers[c] if c in customers.columns and given[c] is None else None
        meta[c] = col.to_numpy() if col is not None else [given[c]] * n
    if "changed_at" in customers.columns and changed_at is None:
        meta["changed_at"] = customers["changed_at"].to_numpy()
    meta["changed_at"] = pd.to_datetime(meta["changed_at"]).dt.floor("s")
    errors = ProblemCollector("customer register change")
    ids = meta["borrower_id"]
    errors.check("change", "changed_by", is_blank(meta["changed_by"]), ids,
                 "who made the change is required")  # fmt: skip
    errors.check("change", "reason", is_blank(meta["reason"]), ids, "a reason is required")
    if not n:
        errors.check("change", "changed_by", is_blank(pd.Series([changed_by], dtype=object)),
                     ["-"], "who made the change is required")  # fmt: skip
        errors.check("change", "reason", is_blank(pd.Series([reason], dtype=object)), ["-"],
                     "a reason is required")  # fmt: skip
    errors.raise_if_any()
    for c in ("changed_by", "reason"):
        meta[c] = meta[c].astype(str).str.strip()
    return customers.drop(columns=[c for c in _META_COLUMNS if c in customers.columns]), meta


def _problem(column: str, rule: str):
    from ..errors import Problem

    return Problem("borrowers", column, rule)


def _typed_like(row: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """One-row frame with dates parsed where the register holds dates."""
    out = row.copy()
    for c in out.columns:
        kind = _SPEC[c].kind if c in _SPEC else None
        is_date = kind == "date" or (
            c in like.columns and pd.api.types.is_datetime64_any_dtype(like[c].dtype)
        )
        if is_date:
            out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
    return out


def _merge(current: pd.DataFrame, incoming: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The register after applying ``incoming``, and one history row per changed field."""
    if not isinstance(incoming, pd.DataFrame) or "borrower_id" not in incoming.columns:
        raise ValidationError(
            [_problem("borrower_id", "required column is missing")], "customer register change"
        )
    inc = incoming.reset_index(drop=True)
    dup = inc["borrower_id"].duplicated(keep=False).to_numpy()
    if dup.any():
        errors = ProblemCollector("customer register change")
        errors.check("borrowers", "borrower_id", dup, inc["borrower_id"], "duplicate id")
        errors.raise_if_any()
    cur = current.set_index("borrower_id", drop=False)
    new_ids = ~inc["borrower_id"].isin(cur.index).to_numpy(dtype=bool)
    cols = [c for c in inc.columns if c != "borrower_id"]
    rows = []
    for c in cols:
        old = cur[c].reindex(inc["borrower_id"]) if c in cur.columns else None
        rows.append(_field_changes(inc, c, old, new_ids))
    created = pd.DataFrame(
        {
            "borrower_id": inc["borrower_id"].to_numpy()[new_ids],
            "field": CREATED,
            "old_value": None,
            "new_value": None,
        }
    )
    history = pd.concat([created, *rows], ignore_index=True)
    merged = _apply(current, inc)
    return merged, history.astype({"old_value": object, "new_value": object})


def _field_changes(inc: pd.DataFrame, col: str, old, new_ids: np.ndarray) -> pd.DataFrame:
    new_txt = _as_text(inc[col])
    if old is None:
        old_txt = pd.Series([None] * len(inc), dtype=object)
    else:
        old_txt = _as_text(old.reset_index(drop=True))
    differ = (old_txt.fillna("\0") != new_txt.fillna("\0")).to_numpy(dtype=bool) & ~new_ids
    return pd.DataFrame(
        {
            "borrower_id": inc["borrower_id"].to_numpy()[differ],
            "field": col,
            "old_value": old_txt.to_numpy(dtype=object)[differ],
            "new_value": new_txt.to_numpy(dtype=object)[differ],
        }
    )


def _as_text(s: pd.Series) -> pd.Series:
    """Values as history text: dates YYYY-MM-DD, whole numbers without decimals, NA -> None."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        t = s.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_bool_dtype(s.dtype):
        t = s.astype(object).map(lambda v: str(bool(v)).lower(), na_action="ignore")
    elif pd.api.types.is_numeric_dtype(s.dtype):
        t = s.astype(object).map(_number_text, na_action="ignore")
    else:
        t = s.astype(object).map(str, na_action="ignore")
    return t.astype(object).where(s.notna().to_numpy(), None)


def _number_text(v) -> str:
    f = float(v)
    return str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)


def _apply(current: pd.DataFrame, inc: pd.DataFrame) -> pd.DataFrame:
    cur = current.set_index("borrower_id")
    new = inc.set_index("borrower_id")
    both = cur.index.intersection(new.index)
    out = cur.copy()
    for c in new.columns:
        if c not in out.columns:
            out[c] = pd.Series(pd.NA, index=out.index, dtype=new[c].dtype)
        if len(both):
            out.loc[both, c] = new.loc[both, c].to_numpy()
    added = new.loc[new.index.difference(cur.index, sort=False)]
    if len(added):
        out = pd.concat([out, added], axis=0) if len(out) else added.copy()
    out.index.name = "borrower_id"
    return _conform(out.reset_index())


def _conform(df: pd.DataFrame) -> pd.DataFrame:
    """The register's column types: dates datetime64, counts integers (nullable when a value
    is missing), amounts float, flags boolean, text str."""
    out = df.copy()
    for c in out.columns:
        spec = _SPEC.get(c)
        s = out[c]
        if spec is None:
            if pd.api.types.is_object_dtype(s.dtype):
                out[c] = _text(s)
            continue
        if spec.kind == "date":
            out[c] = pd.to_datetime(s).astype("datetime64[ns]")
        elif spec.kind == "int":
            out[c] = s.astype("Int64") if s.isna().any() else s.astype(np.int64)
        elif spec.kind == "num":
            out[c] = s.astype(float)
        elif spec.kind == "bool":
            out[c] = s.astype("boolean") if s.isna().any() else s.astype(bool)
        else:
            out[c] = _text(s)
    return out


def _text(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), None).astype("str")


def _replace_rows(store, conn, rows: pd.DataFrame, ids) -> None:
    """Delete the stored records of ``ids`` and insert ``rows`` (adding new columns first)."""
    insp = sa.inspect(conn)
    if insp.has_table(TABLE):
        have = {c["name"] for c in insp.get_columns(TABLE)}
        prep = conn.dialect.identifier_preparer
        for c in rows.columns:
            if c not in have:  # names checked against _NAME_RE in validate_customers
                sql_type = _sql_type(rows[c]).compile(dialect=conn.dialect)
                conn.execute(sa.text(f"ALTER TABLE {TABLE} ADD COLUMN {prep.quote(c)} {sql_type}"))
        stmt = sa.text(f"DELETE FROM {TABLE} WHERE borrower_id IN :ids").bindparams(
            sa.bindparam("ids", expanding=True)
        )
        ids = [str(i) for i in ids]
        for k in range(0, len(ids), 5000):
            conn.execute(stmt, {"ids": ids[k : k + 5000]})
    store.append(TABLE, rows, conn=conn)


def _sql_type(s: pd.Series):
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return sa.DateTime()
    if pd.api.types.is_bool_dtype(s.dtype):
        return sa.Boolean()
    if pd.api.types.is_integer_dtype(s.dtype):
        return sa.BigInteger()
    if pd.api.types.is_float_dtype(s.dtype):
        return sa.Float()
    return sa.Text()
