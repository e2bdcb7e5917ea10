"""Resident identity card numbers (居民身份证号码, GB 11643-1999): the check character.

Examples
--------
>>> id_number_valid(["11010519491231002X", "110105194912310021"]).tolist()
[True, False]
"""

from __future__ import annotations

import numpy as np

_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK = np.array(list("10X98765432"))


def gb11643_check_digit(first17) -> np.ndarray:
    """Check character (0-9 or X) of 17-digit ID number bodies (GB 11643-1999, ISO 7064 MOD 11-2).

    >>> gb11643_check_digit(["11010519491231002"]).tolist()
    ['X']
    """
    a = np.asarray(first17, dtype="U17")
    digits = a.view("U1").reshape(len(a), 17).astype(np.int64)
    return _CHECK[(digits @ _WEIGHTS) % 11]


def id_number_valid(values) -> np.ndarray:
    """True where a value is 18 characters, 17 digits and the correct check character."""
    v = np.asarray(values, dtype=object).astype(str)
    ok = np.char.str_len(v.astype("U")) == 18
    body = np.where(ok, np.char.ljust(v.astype("U"), 18), "0" * 18)
    body = np.array([s[:17] for s in body.tolist()], dtype="U17")
    digit_ok = np.char.isdigit(body)
    check = np.where(digit_ok, gb11643_check_digit(np.where(digit_ok, body, "0" * 17)), "?")
    last = np.array([s[-1:] for s in v.tolist()], dtype="U1")
    return ok & digit_ok & (last == check)
