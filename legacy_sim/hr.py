"""The legacy HR and payroll system: cost centres, departments and employees over REST.

Its own server (``python -m legacy_sim`` starts it on ``--hr-port``, 8093 by default; tests call
``start_hr_simulator(port=0)``). Every record is computed from (seed, index), so a second read
answers the same; ``state.overrides`` changes one record (a move, a leaver) and
``state.reset()`` forgets the changes. Lists page as the REST system's do: ``?page=&page_size=``
answers ``items``, ``page``, ``page_size``, ``total`` and ``next_page``.

Employees carry payroll data (salary, national identifier, bank account) as a real payroll
system does: an integration must neither store nor show them unless asked to.

Endpoints (authenticated as the REST system: basic, ``X-API-Key`` or the static bearer token):
``GET /api/v1/cost-centres``, ``/api/v1/departments``, ``/api/v1/employees``, ``/api/v1/health``.
Admin (no auth): ``GET /_admin/state``, ``POST /_admin/reset``,
``POST /_admin/<cost-centres|departments|employees>/<code>`` (override fields of one record).
"""

import base64
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from . import credentials
from ._serve import BackgroundServer, post_json
from .data import _rng

__all__ = ["HrSimulator", "cost_centre", "department", "employee", "start_hr_simulator"]

# (code, name) of the departments; the first is the root the others report to.
DEPARTMENTS = [
    ("ADM", "Administration"), ("LAB", "Laboratory"), ("PHARM", "Pharmacy"), ("ER", "Emergency"),
    ("ICU", "Intensive care"), ("RAD", "Radiology"), ("MNT", "Maintenance"), ("CAT", "Catering"),
    ("IT", "IT services"), ("HK", "Housekeeping"),
]
JOBS = ["Nurse", "Technician", "Pharmacist", "Physician", "Maintenance engineer", "Clerk", "Cook",
        "Porter", "Analyst"]
FIRST = ["Anna", "Louis", "Marta", "Jonas", "Ines", "Pieter", "Sofia", "Mikko", "Clara", "Diego", "Elin",
         "Tomas", "Nora", "Hugo", "Lea"]
LAST = ["Martin", "Silva", "Peeters", "Gruber", "Virtanen", "Garcia", "Lindqvist", "Moreau", "Costa",
        "Janssens", "Huber", "Laine"]
ROOT_COST_CENTRE = "CC-4000"
RESOURCES = {"cost-centres": "cost_centres", "departments": "departments", "employees": "employees"}


def cost_centre_code(dept_index):
    return f"CC-{4100 + dept_index * 10}"


def cost_centre(seed, index, departments):
    """Cost centre ``index``: 0 is the hospital's root, then one per department under it."""
    if index == 0:
        return {"code": ROOT_COST_CENTRE, "name": "Hospital", "parent_code": None, "active": True,
                "updated_at": "2026-01-01T00:00:00Z"}
    code, name = DEPARTMENTS[(index - 1) % len(DEPARTMENTS)]
    return {"code": cost_centre_code(index - 1), "name": f"{name} ({code})", "parent_code": ROOT_COST_CENTRE,
            "active": True, "updated_at": "2026-01-01T00:00:00Z"}


def employee_id(index):
    return f"E{index + 1:05d}"


def department(seed, index, employees):
    """Department ``index``; its manager is the employee of the same index (when there is one)."""
    code, name = DEPARTMENTS[index]
    return {
        "code": code, "name": name, "parent_code": None if index == 0 else DEPARTMENTS[0][0],
        "cost_centre_code": cost_centre_code(index),
        "manager_identifier": employee_id(index) if index < employees else None,
        "active": True, "updated_at": "2026-01-01T00:00:00Z",
    }


def employee(seed, index, departments):
    """Employee ``index`` in department ``index % departments``: the first of each department
    manages it and reports to the root department's manager; the others report to him."""
    rng = _rng(seed, "employee", index)
    dept = index % departments
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if index == 0:
        manager = None
    elif index < departments:
        manager = employee_id(0)
    else:
        manager = employee_id(dept)
    hired = f"20{rng.randrange(10, 25)}-{rng.randrange(1, 13):02d}-01"
    return {
        "identifier": employee_id(index),
        "name": f"{first} {last}",
        "work_email": f"{first}.{last}.{index + 1}@hospital.example".lower(),
        "department_code": DEPARTMENTS[dept][0],
        "job_title": "Head of department" if index < departments else rng.choice(JOBS),
        "manager_identifier": manager,
        "cost_centre_code": cost_centre_code(dept),
        "active": True,
        "leaving_date": None,
        "effective_date": hired,
        # Payroll data a payroll system holds: never to be stored in Odoo unless a mapping asks for it.
        "salary": {"amount": round(rng.uniform(2200, 9500), 2), "currency": "EUR", "period": "month"},
        "national_id": f"{rng.randrange(1, 3)}{rng.randrange(10**12, 10**13)}",
        "bank_account": f"FR76{rng.randrange(10**22, 10**23)}",
        "updated_at": "2026-01-01T00:00:00Z",
    }


