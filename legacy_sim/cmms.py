"""A legacy CMMS (computerised maintenance management system) over REST, in its own dialect.

Its own server (``python -m legacy_sim`` starts it on ``--cmms-port``, 8094 by default; tests call
``start_cmms(port=0)``). Modelled on the OSLC-style APIs of the big CMMS products, and unlike the
suite's other simulators:

- Authentication: the header ``apikey: <API_KEY>`` on every path but ``/maximo/ping``.
- Lists ``GET /maximo/api/os/mxasset`` (the equipment master) and ``/maximo/api/os/mxwo`` (work
  orders: breakdowns ``EM``, corrective ``CM`` and preventive ``PM`` work) are paged by
  ``?pageno=<n>&oslc.pageSize=<size>`` and answer ``{"member": [...], "responseInfo":
  {"totalCount": n, "pagenum": p, "nextPage": {"href": "<absolute URL of the next page>"}}}`` (no
  ``nextPage`` on the last page). ``page``/``page_size`` are ignored: page 1 again and again.
- Dates are ISO 8601 with an offset (``2027-03-31T00:00:00+01:00``); asset priority 1 is
  life-critical, 5 the least important; work-order priority 1 is the most urgent.
- Status push-back ``POST /maximo/api/os/mxwo/<wonum>/status`` with ``{"status": "INPRG" | "COMP"
  | "CAN", "statusdate": ..., "actlabhrs": hours, "memo": ..., "transid": key}``: the change is
  recorded once per ``transid`` (else the ``Idempotency-Key`` header); a repeated key answers the
  first answer and records nothing (a refusal records nothing, so its key may be tried again).
  Answer ``{"result": "OK", "changeid": "WOSTAT-000001", "wonum": ..., "status": ...}``; a change
  of a closed work order ``{"result": "REJECTED", "message": ...}``; an unknown work order 404
  ``{"Error": {"reasonCode": ..., "message": ...}}``.
- Breakdowns are pushed by the CMMS itself: ``cmms.send_event(url, key, work_order)`` posts one to
  Odoo's inbound API (``X-API-Key``) and the CMMS then knows that work order.
- Spare parts booked on a work order are pushed too: ``cmms.send_material_use(url, key,
  material_use_record(transid, wonum, itemnum, qty))`` posts a material-use transaction (an issue has
  a negative ``quantity``, the work order in ``refwo``, the storeroom in ``storeloc``).
- Faults as the REST simulator's (``state.Faults``: latency, error rate and status, timeouts,
  ``timeout_after_store_rate`` — the status change recorded, then the answer hangs —, malformed
  answers, down), set with ``cmms.set_faults(...)`` or ``POST /_admin/faults``.

Admin (no auth): ``GET /_admin/state``, ``POST /_admin/reset``, ``POST /_admin/faults``,
``POST /_admin/mxasset/<assetnum>`` (override fields), ``POST /_admin/mxwo`` (add a work order).

In tests: ``cmms = start_cmms(assets=30, work_orders=6)``, ``cmms.url``, ``cmms.state.status_changes``
(each recorded change), ``cmms.state.status_posts`` (every status request, repeats included),
``cmms.stop()``. Records are computed from their index: ``asset_record(i)``, ``work_order_record(i)``.
"""

import json
import random
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from ._serve import BackgroundServer, post_json
from .state import Faults

__all__ = ["API_KEY", "CmmsSystem", "asset_record", "material_use_record", "start_cmms", "work_order_record"]

API_KEY = "cmms-4d1e-odoo"  # a simulator's fixed test credential
BASE = "/maximo/api/os/"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# (assettype, description, manufacturer): the equipment categories of the hospital.
TYPES = (
    ("INFUSION", "Infusion pumps", "Braun"), ("VENT", "Ventilators", "Draeger"),
    ("IMAGING", "Imaging", "Siemens"), ("HVAC", "Air handling", "Trane"),
    ("LIFT", "Lifts", "Kone"), ("STERIL", "Sterilisers", "Getinge"),
)
# (location, site, cost centre of the HR system's master): where the equipment stands.
LOCATIONS = (
    ("ICU-2F", "NORTH", "CC-4140"), ("ER-GF", "NORTH", "CC-4130"), ("RAD-1F", "NORTH", "CC-4150"),
    ("PLANT-B1", "SOUTH", "CC-4160"), ("LAB-3F", "SOUTH", "CC-4110"),
)
WORK_TYPES = ("EM", "CM", "PM")
STATUSES = ("INPRG", "COMP", "CAN")
CLOSED = ("COMP", "CAN")


