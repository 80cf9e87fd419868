"""Plain unit tests of the addons' ORM-free parts (transports, payload, mapping).

The addon package is registered without running its ``__init__`` (which imports Odoo), so
``hc_integration_base.transports`` and friends import exactly as inside Odoo, minus the ORM.
"""

import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT / "addons" / "hc_integration_base"

if "hc_integration_base" not in sys.modules:
    package = types.ModuleType("hc_integration_base")
    package.__path__ = [str(ADDON)]
    sys.modules["hc_integration_base"] = package
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
