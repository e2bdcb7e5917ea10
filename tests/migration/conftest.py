import numpy as np
import pytest

from riskkit.migration import TransitionMatrix

# A known monthly matrix over the default state space (normal .. loss, repaid, recovered,
# written_off). Non-performing loans leave through recovered or written_off, never repaid.
KNOWN = np.array(
    [
        [0.900, 0.040, 0.005, 0.000, 0.000, 0.055, 0.000, 0.000],
        [0.300, 0.450, 0.150, 0.030, 0.000, 0.070, 0.000, 0.000],
        [0.050, 0.050, 0.550, 0.300, 0.020, 0.000, 0.030, 0.000],
        [0.010, 0.000, 0.040, 0.700, 0.200, 0.000, 0.020, 0.030],
        [0.000, 0.000, 0.000, 0.000, 0.800, 0.000, 0.010, 0.190],
        [0.000, 0.000, 0.000, 0.000, 0.000, 1.000, 0.000, 0.000],
        [0.000, 0.000, 0.000, 0.000, 0.000, 0.000, 1.000, 0.000],
        [0.000, 0.000, 0.000, 0.000, 0.000, 0.000, 0.000, 1.000],
    ]
)


@pytest.fixture
def known_tm():
    return TransitionMatrix(KNOWN)
