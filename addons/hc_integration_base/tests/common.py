import socket
import sys
from pathlib import Path
from unittest.mock import patch
from urllib.parse import urlsplit

import requests

from odoo.tests import common as odoo_test_common
from odoo.tests import new_test_user

from odoo.addons.queue_job.exception import RetryableJobError

# The legacy simulators live at the root of the suite's repository (legacy_sim/).
_REPO = Path(__file__).resolve().parents[3]
if (_REPO / "legacy_sim").is_dir() and str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from legacy_sim import data, start_simulators  # noqa: E402, F401

GROUPS = {
    "viewer": "hc_integration_base.group_hc_viewer",
    "operator": "hc_integration_base.group_hc_operator",
    "consultant": "hc_integration_base.group_hc_consultant",
    "admin": "hc_integration_base.group_hc_admin",
}


UNRESOLVABLE_SUFFIX = ".invalid"
_real_getaddrinfo = socket.getaddrinfo


def _getaddrinfo(host, *args, **kwargs):
    """Names under .invalid (RFC 2606) fail like an unknown host, without asking a DNS server."""
    if isinstance(host, str) and host.endswith(UNRESOLVABLE_SUFFIX):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return _real_getaddrinfo(host, *args, **kwargs)


def _loopback_send(session, prepared, **kwargs):
    """Odoo's test guard, minus its 10 s timeout floor (which would hide timeout behaviour)
    and its rejection of (connect, read) timeout tuples: only loopback hosts are reached."""
    host = urlsplit(prepared.url).hostname or ""
    if host in ("127.0.0.1", "localhost") or host.endswith(UNRESOLVABLE_SUFFIX):
        return odoo_test_common._super_send(session, prepared, **kwargs)
    raise odoo_test_common.BlockedRequest(f"Only loopback requests in tests (was {prepared.url})")


class SimulatorMixin:
    """Start the REST and SOAP simulators once per test class, on free loopback ports."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(patch.object(requests.sessions.Session, "send", _loopback_send))
        cls.startClassPatcher(patch.object(socket, "getaddrinfo", _getaddrinfo))

    @classmethod
    def start_simulators(cls, **kwargs):
        cls.sims = start_simulators(rest_port=0, soap_port=0, items=50, suppliers=10, **kwargs)
        cls.addClassCleanup(cls.sims.stop)
        return cls.sims


class BackendMixin:
    @classmethod
    def setup_users(cls):
        cls.users = {
            role: new_test_user(cls.env, login=f"hc_{role}", groups=f"base.group_user,{group}")
            for role, group in GROUPS.items()
        }

    @classmethod
    def create_backend(cls, **values):
        vals = {
            "name": "Test backend",
            "code": "test_backend",
            "protocol": "rest",
            "connect_timeout": 2,
            "read_timeout": 2,
        }
        vals.update(values)
        return cls.env["hc.backend"].create(vals)


def postponed(case, run):
    """The RetryableJobError that ``run`` raises (a job postponed by queue_job). Not through
    assertRaises, whose rollback would also undo what was stored before the job: in production
    that was committed apart."""
    try:
        run()
    except RetryableJobError as exc:
        return exc
    return case.fail("the job was not postponed")
