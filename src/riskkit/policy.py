"""Policies as data: classification thresholds, inspection frequencies, provision ratios,
scorecard scaling and credit limits, with documented defaults (``policy_defaults.yaml``) that an
institution overrides in its own YAML file.

Examples
--------
>>> from riskkit.policy import load_policy
>>> p = load_policy({"provisions": {"specific_ratio": {"substandard": 0.3}}})
>>> p["provisions"]["specific_ratio"]["substandard"], p["provisions"]["general_ratio"]
(0.3, 0.01)
"""

from __future__ import annotations

import copy
import datetime as _dt
import functools
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml


@functools.lru_cache(maxsize=1)
def _parsed_defaults() -> dict:
    text = resources.files("riskkit").joinpath("policy_defaults.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _defaults() -> dict:
    """The documented defaults (parsed once; a fresh copy each time)."""
    return copy.deepcopy(_parsed_defaults())


#: Sections whose entries an institution may add to (its own products), each new entry with
#: exactly the keys of the first default entry.
OPEN_SECTIONS = ("products",)


def _merge(base: dict, override: Mapping, path: str = "") -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in base and path in OPEN_SECTIONS and base:
            template = next(iter(base.values()))
            if not isinstance(value, Mapping) or set(value) != set(template):
                raise KeyError(
                    f"new policy entry {where!r} needs exactly the keys {sorted(template)}"
                )
            out[key] = _merge(template, value, where)
            continue
        if key not in base:
            raise KeyError(f"unknown policy key {where!r}; known keys here: {sorted(base)}")
        if isinstance(base[key], dict):
            if not isinstance(value, Mapping):
                raise TypeError(f"policy key {where!r} must be a mapping, got {value!r}")
            out[key] = _merge(base[key], value, where)
        else:
            if isinstance(base[key], bool) != isinstance(value, bool):
                raise TypeError(f"policy key {where!r} must be a boolean like its default")
            if isinstance(base[key], (int, float)) and not isinstance(base[key], bool):
                if not isinstance(value, (int, float)) or isinstance(value, bool):
                    raise TypeError(f"policy key {where!r} must be a number, got {value!r}")
                signed = base[key] < 0 or where.startswith("provisions.float.")
                if value < 0 and not signed:
                    raise ValueError(f"policy key {where!r} must be >= 0, got {value!r}")
            out[key] = value
    return out


class Policy(dict):
    """A nested mapping of policy settings. ``Policy.source`` says where overrides came from."""

    source: str = "defaults"

    def get_path(self, dotted: str) -> Any:
        """Value at a dotted path, e.g. ``"provisions.general_ratio"``."""
        node: Any = self
        for part in dotted.split("."):
            node = node[part]
        return node

    def to_yaml(self) -> str:
        return yaml.safe_dump(dict(self), allow_unicode=True, sort_keys=False)

    def __repr__(self) -> str:
        return f"Policy(source={self.source!r}, sections={list(self)})"


def load_policy(override: str | Path | Mapping | Policy | None = None) -> Policy:
    """Default policy, deep-merged with an institution's overrides.

    Parameters
    ----------
    override : path to a YAML file, mapping, Policy or None
        Only the keys to change; unknown keys raise ``KeyError``.
    """
    if isinstance(override, Policy):
        return override
    base = _defaults()
    source = "defaults"
    if override is None:
        data: Mapping = {}
    elif isinstance(override, (str, Path)):
        path = Path(override)
        if not path.exists():
            raise FileNotFoundError(f"policy file not found: {path}")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, ValueError) as exc:
            # YAML reads 2026-13-01 as a date and fails inside the parser: say where
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise ValueError(f"policy file {path} cannot be read{where}: {exc}") from exc
        source = str(path)
        if not isinstance(data, Mapping):
            raise TypeError(f"policy file {path} must contain a mapping at top level")
    else:
        data = override
        source = "mapping"
    policy = Policy(_merge(base, data))
    policy.source = source
    _check(policy)
    return policy


