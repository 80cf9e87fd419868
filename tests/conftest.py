"""Suite-level tests: the repository root is importable (legacy_sim)."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="module")
def sims():
    from legacy_sim import start_simulators

    simulators = start_simulators(items=250, suppliers=12, demands=5)
    yield simulators
    simulators.stop()


# Simulators a module's tests share (fixtures of these names), reset before each test using them.
RESET_BEFORE_EACH_TEST = ("sims", "peer", "gateway")


@pytest.fixture(autouse=True)
def _reset_simulators(request):
    for name in RESET_BEFORE_EACH_TEST:
        if name in request.fixturenames:
            request.getfixturevalue(name).reset()
