"""The legacy finance system: approved budgets per cost centre and fiscal year over REST.

Its own server (``python -m legacy_sim`` starts it on ``--finance-port``, 8095 by default; tests
call ``start_finance_simulator(port=0)``). It speaks its own dialect, unlike the HR system's
canonical one: camelCase keys, nesting, dd.mm.yyyy dates, amounts as strings, its own control
codes (``HARD``, ``SOFT``, ``APPR``). An integration reads it through an inbound mapping.

Every record is computed from (seed, fiscal year, index), so a second read answers the same;
``state.override(line_id, ...)`` changes one budget line (a revision) and ``state.reset()``
forgets the changes.

Endpoints (HTTP basic ``odoo`` / ``odoo-secret`` or ``X-API-Key: sim-api-key``):
- ``GET /fin/api/v2/approved-budgets?pageNumber=&pageSize=[&fiscalYear=]`` answers
  ``{"result": {"budgetLines": [...]}, "paging": {"pageNumber", "pageSize", "totalCount",
  "nextPageNumber"}}`` (``nextPageNumber`` null on the last page);
- ``GET /fin/api/v2/ping``.
Admin (no auth): ``GET /_admin/state``, ``POST /_admin/reset``, ``POST /_admin/faults`` (the
fault settings of ``state.Faults``: latency, errors, timeouts, malformed answers, down),
``POST /_admin/budget-lines/<lineId>`` (override fields of one line, e.g. ``approvedAmount``).
"""

import base64
import datetime
import json
import random
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from . import credentials
from ._serve import BackgroundServer
from .data import _rng
from .hr import DEPARTMENTS, ROOT_COST_CENTRE, cost_centre_code
from .state import Faults

__all__ = ["BUDGETS", "FinanceSimulator", "budget_line", "start_finance_simulator"]

# (reference suffix, title, control code, owner's e-mail, department codes whose cost centres it funds).
BUDGETS = [
    ("CLIN", "Clinical services", "APPR", "clinical.finance@hospital.example", ["LAB", "PHARM", "ER", "ICU", "RAD"]),
    ("SUPP", "Support services", "SOFT", "support.finance@hospital.example", ["MNT", "CAT", "IT", "HK"]),
    ("ADM", "Administration", "HARD", "finance.director@hospital.example", ["ADM", None]),  # None: the root
]
DEPT_INDEX = {code: index for index, (code, _name) in enumerate(DEPARTMENTS)}


def _cost_centre(dept):
    return ROOT_COST_CENTRE if dept is None else cost_centre_code(DEPT_INDEX[dept])


def _lines_of_year():
    """[(budget, cost centre)] of one fiscal year, in a stable order."""
    return [(budget, _cost_centre(dept)) for budget in BUDGETS for dept in budget[4]]


def budget_line(seed, year, index):
    """Budget line ``index`` of fiscal ``year``: one cost centre's approved amount in one budget."""
    (suffix, title, control, owner, _depts), centre = _lines_of_year()[index]
    rng = _rng(seed, f"budget-{year}", index)
    return {
        "lineId": f"BL-{year}-{suffix}-{centre[3:]}",
        "budget": {"ref": f"BUD-{year}-{suffix}", "title": f"{title} {year}", "control": control,
                   "ownerMail": owner},
        "costCentre": centre,
        "fiscalYear": year,
        "validFrom": f"01.01.{year}",
        "validTo": f"31.12.{year}",
        "approvedAmount": f"{rng.randrange(40, 400) * 500:.2f}",
        "currency": "EUR",
        "status": "APPROVED",
        "approvedOn": f"15.12.{year - 1}",
    }


