"""Loan-month panels for migration analysis: the state space and validation at the boundary.

A *panel* is a long table with one row per loan and observation time: a loan id column, a time
column (month-end dates, integer periods, or real-valued times for continuous-time data), a
state column and optionally a balance column. :func:`build_panel` validates it (unknown
states naming the loan id, duplicate loan-time rows, gaps in the monthly observations, a loan
seen again after an absorbing exit, negative balances), collects every problem and raises one
:class:`~riskkit.errors.ValidationError`; it never drops or coerces rows. The result is a
:class:`MigrationPanel` of flat numpy arrays sorted by loan and time, which every estimator in
:mod:`riskkit.migration` consumes.

The default state space is the five categories plus the absorbing exits ``repaid`` (paid off
while performing), ``recovered`` (closed after a non-performing spell: the balance came back
through the workout) and ``written_off`` (核销) (:data:`FIVE_CATEGORY`); any other list of
states works through :meth:`StateSpace.generic`. A recovery is never counted as a
repayment: :func:`panel_from_history` turns a payoff straight out of a non-performing category
into ``recovered`` (:func:`mark_recoveries`).

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({
...     "loan_id": ["A", "A", "A", "B", "B"],
...     "as_of": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"] * 1
...                             + ["2024-01-31", "2024-02-29"]),
...     "category": ["normal", "special_mention", "substandard", "normal", "repaid"],
... })
>>> panel = build_panel(df)
>>> panel.n_loans, panel.n_rows, panel.states.states[:2]
(2, 5, ('normal', 'special_mention'))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..categories import Category
from ..errors import ProblemCollector

TABLE = "panel"


@dataclass(frozen=True)
class StateSpace:
    """States of a migration model and their roles.

    Parameters
    ----------
    states : tuple
        State labels in display order (matrix row/column order).
    absorbing : tuple
        States a loan never leaves (exits such as ``repaid``, ``written_off``).
    npl : tuple
        Non-performing states: their balance over the outstanding balance is the NPL ratio.
    default : tuple
        States whose first reach is the default event (lifetime PD, Monte Carlo losses).
    exits : tuple
        States that leave the book: their balance is no longer outstanding.
    severity : tuple
        All states from best to worst outcome; used by the one-factor stress (a bad
        systematic factor moves loans toward the worst) and to define down-migration.
    """

    states: tuple
    absorbing: tuple = ()
    npl: tuple = ()
    default: tuple = ()
    exits: tuple = ()
    severity: tuple = field(default=())

    def __post_init__(self):
        states = tuple(self.states)
        object.__setattr__(self, "states", states)
        if len(set(states)) != len(states) or not states:
            raise ValueError(f"states must be non-empty and unique, got {states!r}")
        for name in ("absorbing", "npl", "default", "exits", "severity"):
            value = tuple(getattr(self, name))
            unknown = [s for s in value if s not in states]
            if unknown:
                raise ValueError(f"StateSpace.{name}: {unknown!r} not among states {states!r}")
            object.__setattr__(self, name, value)
        if not self.severity:
            object.__setattr__(self, "severity", states)
        elif sorted(map(str, self.severity)) != sorted(map(str, states)):
            raise ValueError("StateSpace.severity must list every state exactly once")

    @classmethod
    def generic(cls, states: Sequence, absorbing: Sequence = (), **roles) -> StateSpace:
        """Any list of states, e.g. rating grades or delinquency buckets."""
        return cls(tuple(states), tuple(absorbing), **{k: tuple(v) for k, v in roles.items()})

    @property
    def labels(self) -> list[str]:
        """State labels as strings."""
        return [str(s) for s in self.states]

    def __len__(self) -> int:
        return len(self.states)

    def index(self, state) -> int:
        """Position of ``state`` (label, or for the five categories any Category form)."""
        if state in self.states:
            return self.states.index(state)
        if str(state) in self.labels:
            return self.labels.index(str(state))
        if self.is_five_category:
            try:
                return self.states.index(Category.parse(state).code)
            except ValueError:
                pass
        raise KeyError(f"unknown state {state!r}; states are {self.labels}")

    def mask(self, names: Sequence) -> np.ndarray:
        """Boolean mask over states for the given labels."""
        out = np.zeros(len(self.states), dtype=bool)
        for s in names:
            out[self.index(s)] = True
        return out

    @property
    def is_five_category(self) -> bool:
        return self.states[:5] == tuple(Category.codes())

    def severity_rank(self) -> np.ndarray:
        """Rank 0 (best) .. S-1 (worst) of each state in matrix order."""
        rank = np.empty(len(self.states), dtype=np.int64)
        for r, s in enumerate(self.severity):
            rank[self.states.index(s)] = r
        return rank

    def to_dict(self) -> dict:
        return {
            k: [str(s) for s in getattr(self, k)]
            for k in ("states", "absorbing", "npl", "default", "exits", "severity")
        }


#: The five categories plus the absorbing exits ``repaid`` (paid off while performing),
#: ``recovered`` (closed out of a non-performing category: a workout recovery, not a
#: repayment) and ``written_off``. ``recovered`` is a default outcome (it follows a default) and
#: the best credit outcome of a defaulted loan, so a bad systematic factor moves loans away from
#: it (:mod:`riskkit.migration.stress`); ``repaid`` is not a credit outcome and is held.
FIVE_CATEGORY = StateSpace(
    states=(*Category.codes(), "repaid", "recovered", "written_off"),
    absorbing=("repaid", "recovered", "written_off"),
    npl=("substandard", "doubtful", "loss"),
    default=("substandard", "doubtful", "loss", "recovered", "written_off"),
    exits=("repaid", "recovered", "written_off"),
    severity=("repaid", "recovered", *Category.codes(), "written_off"),
)

_EXIT_ALIASES = {
    "repaid": "repaid",
    "paid_off": "repaid",
    "已结清": "repaid",
    "recovered": "recovered",
    "清收结清": "recovered",
    "written_off": "written_off",
    "write_off": "written_off",
    "已核销": "written_off",
}


def _state_lookup(space: StateSpace, uniques) -> dict:
    """Map each distinct raw value to a state position (or -1)."""
    out = {}
    for u in uniques:
        code = -1
        if u in space.states:
            code = space.states.index(u)
        elif space is FIVE_CATEGORY or space.is_five_category:
            if isinstance(u, str) and u.strip().lower() in _EXIT_ALIASES:
                code = space.states.index(_EXIT_ALIASES[u.strip().lower()])
            else:
                try:
                    code = space.states.index(Category.parse(u).code)
                except (ValueError, TypeError):
                    code = -1
        out[u] = code
    return out


@dataclass
class MigrationPanel:
    """A validated panel as flat arrays sorted by loan, then time.

    Attributes
    ----------
    states : StateSpace
    loan_ids : ndarray
        Distinct loan ids; ``loan`` indexes into it.
    loan, time, state : ndarray
        Per row: loan position, time (integer month/period number, or float for continuous
        time), state position.
    balance : ndarray or None
        Per-row balance when a balance column was given.
    time_kind : {"month", "period", "continuous"}
    """

    states: StateSpace
    loan_ids: np.ndarray
    loan: np.ndarray
    time: np.ndarray
    state: np.ndarray
    balance: np.ndarray | None
    time_kind: str

    @property
    def n_rows(self) -> int:
        return len(self.loan)

    @property
    def n_loans(self) -> int:
        return len(self.loan_ids)

    @property
    def n_states(self) -> int:
        return len(self.states)

    def time_label(self, t) -> str:
        """Readable label of a time value (``"2024-03"`` for months)."""
        if self.time_kind == "month":
            t = int(t)
            return f"{t // 12:04d}-{t % 12 + 1:02d}"
        return str(t)

    def last_row(self) -> np.ndarray:
        """Index of each loan's last row (loans in ``loan_ids`` order)."""
        ends = np.flatnonzero(np.r_[self.loan[1:] != self.loan[:-1], True])
        return ends

    def to_frame(self) -> pd.DataFrame:
        """Back to a long DataFrame (loan_id, time, state[, balance])."""
        out = {
            "loan_id": self.loan_ids[self.loan],
            "time": self.time,
            "state": np.asarray(self.states.labels, dtype=object)[self.state],
        }
        if self.balance is not None:
            out["balance"] = self.balance
        return pd.DataFrame(out)

    def __repr__(self) -> str:
        span = ""
        if self.n_rows:
            span = f", time {self.time_label(self.time.min())}..{self.time_label(self.time.max())}"
        return (
            f"MigrationPanel({self.n_loans} loans, {self.n_rows} rows, "
            f"{len(self.states)} states{span})"
        )


