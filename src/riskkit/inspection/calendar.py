"""Working days for inspection deadlines: Monday to Friday, less the institution's public
holidays, plus its make-up working days on weekends (调休), from policy ``inspection.calendar``.

Both lists are empty by default (a plain Mon-Fri week): the State Council publishes each
year's holiday schedule late in the year before, so an institution lists its own, e.g.::

    inspection:
      calendar:
        holidays: [2026-10-01, 2026-10-02, 2026-10-05, 2026-10-06, 2026-10-07]
        working_weekends: [2026-09-27, 2026-10-10]

Examples
--------
>>> import numpy as np
>>> d = np.array(["2026-09-30"], dtype="datetime64[D]")       # Wednesday
>>> str(add_working_days(d, 2)[0])                          # plain week: Friday
'2026-10-02'
>>> str(add_working_days(d, 2, holidays=["2026-10-01", "2026-10-02"])[0])
'2026-10-06'
>>> str(add_working_days(d, 2, holidays=["2026-10-01", "2026-10-02"],
...                      working_weekends=["2026-10-03"])[0])
'2026-10-05'
"""

from __future__ import annotations

import numpy as np

from ..policy import parse_dates


def add_working_days(dates, n: int, holidays=(), working_weekends=()) -> np.ndarray:
    """The ``n``-th working day after each of ``dates`` (vectorised).

    A date that is not a working day counts from the working day before it, so a Saturday
    disbursement's working day 1 is the Monday (as with ``numpy.busday_offset(...,
    roll="backward", holidays=...)``, which this equals when there are no make-up days).

    Parameters
    ----------
    dates : array of datetime64
    n : int, >= 0
    holidays, working_weekends : lists of dates
        Public holidays (not working days even on weekdays) and weekend days that are working
        days (make-up days).
    """
    d = np.asarray(dates).astype("datetime64[D]")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    hol = parse_dates(list(holidays), "holidays")
    extra = parse_dates(list(working_weekends), "working_weekends")
    out = np.full(d.shape, np.datetime64("NaT"), dtype="datetime64[D]")  # NaT stays NaT
    ok = ~np.isnat(d)
    if not ok.any():
        return out
    # every day from before the first date to past the last, marked working or not; the
    # margins outlast any run of days off the lists can make
    gap = 7 + 2 * len(hol)  # k weekday holidays in a row span at most 7k/5 + 2 days
    lo = d[ok].min() - np.timedelta64(gap, "D")
    hi = d[ok].max() + np.timedelta64(2 * (n + gap), "D")
    days = np.arange(lo, hi + np.timedelta64(1, "D"), dtype="datetime64[D]")
    working = np.is_busday(days)
    working &= ~np.isin(days, hol)
    working |= np.isin(days, extra)
    work = days[working]
    pos = np.searchsorted(work, d[ok], side="right") - 1  # working day on or before each date
    out[ok] = work[pos + n]
    return out