@dataclass
class HrState:
    seed: int = 42
    employees: int = 40
    departments: int = len(DEPARTMENTS)
    # {"employees": {"E00003": {"department_code": "ICU", ...}}, ...}: fields changed per record.
    overrides: dict = field(default_factory=lambda: {kind: {} for kind in RESOURCES.values()})
    request_count: int = 0

    def __post_init__(self):
        self.lock = threading.RLock()
        self.departments = max(1, min(self.departments, len(DEPARTMENTS)))

    def reset(self):
        with self.lock:
            self.overrides = {kind: {} for kind in RESOURCES.values()}
            self.request_count = 0

    def override(self, kind, code, **values):
        with self.lock:
            self.overrides[kind].setdefault(code, {}).update(values)

    def records(self, kind):
        """(total, record(i)) of one list, overrides applied."""
        if kind == "cost_centres":
            total, make, key = self.departments + 1, lambda i: cost_centre(self.seed, i, self.departments), "code"
        elif kind == "departments":
            total, make, key = self.departments, lambda i: department(self.seed, i, self.employees), "code"
        else:
            total, make, key = self.employees, lambda i: employee(self.seed, i, self.departments), "identifier"

        def record(index):
            item = make(index)
            with self.lock:
                item.update(self.overrides[kind].get(item[key], {}))
            return item

        return total, record


class HrHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "LegacyHrSim/1.0"

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
        return

    @property
    def state(self):
        return self.server.state

    def _send(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.headers.get("X-Correlation-ID"):
            self.send_header("X-Correlation-ID", self.headers["X-Correlation-ID"])
        self.end_headers()
        self.wfile.write(body)

    def _authenticated(self, query):
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return (user, password) == (credentials.BASIC_USER, credentials.BASIC_PASSWORD)
        if header.startswith("Bearer "):
            return header[7:].strip() == credentials.STATIC_TOKEN
        key = self.headers.get("X-API-Key") or (query.get("api_key") or [None])[0]
        return key == credentials.API_KEY

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
            if path == "/health":
                return self._send(200, {"status": "ok"})
            with self.state.lock:
                self.state.request_count += 1
            if not self._authenticated(query):
                return self._send(401, {"error": "unauthorized"})
            parts = path.split("/")[1:]
            if parts[:2] != ["api", "v1"] or len(parts) != 3 or method != "GET":
                return self._send(404, {"error": "not found"})
            if parts[2] == "health":
                return self._send(200, {"status": "ok"})
            if parts[2] not in RESOURCES:
                return self._send(404, {"error": f"unknown resource {parts[2]}"})
            return self._list(RESOURCES[parts[2]], query)
        except (BrokenPipeError, ConnectionResetError):
            return None

    def _list(self, kind, query):
        total, record = self.state.records(kind)
        try:
            size = min(max(int((query.get("page_size") or ["100"])[0]), 1), 1000)
            page = max(int((query.get("page") or ["1"])[0]), 1)
        except ValueError:
            return self._send(400, {"error": "page and page_size must be integers"})
        start = (page - 1) * size
        items = [record(i) for i in range(start, min(start + size, total))]
        return self._send(200, {"items": items, "page": page, "page_size": size, "total": total,
                                "next_page": page + 1 if start + size < total else None})

    def _admin(self, method, path, body):
        parts = path.split("/")[2:]
        if method == "GET" and parts == ["state"]:
            with self.state.lock:
                return self._send(200, {"overrides": self.state.overrides, "requests": self.state.request_count})
        if method == "POST" and parts == ["reset"]:
            self.state.reset()
            return self._send(200, {"status": "reset"})
        if method == "POST" and len(parts) == 2 and parts[0] in RESOURCES:
            try:
                values = json.loads(body or b"{}")
            except ValueError:
                return self._send(400, {"error": "body is not JSON"})
            if not isinstance(values, dict):
                return self._send(400, {"error": "body must be a JSON object"})
            self.state.override(RESOURCES[parts[0]], parts[1], **values)
            return self._send(200, {"status": "overridden"})
        return self._send(404, {"error": "not found"})


class HrSimulator(BackgroundServer):
    """The HR system in a background thread; ``port=0`` picks a free port."""

    state_class, handler_class, thread_name = HrState, HrHandler, "legacy-sim-hr"

    def post_event(self, odoo_url, api_key, event, timeout=10):
        """Post a joiner, mover or leaver event (an employee record with ``event`` and ``event_id``)
        to ``odoo_url``, as the HR system does when it happens: (HTTP status, answer)."""
        return post_json(odoo_url, api_key, event, timeout)


def start_hr_simulator(host="127.0.0.1", port=0, **state_options):
    return HrSimulator(host, port, **state_options)