@dataclass
class FinanceState:
    seed: int = 42
    years: tuple = ()  # fiscal years served; empty: the current one
    faults: Faults = field(default_factory=Faults)
    overrides: dict = field(default_factory=dict)  # {lineId: {key: value}}
    request_count: int = 0

    def __post_init__(self):
        self.lock = threading.RLock()
        self.years = tuple(self.years) or (datetime.date.today().year,)
        self._random = random.Random(self.faults.fault_seed)

    def reset(self):
        with self.lock:
            self.overrides = {}
            self.faults = Faults()
            self._random = random.Random(1)
            self.request_count = 0

    def set_faults(self, **settings):
        with self.lock:
            self.faults.update(**settings)
            self._random = random.Random(self.faults.fault_seed)

    def roll(self, rate):
        if rate <= 0:
            return False
        with self.lock:
            return self._random.random() < rate

    def override(self, line_id, **values):
        with self.lock:
            self.overrides.setdefault(line_id, {}).update(values)

    def records(self, year=None):
        """(total, record(i)) of the budget lines of ``year`` (every served year when None)."""
        years = [y for y in self.years if year is None or y == year]
        per_year = len(_lines_of_year())

        def record(index):
            item = budget_line(self.seed, years[index // per_year], index % per_year)
            with self.lock:
                changes = self.overrides.get(item["lineId"], {})
            if "budget" in changes:
                item["budget"] = {**item["budget"], **changes["budget"]}
            item.update({key: value for key, value in changes.items() if key != "budget"})
            return item

        return per_year * len(years), record


class FinanceHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "LegacyFinanceSim/2.0"

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
        return

    @property
    def state(self):
        return self.server.state

    def _send(self, status, payload=None, raw=None, headers=None):
        body = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.headers.get("X-Correlation-ID"):
            self.send_header("X-Correlation-ID", self.headers["X-Correlation-ID"])
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _authenticated(self):
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return (user, password) == (credentials.BASIC_USER, credentials.BASIC_PASSWORD)
        return self.headers.get("X-API-Key") == credentials.API_KEY

    def _faults(self):
        """Apply the fault settings; True when the request was answered (or dropped)."""
        faults = self.state.faults
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        if faults.down:
            self.close_connection = True
            self.connection.shutdown(2)
            return True
        if self.state.roll(faults.timeout_rate):
            time.sleep(faults.hang_seconds)
        if self.state.roll(faults.error_rate):
            headers = {"Retry-After": f"{faults.retry_after:g}"} if faults.status_code in (429, 503) else {}
            self._send(faults.status_code, {"fault": {"code": "E-UNAVAILABLE", "text": "injected failure"}},
                       headers=headers)
            return True
        if self.state.roll(faults.malformed_rate):
            self._send(200, raw=b'{"result": {"budgetLines": [{"lineId": "BL-')
            return True
        return False

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path.rstrip("/") or "/", urllib.parse.parse_qs(url.query)
        try:
            if path.startswith("/_admin/"):
                return self._admin(method, path, body)
            if self._faults():
                return None
            with self.state.lock:
                self.state.request_count += 1
            if not self._authenticated():
                return self._send(401, {"fault": {"code": "E-AUTH", "text": "not authenticated"}})
            if method == "GET" and path == "/fin/api/v2/ping":
                return self._send(200, {"alive": True})
            if method == "GET" and path == "/fin/api/v2/approved-budgets":
                return self._list(query)
            return self._send(404, {"fault": {"code": "E-NOTFOUND", "text": f"no resource {path}"}})
        except (BrokenPipeError, ConnectionResetError, OSError):
            return None

    def _list(self, query):
        try:
            size = min(max(int((query.get("pageSize") or ["25"])[0]), 1), 500)
            page = max(int((query.get("pageNumber") or ["1"])[0]), 1)
            year = int(query["fiscalYear"][0]) if query.get("fiscalYear") else None
        except ValueError:
            return self._send(400, {"fault": {"code": "E-PARAM", "text": "pageNumber, pageSize and fiscalYear "
                                                                          "are integers"}})
        total, record = self.state.records(year)
        start = (page - 1) * size
        rows = [record(i) for i in range(start, min(start + size, total))]
        return self._send(200, {"result": {"budgetLines": rows}, "paging": {
            "pageNumber": page, "pageSize": size, "totalCount": total,
            "nextPageNumber": page + 1 if start + size < total else None}})

    def _admin(self, method, path, body):
        parts = path.split("/")[2:]
        try:
            values = json.loads(body or b"{}")
        except ValueError:
            return self._send(400, {"error": "body is not JSON"})
        if method == "GET" and parts == ["state"]:
            with self.state.lock:
                return self._send(200, {"overrides": self.state.overrides, "requests": self.state.request_count,
                                        "years": list(self.state.years)})
        if method == "POST" and parts == ["reset"]:
            self.state.reset()
            return self._send(200, {"status": "reset"})
        if not isinstance(values, dict):
            return self._send(400, {"error": "body must be a JSON object"})
        if method == "POST" and parts == ["faults"]:
            try:
                self.state.set_faults(**values)
            except ValueError as exc:
                return self._send(400, {"error": str(exc)})
            return self._send(200, {"status": "faults set"})
        if method == "POST" and len(parts) == 2 and parts[0] == "budget-lines":
            self.state.override(parts[1], **values)
            return self._send(200, {"status": "overridden"})
        return self._send(404, {"error": "not found"})


class FinanceSimulator(BackgroundServer):
    """The finance system in a background thread; ``port=0`` picks a free port."""

    state_class, handler_class, thread_name = FinanceState, FinanceHandler, "legacy-sim-finance"

    def set_faults(self, **settings):
        self.state.set_faults(**settings)


def start_finance_simulator(host="127.0.0.1", port=0, **state_options):
    return FinanceSimulator(host, port, **state_options)