def asset_num(index):
    return f"AST-{1001 + index}"


def vendor_num(index):
    return f"VND-{index % 4 + 1:02d}"


def asset_record(index):
    """Asset ``index``: every 6th is a ventilator (life-critical, priority 1), the others 2 to 5."""
    kind, kind_name, maker = TYPES[index % len(TYPES)]
    location, site, cost_centre = LOCATIONS[index % len(LOCATIONS)]
    return {
        "assetnum": asset_num(index),
        "description": f"{kind_name[:-1]} {index + 1}",
        "serialnum": f"SN-{kind[:3]}-{index * 7919 % 100000:05d}",
        "assettype": kind,
        "assettype_description": kind_name,
        "location": location,
        "siteid": site,
        "glaccount": cost_centre,
        "manufacturer": maker,
        "vendor": vendor_num(index),
        "vendor_description": f"{maker} Medical Service {index % 4 + 1}",
        "warrantyexpdate": f"{2026 + index % 3}-{index % 12 + 1:02d}-28T00:00:00+01:00",
        "priority": 1 if kind == "VENT" else 2 + index % 4,
        "status": "DECOMMISSIONED" if index % 17 == 16 else "OPERATING",
        "_rowstamp": str(1000 + index),
    }


def work_order_record(index, assets):
    """Work order ``index`` of the list: breakdowns, corrective and preventive work in turn."""
    asset = asset_record(index * 5 % max(assets, 1))
    worktype = WORK_TYPES[index % len(WORK_TYPES)]
    return {
        "wonum": f"WO-{50001 + index}",
        "worktype": worktype,
        "description": {"EM": "Breakdown", "CM": "Fault reported", "PM": "Planned maintenance"}[worktype]
        + f": {asset['description']}",
        "assetnum": asset["assetnum"],
        "location": asset["location"],
        "siteid": asset["siteid"],
        "wopriority": 1 if worktype == "EM" else (2 if worktype == "CM" else 4),
        "reportdate": f"2026-11-{index % 28 + 1:02d}T08:30:00+01:00",
        "targstartdate": f"2026-12-{index % 28 + 1:02d}T07:00:00+01:00",
        "status": "WAPPR",
    }


def material_use_record(transid, wonum, itemnum, quantity, storeloc="CENTRAL", transdate="2026-12-01T10:40:00+01:00",
                        issuetype="ISSUE"):
    """A spare part issued from a storeroom to a work order (``issuetype`` ISSUE) or returned to it
    unused (RETURN), as the CMMS's material-use transaction (MATUSETRANS) records it: an issue carries
    a negative quantity, a return a positive one."""
    return {"matusetransid": transid, "issuetype": issuetype, "itemnum": itemnum, "storeloc": storeloc,
            "quantity": abs(quantity) if issuetype == "RETURN" else -abs(quantity), "refwo": wonum,
            "transdate": transdate, "siteid": "NORTH"}