def _month_number(values: pd.Series) -> np.ndarray:
    ts = pd.DatetimeIndex(values)
    return (ts.year.to_numpy(np.int64) * 12 + ts.month.to_numpy(np.int64) - 1).astype(np.int64)


def build_panel(
    df: pd.DataFrame,
    *,
    id_col: str = "loan_id",
    time_col: str = "as_of",
    state_col: str = "category",
    balance_col: str | None = None,
    states: StateSpace | Sequence | None = None,
    continuous: bool = False,
    allow_gaps: bool = False,
) -> MigrationPanel:
    """Validate a loan-month (or loan-period) panel and return a :class:`MigrationPanel`.

    Parameters
    ----------
    df : DataFrame
        One row per loan and observation time.
    id_col, time_col, state_col : str
        Column names. ``time_col`` holds datetimes (each is mapped to its calendar month),
        integers (period numbers), or with ``continuous=True`` real-valued times.
    balance_col : str, optional
        Outstanding balance at the observation (for balance-weighted migration rates).
    states : StateSpace or sequence, optional
        Default :data:`FIVE_CATEGORY` (category codes, English/Chinese labels or 0..4, plus
        ``repaid``/``written_off``). A plain sequence gives a generic state space.
    continuous : bool
        Real-valued times (Aalen-Johansen on event data); disables the gap check.
    allow_gaps : bool
        Accept loans with missing periods between first and last observation (the missing
        transitions are then unobserved). Default: a gap is an error.

    Raises
    ------
    ValidationError
        Listing every problem with column, rule and the loan ids concerned.
    """
    space = _as_state_space(states)
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"panel must be a pandas DataFrame, got {type(df).__name__}")
    pc = ProblemCollector(TABLE)
    needed = [id_col, time_col, state_col] + ([balance_col] if balance_col else [])
    missing = [c for c in needed if c not in df.columns]
    if missing:
        pc.add(TABLE, ",".join(missing), f"required column(s) missing; have {list(df.columns)}")
        pc.raise_if_any()

    ids = df[id_col]
    pc.check(TABLE, id_col, ids.isna(), ids, "loan id must not be missing")
    time, kind = _observation_times(df[time_col], ids, time_col, continuous, pc)
    state = _state_codes(df[state_col], ids, state_col, space, pc)
    balance = _balances(df[balance_col], ids, balance_col, pc) if balance_col else None
    pc.raise_if_any()
    assert time is not None  # every invalid time column was reported above

    codes, loan_ids = pd.factorize(ids, sort=True)
    order = _loan_time_order(codes.astype(np.int64), time, kind)
    loan, time, state = codes.astype(np.int64)[order], time[order], state[order].astype(np.int16)
    rid = ids.to_numpy()[order]
    if balance is not None:
        balance = balance[order]
    _check_sequences(loan, time, state, rid, space, kind, allow_gaps, (id_col, time_col, state_col))
    return MigrationPanel(space, np.asarray(loan_ids), loan, time, state, balance, kind)


