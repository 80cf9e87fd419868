"""Plain unit tests of the addons' ORM-free parts (transports, payload, mapping).

The addon package is registered without running its ``__init__`` (which imports Odoo), so
``hc_integration_base.transports`` and friends import exactly as inside Odoo, minus the ORM.
"""

import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT / "addons" / "hc_integration_base"

if "hc_integration_base" not in sys.modules:
    package = types.ModuleType("hc_integration_base")
    package.__path__ = [str(ADDON)]
    sys.modules["hc_integration_base"] = package
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="module")
def gateway():
    """The ACME SOAP gateway (legacy_sim/supply_gateway.py), reset before each test using it."""
    from legacy_sim.supply_gateway import start_supply_gateway  # noqa: PLC0415

    server = start_supply_gateway()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(gateway):
    """A SOAP client of the gateway, with its basic credentials."""
    from hc_integration_base.transports.auth import build_auth  # noqa: PLC0415
    from hc_integration_base.transports.soap import SoapClient  # noqa: PLC0415
    from legacy_sim.supply_gateway import GATEWAY_PASSWORD, GATEWAY_USER  # noqa: PLC0415

    auth = build_auth({"type": "basic", "username": GATEWAY_USER, "password": GATEWAY_PASSWORD})
    return SoapClient(gateway.wsdl_url, auth=auth, connect_timeout=2, read_timeout=5)