class CmmsState:
    def __init__(self, assets=30, work_orders=6):
        self.lock = threading.RLock()
        self.assets = assets
        self.generated_work_orders = work_orders
        self.reset()

    def reset(self):
        with self.lock:
            self.faults = Faults()
            self._random = random.Random(self.faults.fault_seed)
            self.asset_overrides = {}
            self.planted = []  # work orders added (or pushed to Odoo) after start
            self.status = {}  # wonum -> current status
            self.status_changes = []  # each change recorded once
            self.status_posts = []  # every status request received, repeats included
            self.answers_by_key = {}  # transid -> (status code, answer)
            self.requests = []  # (list name, query) of every list request

    def set_faults(self, **settings):
        with self.lock:
            self.faults.update(**settings)
            self._random = random.Random(self.faults.fault_seed)

    def roll(self, rate):
        if rate <= 0:
            return False
        with self.lock:
            return self._random.random() < rate

    def records(self, name):
        with self.lock:
            if name == "mxasset":
                return [{**asset_record(i), **self.asset_overrides.get(asset_num(i), {})} for i in range(self.assets)]
            if name == "mxwo":
                generated = [work_order_record(i, self.assets) for i in range(self.generated_work_orders)]
                return [{**wo, "status": self.status.get(wo["wonum"], wo["status"])} for wo in generated + self.planted]
        return None

    def knows(self, wonum):
        return any(wo["wonum"] == wonum for wo in self.records("mxwo"))

    def plant(self, work_order):
        with self.lock:
            self.planted.append(dict(work_order))

    def change_status(self, wonum, body, key):
        """Record one status change, once per key: (HTTP status, answer, recorded now)."""
        with self.lock:
            self.status_posts.append({"wonum": wonum, "key": key, **body})
            if key and key in self.answers_by_key:
                return (*self.answers_by_key[key], False)
            if not self.knows(wonum):
                unknown = {"Error": {"reasonCode": "BMXAA4214E", "message": f"Work order {wonum} does not exist"}}
                return 404, unknown, False
            status = body.get("status")
            if status not in STATUSES:
                return 400, {"Error": {"reasonCode": "BMXAA4191E",
                                       "message": f"Status {status} is not one of {', '.join(STATUSES)}"}}, False
            current = self.status.get(wonum)
            if current in CLOSED:  # nothing recorded: the same key may try again once the order is reopened
                return 200, {"result": "REJECTED", "wonum": wonum, "status": current,
                             "message": f"Work order {wonum} is {current}: its status cannot change"}, False
            self.status[wonum] = status
            change = {"changeid": f"WOSTAT-{len(self.status_changes) + 1:06d}", "wonum": wonum, "key": key, **body}
            self.status_changes.append(change)
            answer = (200, {"result": "OK", "changeid": change["changeid"], "wonum": wonum, "status": status})
            if key:
                self.answers_by_key[key] = answer
            return (*answer, True)


class CmmsHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "CMMS-OSLC/7.6"

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
        return

    @property
    def state(self):
        return self.server.state

    def _send(self, status, payload=None, raw=None):
        body = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status, code, text):
        self._send(status, {"Error": {"reasonCode": code, "message": text, "statusCode": str(status)}})

    def _faults(self):
        """The fault settings before an answer; True when the request was answered (or dropped)."""
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
            self._error(faults.status_code, "BMXAA0001E", "injected failure")
            return True
        if self.state.roll(faults.malformed_rate):
            self._send(200, raw=b'{"member": [{"assetnum": "AST-')
            return True
        return False

    def do_GET(self):  # noqa: N802 - http.server's handler name
        self._dispatch("GET")

    def do_POST(self):  # noqa: N802
        self._dispatch("POST")

    def _dispatch(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urllib.parse.urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        try:
            if path.startswith("/_admin/"):
                return self._admin(method, path, body)
            if path == "/maximo/ping":
                return self._send(200, {"status": "UP"})
            if self._faults():
                return None
            if self.headers.get("apikey") != API_KEY:
                return self._error(401, "BMXAA7901E", "You cannot log in at this time: apikey missing or wrong")
            if not path.startswith(BASE):
                return self._error(404, "BMXAA8727E", f"Unknown resource {path}")
            parts = path[len(BASE):].split("/")
            if method == "GET" and len(parts) == 1:
                return self._list(parts[0], url.query)
            if method == "POST" and len(parts) == 3 and parts[0] == "mxwo" and parts[2] == "status":
                return self._status(urllib.parse.unquote(parts[1]), body)
            return self._error(404, "BMXAA8727E", f"Unknown resource {path}")
        except (BrokenPipeError, ConnectionResetError):
            return None

    def _list(self, name, query_text):
        records = self.state.records(name)
        if records is None:
            return self._error(404, "BMXAA8727E", f"Unknown object structure {name}")
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(query_text).items()}
        with self.state.lock:
            self.state.requests.append((name, query))
        try:
            page = max(int(query.get("pageno", 1)), 1)
            size = min(max(int(query.get("oslc.pageSize", DEFAULT_PAGE_SIZE)), 1), MAX_PAGE_SIZE)
        except ValueError:
            return self._error(400, "BMXAA4153E", "pageno and oslc.pageSize are whole numbers")
        chunk = records[(page - 1) * size:page * size]
        info = {"totalCount": len(records), "pagenum": page}
        if page * size < len(records):
            host = self.headers.get("Host") or f"{self.server.server_address[0]}:{self.server.server_address[1]}"
            info["nextPage"] = {"href": f"http://{host}{BASE}{name}?pageno={page + 1}&oslc.pageSize={size}"}
        return self._send(200, {"member": chunk, "responseInfo": info})

    def _status(self, wonum, body):
        try:
            values = json.loads(body or b"{}")
        except ValueError:
            return self._error(400, "BMXAA1001E", "The body is not JSON")
        if not isinstance(values, dict):
            return self._error(400, "BMXAA1001E", "The body must be a JSON object")
        key = values.get("transid") or self.headers.get("Idempotency-Key")
        status, answer, recorded = self.state.change_status(wonum, values, key)
        faults = self.state.faults
        if recorded and self.state.roll(faults.timeout_after_store_rate):
            time.sleep(faults.hang_seconds)  # recorded; the caller times out and sends it again
            self.close_connection = True
            return None
        return self._send(status, answer)

    def _admin(self, method, path, body):
        parts = path.split("/")[2:]
        try:
            values = json.loads(body or b"{}")
        except ValueError:
            return self._error(400, "BMXAA1001E", "The body is not JSON")
        state = self.state
        if method == "GET" and parts == ["state"]:
            with state.lock:
                return self._send(200, {"status": state.status, "status_changes": state.status_changes,
                                        "status_posts": len(state.status_posts), "planted": state.planted})
        if method == "POST" and parts == ["reset"]:
            state.reset()
            return self._send(200, {"status": "reset"})
        if method == "POST" and parts == ["faults"]:
            try:
                state.set_faults(**values)
            except (TypeError, ValueError) as exc:
                return self._error(400, "ADMIN", str(exc))
            return self._send(200, {"status": "faults set"})
        if method == "POST" and parts == ["mxwo"]:
            state.plant(values)
            return self._send(201, {"status": "added"})
        if method == "POST" and len(parts) == 2 and parts[0] == "mxasset":
            with state.lock:
                state.asset_overrides.setdefault(parts[1], {}).update(values)
            return self._send(200, {"status": "overridden"})
        return self._error(404, "ADMIN", "not found")


class CmmsSystem(BackgroundServer):
    """The CMMS in a background thread; ``port=0`` picks a free port."""

    state_class, handler_class, thread_name = CmmsState, CmmsHandler, "legacy-sim-cmms"

    def set_faults(self, **settings):
        self.state.set_faults(**settings)

    def changes(self, wonum):
        """The status changes recorded for one work order, in order."""
        with self.state.lock:
            return [c["status"] for c in self.state.status_changes if c["wonum"] == wonum]

    def send_event(self, odoo_url, api_key, work_order, timeout=10):
        """Post a work order (a breakdown reported at the help desk, say) to ``odoo_url`` (the inbound
        URL of its flow), as the CMMS does; it then knows the work order. Returns (HTTP status, answer)."""
        self.state.plant(work_order)
        return post_json(odoo_url, api_key, work_order, timeout)

    def send_material_use(self, odoo_url, api_key, transaction, timeout=10):
        """Post a material-use transaction (``material_use_record``) to ``odoo_url``, as the CMMS does
        when a technician books spare parts on a work order. Returns (HTTP status, answer)."""
        return post_json(odoo_url, api_key, transaction, timeout)


def start_cmms(host="127.0.0.1", port=0, **state_options):
    """Start the CMMS in a background thread; port 0 picks a free one."""
    return CmmsSystem(host, port, **state_options)
