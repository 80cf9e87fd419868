"""Shared helpers of the benchmark scripts (run them from the repository root)."""

import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT / "addons" / "hc_integration_base"


def plain_imports():
    """Make legacy_sim and the addon's ORM-free packages importable without Odoo."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if "hc_integration_base" not in sys.modules:
        package = types.ModuleType("hc_integration_base")
        package.__path__ = [str(ADDON)]
        sys.modules["hc_integration_base"] = package


def table(headers, rows):
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*headers))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))
