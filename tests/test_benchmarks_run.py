"""The benchmark scripts keep working: each runs on a small size and prints its table."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_bench(script, *args):
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "bench" / script), *args], capture_output=True,
                            text=True, timeout=900, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_mapping_benchmark_agrees_with_hand_written_code():
    out = run_bench("bench_mapping.py", "--count", "2000")
    assert "compiled 25-line mapping" in out and "engine speed / hand-written speed" in out


def test_soap_cache_benchmark():
    out = run_bench("bench_soap_client_cache.py", "--calls", "10")
    assert "ratio per-call / cached" in out


def test_reconciliation_benchmark_runs_a_small_size():
    out = run_bench("bench_inventory.py", "--sizes", "2000", "--items", "300", "--skip-replenishment")
    assert "Reconciliation" in out and "2,000" in out
