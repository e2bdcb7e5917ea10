"""Deprecated names, kept for one release with a :class:`DeprecationWarning`.

Examples
--------
>>> import warnings
>>> def plot_thing(x):
...     return x + 1
>>> thing_plot = renamed(plot_thing, "thing_plot")
>>> with warnings.catch_warnings(record=True) as w:
...     warnings.simplefilter("always")
...     thing_plot(1)
2
>>> str(w[0].message)
'thing_plot is deprecated, use plot_thing (removed in riskkit 0.3)'
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

#: The release that removes the names deprecated by the one-result convention (issue 11).
REMOVED_IN = "0.3"

F = TypeVar("F", bound=Callable[..., Any])


def _warn(old: str, new: str) -> None:
    warnings.warn(
        f"{old} is deprecated, use {new} (removed in riskkit {REMOVED_IN})",
        DeprecationWarning,
        stacklevel=3,
    )


def renamed(func: F, old: str) -> F:
    """``func`` under its former name ``old``: same call, with a :class:`DeprecationWarning`."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _warn(old, func.__name__)
        return func(*args, **kwargs)

    wrapper.__name__ = wrapper.__qualname__ = old
    wrapper.__doc__ = f"Deprecated name of :func:`{func.__module__}.{func.__name__}`."
    return wrapper  # type: ignore[return-value]


class deprecated_alias:  # noqa: N801 - used like ``property``
    """A read-only attribute that returns another attribute with a :class:`DeprecationWarning`.

    Parameters
    ----------
    new : str
        Name of the attribute that replaces this one.
    """

    def __init__(self, new: str):
        self.new = new
        self.old = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.old = name

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        cls = type(obj).__name__
        _warn(f"{cls}.{self.old}", f"{cls}.{self.new}")
        return getattr(obj, self.new)