def parse_dates(values, where: str) -> np.ndarray:
    """Dates of a policy list (e.g. ``inspection.calendar.holidays``) as sorted
    ``datetime64[D]``; an entry that is not a date is an error naming the policy key and the
    entry (never skipped)."""
    if values is None:
        return np.array([], dtype="datetime64[D]")
    if not isinstance(values, list | tuple | np.ndarray):
        raise TypeError(f"policy key {where!r} must be a list of dates, got {values!r}")
    out = []
    for i, v in enumerate(values):
        if isinstance(v, _dt.datetime):
            v = v.date()
        if isinstance(v, np.datetime64):
            v = str(v.astype("datetime64[D]"))
        try:
            d = v if isinstance(v, _dt.date) else _dt.date.fromisoformat(str(v))
        except ValueError:
            raise ValueError(
                f"policy key {where!r}: entry {i} ({v!r}) is not a date (YYYY-MM-DD)"
            ) from None
        out.append(np.datetime64(d, "D"))
    return np.array(sorted(out), dtype="datetime64[D]")


def _check(p: Policy) -> None:
    mp = p["classification"]["missed_periods"]
    if not (0 < mp["special_mention"] < mp["substandard"] < mp["doubtful"]):
        raise ValueError(
            "classification.missed_periods must increase: "
            f"special_mention < substandard < doubtful, got {mp}"
        )
    bs = p["classification"]["dpd_backstops"]
    if not (bs["substandard_over"] < bs["doubtful_over"] < bs["loss_over"]):
        raise ValueError(f"classification.dpd_backstops days must increase, got {bs}")
    for k, v in p["provisions"]["specific_ratio"].items():
        if not 0 <= v <= 1:
            raise ValueError(f"provisions.specific_ratio.{k} must be in [0, 1], got {v}")
    cal = p["inspection"]["calendar"]
    hol = parse_dates(cal["holidays"], "inspection.calendar.holidays")
    extra = parse_dates(cal["working_weekends"], "inspection.calendar.working_weekends")
    weekday = extra[np.is_busday(extra)]
    if len(weekday):
        raise ValueError(
            "inspection.calendar.working_weekends must be Saturdays or Sundays; "
            f"{', '.join(map(str, weekday))} is a weekday"
        )
    both = np.intersect1d(hol, extra)
    if len(both):
        raise ValueError(
            "inspection.calendar: a day cannot be a holiday and a working day: "
            + ", ".join(map(str, both))
        )
    st = p["scorecard"]["stability"]
    if not (0 < st["psi_monitor"] < st["psi_shifted"]):
        raise ValueError(f"scorecard.stability needs 0 < psi_monitor < psi_shifted, got {dict(st)}")
    _check_workout(p)
    band = p["provisions"]["float_band"]
    for k, v in p["provisions"]["float"].items():
        if abs(v) > band + 1e-12:
            raise ValueError(f"provisions.float.{k}={v} outside the allowed band +/-{band}")


def _check_workout(p: Policy) -> None:
    """Floors within the regulator's ranges, ECL scenario weights, write-off authority."""
    ad = p["adequacy"]
    for floor, rng in (
        ("provision_coverage_floor", "provision_coverage_range"),
        ("loan_provision_ratio_floor", "loan_provision_ratio_range"),
    ):
        lo, hi = (float(v) for v in ad[rng])
        if not lo <= float(ad[floor]) <= hi:
            raise ValueError(
                f"adequacy.{floor}={ad[floor]} outside the range the regulator allows "
                f"(adequacy.{rng} = [{lo}, {hi}])"
            )
    sc = p["scenarios"]
    if not 0 <= float(sc["rho"]) < 1:
        raise ValueError(f"scenarios.rho must be in [0, 1), got {sc['rho']}")
    for name, d in sc["definitions"].items():
        if not isinstance(d["z"], list) or not d["z"]:
            raise ValueError(f"scenarios.definitions.{name}.z must be a non-empty list of Z")
    w = sum(float(d["ecl_weight"]) for d in sc["definitions"].values())
    if abs(w - 1.0) > 1e-9:
        raise ValueError(f"scenarios.definitions: ECL weights must sum to 1, got {w:g}")
    if sc["stress"] not in sc["definitions"]:
        raise ValueError(f"scenarios.stress {sc['stress']!r} is not among the definitions")
    for role, limit in p["write_off"]["authority"].items():
        if limit is not None and (not isinstance(limit, int | float) or limit < 0):
            raise ValueError(f"write_off.authority.{role} must be a number >= 0 or null")