def _as_state_space(states: StateSpace | Sequence | None) -> StateSpace:
    """:data:`FIVE_CATEGORY` for None, a :class:`StateSpace` as given, else a generic one."""
    if states is None:
        return FIVE_CATEGORY
    if isinstance(states, StateSpace):
        return states
    return StateSpace.generic(states)


def _observation_times(
    tcol: pd.Series, ids: pd.Series, time_col: str, continuous: bool, pc: ProblemCollector
) -> tuple[np.ndarray | None, str]:
    """Observation times as month numbers, periods or real times, and their kind; problems go
    to ``pc`` (times are None when they cannot be read)."""
    if pd.api.types.is_datetime64_any_dtype(tcol.dtype) and not continuous:
        bad = tcol.isna()
        pc.check(TABLE, time_col, bad, ids, "observation time must not be missing")
        return (None if bad.any() else _month_number(tcol)), "month"
    if pd.api.types.is_integer_dtype(tcol.dtype) and not continuous:
        return tcol.to_numpy(dtype=np.int64), "period"
    if continuous and pd.api.types.is_numeric_dtype(tcol.dtype) and not tcol.dtype == bool:
        vals = tcol.to_numpy(dtype=float)
        pc.check(TABLE, time_col, ~np.isfinite(vals), ids, "time must be a finite number")
        return vals, "continuous"
    if pd.api.types.is_float_dtype(tcol.dtype):
        vals = tcol.to_numpy(dtype=float)
        pc.check(
            TABLE,
            time_col,
            ~np.isfinite(vals) | (vals != np.round(vals)),
            ids,
            "period must be a whole number (use continuous=True for real-valued times)",
        )
        return np.round(np.nan_to_num(vals)).astype(np.int64), "period"
    pc.add(
        TABLE,
        time_col,
        f"time column must be datetime or integer period (or numeric with continuous=True), "
        f"got dtype {tcol.dtype}",
    )
    return None, "period"


