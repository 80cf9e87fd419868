"""Small versions of the reliability scripts, in the test command: they must end with every
count at zero (their full sizes are documented in the README)."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_script(script, *args, timeout=1200):
    result = subprocess.run([sys.executable, str(HERE / script), *args], capture_output=True, text=True,
                            timeout=timeout, check=False, cwd=HERE)
    print(result.stdout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_crash_recovery_loses_and_duplicates_nothing():
    out = run_script("crash_recovery.py", "--items", "1000", "--events", "30", "--kill-at", "0.5")
    assert "ok" in out.splitlines()[-1]


def test_fault_injection_ends_every_message_in_a_final_state():
    out = run_script("fault_injection.py", "--orders", "100", "--events", "60", "--items", "500",
                     "--outage", "20", "--outage-orders", "10")
    assert "verdict: ok" in out


def test_hostile_input_is_refused_or_stored_verbatim():
    out = run_script("hostile_input.py", "--strings-rounds", "1")
    assert "verdict: ok" in out
