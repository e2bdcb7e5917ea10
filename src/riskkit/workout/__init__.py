"""After default: write-off eligibility and the write-off register, recoveries and realised
(workout) LGD.

Modules: :mod:`~riskkit.workout.eligibility` (which loans may be written off, by policy),
:mod:`~riskkit.workout.register` (the append-only write-off register in the store),
:mod:`~riskkit.workout.lgd` (default events, recovery cash flows, realised LGD with CIs).

Examples
--------
>>> from riskkit.workout import WriteOffRegister, write_off_eligibility
>>> WriteOffRegister.__name__
'WriteOffRegister'
"""

from .eligibility import BASIS, required_role, write_off_eligibility
from .lgd import LGDResult, default_events, realised_lgd, workout_cash_flows
from .register import WriteOffRegister, load_write_offs, validate_write_offs

__all__ = [
    "BASIS",
    "LGDResult",
    "WriteOffRegister",
    "default_events",
    "realised_lgd",
    "workout_cash_flows",
    "load_write_offs",
    "required_role",
    "validate_write_offs",
    "write_off_eligibility",
]