def _state_codes(
    raw: pd.Series, ids: pd.Series, state_col: str, space: StateSpace, pc: ProblemCollector
) -> np.ndarray:
    """State code of every row (-1 where missing or unknown, reported to ``pc``)."""
    pc.check(TABLE, state_col, raw.isna(), ids, "state must not be missing")
    uniques = pd.unique(raw.dropna())
    lookup = _state_lookup(space, uniques)
    codes_u = np.array([lookup[u] for u in uniques], dtype=np.int64)
    pos = pd.Index(uniques).get_indexer(raw) if len(uniques) else np.full(len(raw), -1)
    state = np.where(pos >= 0, codes_u[np.maximum(pos, 0)] if len(codes_u) else -1, -1)
    unknown = (state < 0) & raw.notna().to_numpy()
    if unknown.any():
        shown = sorted({str(u) for u, c in lookup.items() if c < 0})[:8]
        pc.check(
            TABLE,
            state_col,
            unknown,
            ids,
            f"unknown state value(s) {shown}; expected one of {space.labels}",
        )
    return state


def _balances(
    bcol: pd.Series, ids: pd.Series, balance_col: str, pc: ProblemCollector
) -> np.ndarray | None:
    """Balances as floats, finite and non-negative (problems to ``pc``)."""
    if not pd.api.types.is_numeric_dtype(bcol.dtype) or bcol.dtype == bool:
        pc.add(TABLE, balance_col, f"balance must be numeric, got dtype {bcol.dtype}")
        return None
    balance = bcol.to_numpy(dtype=float)
    pc.check(TABLE, balance_col, ~np.isfinite(balance), ids, "balance must be finite")
    pc.check(TABLE, balance_col, balance < 0, ids, "balance must be >= 0")
    return balance


