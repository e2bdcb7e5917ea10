"""Fuzz suite (issue 15): hypothesis over riskkit's boundaries. Bounded so that `make test`
stays fast (a few seconds per target); ``RISKKIT_FUZZ_EXAMPLES=2000`` runs deeper locally."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

EXAMPLES = int(os.environ.get("RISKKIT_FUZZ_EXAMPLES", "0")) or None


def fuzz_settings(examples: int):
    """Hypothesis settings of one fuzz target: ``examples`` cases (or the environment's)."""
    return settings(
        max_examples=EXAMPLES or examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        derandomize=EXAMPLES is None,  # the same cases on every CI run; fresh ones locally
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    )