def _loan_time_order(codes: np.ndarray, time: np.ndarray, kind: str) -> np.ndarray:
    """Row order by loan, then time (no sort when the extract is already in that order)."""
    if kind == "continuous" or len(time) == 0:
        return np.lexsort((time, codes))
    # one int64 key; skip the sort when the extract is already sorted by loan and time
    key = codes * (int(time.max()) - int(time.min()) + 1) + (time - time.min())
    if (key[1:] >= key[:-1]).all():
        return np.arange(len(key))
    return np.argsort(key, kind="stable")


def _check_sequences(loan, time, state, rid, space, kind, allow_gaps, columns) -> None:
    """Each loan's rows, in time order: no duplicate times, no gaps (unless allowed), nothing
    after an absorbing exit. Raises :class:`ValidationError` listing every problem."""
    id_col, time_col, state_col = columns
    pc = ProblemCollector(TABLE)
    same = loan[1:] == loan[:-1]
    dup = np.r_[False, same & (time[1:] == time[:-1])]
    pc.check(TABLE, f"{id_col},{time_col}", dup, rid, "duplicate observation of a loan at one time")
    if kind != "continuous" and not allow_gaps:
        gap = np.r_[False, same & (time[1:] - time[:-1] > 1)]
        pc.check(
            TABLE,
            time_col,
            gap,
            rid,
            "gap in observations: loan missing for one or more periods between its first and "
            "last row (pass allow_gaps=True to treat them as unobserved)",
        )
    absorbing = space.mask(space.absorbing)
    after_exit = np.r_[False, same & absorbing[state[:-1]] & (state[1:] != state[:-1])]
    pc.check(
        TABLE,
        state_col,
        after_exit,
        rid,
        f"loan changes state after an absorbing exit state {list(space.absorbing)}",
    )
    pc.raise_if_any()


def _history_frame(history, id_col: str, time_col: str) -> pd.DataFrame:
    """One long DataFrame from the accepted forms of classification history."""
    if hasattr(history, "load") and hasattr(history, "dates"):  # ClassificationHistory
        history = history.load()
    if isinstance(history, pd.DataFrame):
        parts = [history]
    elif hasattr(history, "to_frame") and hasattr(history, "as_of"):  # ClassificationResult
        parts = [history]
    elif isinstance(history, Sequence) and not isinstance(history, str):
        parts = list(history)
    else:
        raise TypeError(
            "history must be a DataFrame, a ClassificationHistory, a ClassificationResult or a "
            f"list of them / of monthly result frames, got {type(history).__name__}"
        )
    frames = []
    for k, part in enumerate(parts):
        if hasattr(part, "to_frame") and hasattr(part, "as_of"):
            part = part.to_frame()  # ClassificationResult: as_of and loan_id as columns
        if not isinstance(part, pd.DataFrame):
            raise TypeError(
                f"history item {k}: expected a ClassificationResult or DataFrame, got "
                f"{type(part).__name__}"
            )
        if id_col not in part.columns and part.index.name == id_col:
            part = part.reset_index()
        if time_col not in part.columns:
            raise ValueError(
                f"history item {k}: no {time_col!r} column to place it in time (have "
                f"{list(part.columns)[:12]}); pass ClassificationResult objects or frames from "
                "ClassificationHistory.load()"
            )
        frames.append(part)
    if not frames:
        raise ValueError("history is empty: no monthly results to build a panel from")
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def panel_with_exits(
    history: pd.DataFrame,
    labels,
    exits: dict,
    *,
    id_col: str,
    time_col: str,
    balance_col: str | None,
    states: StateSpace | None = None,
    table: str = TABLE,
) -> MigrationPanel:
    """Panel from per-row state ``labels`` of a loan-month history and boolean exit flags.

    ``exits`` maps an absorbing exit state to its flag column (``{"repaid": "paid_off"}``;
    a column that is None or absent is not used; a later entry wins where both flag a row).
    A loan exits at the first row of its *final* run of flagged rows: that row becomes the
    exit state and the later rows, repeating the exit, are not kept. A flagged row followed
    by an unflagged one (a loan reported paid off, then owing again, e.g. interest falling
    due after an early principal payoff) is not an exit: it keeps its label. Flags must be
    True or False (a clear error otherwise).
    """
    pc = ProblemCollector(table)
    ids = history[id_col]
    labels = np.asarray(labels, dtype=object).copy()
    flagged = np.zeros(len(history), dtype=bool)
    kind = np.full(len(history), None, dtype=object)
    for name, col in exits.items():
        if col and col in history.columns:
            v = history[col]
            bad = v.isna().to_numpy() | ~v.isin([True, False]).to_numpy()
            pc.check(table, col, bad, ids, "exit flag must be True or False")
            flag = ~bad & v.isin([True]).to_numpy()
            kind[flag] = name
            flagged |= flag
    pc.raise_if_any()
    frame = pd.DataFrame({id_col: ids.to_numpy(), time_col: history[time_col].to_numpy()})
    if balance_col and balance_col in history.columns:
        frame["_balance"] = history[balance_col].to_numpy(dtype=float)
    if flagged.any():
        order = np.lexsort((frame[time_col].to_numpy(), pd.factorize(frame[id_col])[0]))
        frame, labels, flagged, kind = frame.iloc[order], labels[order], flagged[order], kind[order]
        loan = pd.factorize(frame[id_col])[0]  # 0, 1, ... in sorted order
        unflagged = np.cumsum(~flagged)
        ends = np.flatnonzero(np.r_[loan[1:] != loan[:-1], True])
        # a flagged row with no unflagged row after it in its loan: the final run
        final = flagged & (unflagged == unflagged[ends][loan])
        first = final & ~np.r_[False, final[:-1] & (loan[1:] == loan[:-1])]
        labels = np.where(first, kind, labels)
        keep = ~final | first
        frame, labels = frame[keep], labels[keep]
    frame["_state"] = labels
    return build_panel(
        frame,
        id_col=id_col,
        time_col=time_col,
        state_col="_state",
        balance_col="_balance" if "_balance" in frame.columns else None,
        states=states,
    )


def mark_recoveries(panel: MigrationPanel) -> MigrationPanel:
    """A ``repaid`` exit straight out of a non-performing state becomes ``recovered``.

    A loan that closes while substandard, doubtful or loss was paid off through its workout
    (the borrower's last-ditch payment, the guarantor, the collateral, the estate): a recovery,
    not a repayment. A loan that cured to a performing category first and then paid off is
    ``repaid``. Needs a state space with ``repaid``, ``recovered`` and NPL states (else the
    panel is returned unchanged). Vectorised; returns a new panel.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"loan_id": ["A", "A", "B", "B", "B"], "as_of": [0, 1, 0, 1, 2],
    ...                    "category": ["doubtful", "repaid", "substandard", "normal", "repaid"]})
    >>> mark_recoveries(build_panel(df)).to_frame()["state"].tolist()
    ['doubtful', 'recovered', 'substandard', 'normal', 'repaid']
    """
    sp = panel.states
    if not ({"repaid", "recovered"} <= set(sp.labels)) or not sp.npl or panel.n_rows < 2:
        return panel
    repaid, recovered = sp.index("repaid"), sp.index("recovered")
    npl = sp.mask(sp.npl)
    st = panel.state
    prev_npl = np.r_[False, npl[st[:-1]] & (panel.loan[1:] == panel.loan[:-1])]
    hit = (st == repaid) & prev_npl
    if not hit.any():
        return panel
    state = st.copy()
    state[hit] = recovered
    return MigrationPanel(
        sp, panel.loan_ids, panel.loan, panel.time, state, panel.balance, panel.time_kind
    )


def panel_from_history(
    history,
    *,
    id_col: str = "loan_id",
    time_col: str = "as_of",
    category_col: str = "category",
    balance_col: str | None = "outstanding_principal",
    paid_off_col: str | None = "paid_off",
    written_off_col: str | None = "written_off",
) -> MigrationPanel:
    """Panel from a classification history (one row per loan and month-end).

    Parameters
    ----------
    history : DataFrame, ClassificationHistory, ClassificationResult or list
        What :meth:`riskkit.classification.ClassificationHistory.load` returns without a date
        (every stored month, long), the history object itself, or a list of monthly
        :class:`~riskkit.classification.ClassificationResult` objects or of their stored
        frames (``ClassificationHistory.load(as_of)``, indexed by loan id with an ``as_of``
        column). Any long DataFrame with these columns works too.
    id_col, time_col, category_col, balance_col : str
        Columns; ``balance_col`` is used when present (balance-weighted migration).
    paid_off_col, written_off_col : str, optional
        Boolean exit flags, used when the column is present. A loan leaves the book at the
        first row of its final run of flagged rows: a ``paid_off`` row becomes the absorbing
        exit ``repaid`` (the classifier calls a paid-off loan ``normal``; here it has left
        the book), a ``written_off`` row ``written_off`` (a write-off wins over a payoff in
        the same month); the later rows repeat the exit and are not kept. A loan flagged paid
        off and then owing again (interest falling due after an early principal payoff) has
        not left the book: those rows keep their category. See :func:`panel_with_exits`.
        A payoff straight out of a non-performing category is a recovery: ``recovered``, not
        ``repaid`` (:func:`mark_recoveries`).

    Notes
    -----
    A loan missing from a month between its first and last row is an error (a gap); a loan
    whose rows stop without an exit is censored (not counted after its last month).

    Examples
    --------
    >>> import pandas as pd
    >>> h = pd.DataFrame({"loan_id": ["A", "A", "A"],
    ...                   "as_of": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"]),
    ...                   "category": ["loss", "normal", "normal"],
    ...                   "outstanding_principal": [500.0, 0.0, 0.0],
    ...                   "paid_off": [False, True, True]})
    >>> panel_from_history(h).to_frame()["state"].tolist()
    ['loss', 'recovered']
    """
    h = _history_frame(history, id_col, time_col)
    if category_col not in h.columns:
        pc = ProblemCollector(TABLE)
        pc.add(TABLE, category_col, f"required column is missing; have {list(h.columns)[:12]}")
        pc.raise_if_any()
    panel = panel_with_exits(
        h,
        h[category_col].astype(object).to_numpy(),
        {"repaid": paid_off_col, "written_off": written_off_col},
        id_col=id_col,
        time_col=time_col,
        balance_col=balance_col,
    )
    return mark_recoveries(panel)


def as_panel(X, estimator) -> MigrationPanel:
    """``X`` itself if it is a :class:`MigrationPanel`, else :func:`build_panel` of it with the
    estimator's column and state parameters (``id_col``, ``time_col``, ``state_col``,
    ``states`` and, where the estimator has them, ``balance_col``, ``continuous``,
    ``allow_gaps``)."""
    if isinstance(X, MigrationPanel):
        return X
    return build_panel(
        X,
        id_col=estimator.id_col,
        time_col=estimator.time_col,
        state_col=estimator.state_col,
        balance_col=getattr(estimator, "balance_col", None),
        states=estimator.states,
        continuous=getattr(estimator, "continuous", False),
        allow_gaps=getattr(estimator, "allow_gaps", False),
    )


class PanelInputMixin:
    """scikit-learn tags of the migration estimators: they read a loan-month panel (a
    DataFrame with id, time and state columns, or a :class:`MigrationPanel`), not a numeric
    2-D array, so scikit-learn's data-driven estimator checks do not apply to them (as for
    its own one-dimensional IsotonicRegression); the API checks do (tests/test_estimator_api.py).
    Put it before ``BaseEstimator`` among the bases."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()  # type: ignore[misc]  # BaseEstimator's, after in the MRO
        tags.input_tags.two_d_array = False
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags
