"""A FHIR R4 server of a hospital's supply chain: SupplyRequest, SupplyDelivery and Device resources.

Unlike the other simulators it speaks FHIR's REST API, not a legacy dialect:

- ``GET /fhir/metadata``: the CapabilityStatement (no authentication, as FHIR servers allow);
- ``GET /fhir/<SupplyRequest|SupplyDelivery|Device>?_count=&_lastUpdated=gt…&status=``: a ``searchset``
  Bundle of at most ``_count`` resources (10 when not asked, never more than ``max_count``),
  its ``total``, and a ``link`` list whose ``relation: next`` entry is an opaque page URL
  (``?_getpages=<search id>&_getpagesoffset=<n>``, as HAPI FHIR pages) — the only way to the
  next page;
- ``GET /fhir/<type>/<id>``: one resource, with its ``ETag: W/"<versionId>"``;
- ``PUT /fhir/<type>/<id>`` with ``If-Match: W/"<versionId>"``: a new version, the body replacing
  the whole resource; a stale version answers 412, a missing If-Match 428, each with an
  OperationOutcome;
- ``PATCH /fhir/<type>/<id>`` with ``Content-Type: application/json-patch+json`` and If-Match (412
  stale, 428 missing): a JSON Patch (RFC 6902) of ``replace`` / ``add`` operations on simple
  paths (``/status``, ``/note/-``, ``/quantity/value``) makes a new version, every other element
  kept (status updates pushed back); another operation, a path that is not there, or a body that
  is no patch answers 422, another media type 415;
- errors are OperationOutcome resources; bodies are ``application/fhir+json``;
- ``Authorization: Bearer <token>`` on everything but the metadata.

Resources are deterministic for a seed: SupplyRequest ``sr-<n>`` asks one item
(``itemCodeableConcept.coding`` of system ``urn:hospital:item``) for a department
(``deliverTo: Location/<code>``), its requisition number in the identifier of system
``urn:oid:1.2.826.0.1.999.17``, a priority of routine / asap / stat, and a patient reference
in ``reasonReference`` (which no sync should keep). SupplyDelivery ``sd-<n>`` (the first
``supply_deliveries`` requests) delivers all of ``sr-<n>`` (``basedOn``), its delivery note number
in the identifier of system ``urn:hospital:delivery-note``, the patient in ``patient``. Device
``dev-<n>`` is a piece of equipment: its asset tag (identifier of system ``urn:hospital:asset``),
serial number, user-friendly name, type coded in ``urn:hospital:device-type`` (VENT, INFUSION,
HVAC), manufacturer, model, location; every seventh is ``inactive``. Admin: ``POST /_admin/reset``,
``POST /_admin/touch/<type>/<id>`` (a new version now), ``GET /_admin/state``.
"""

import json
import random
import threading
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler

from ._serve import BackgroundServer

__all__ = ["ASSET_SYSTEM", "DELIVERY_SYSTEM", "DEVICE_TYPE_SYSTEM", "FHIR_TOKEN", "FhirServer", "ITEM_SYSTEM",
           "REQUISITION_SYSTEM", "start_fhir_server"]

FHIR_TOKEN = "fhir-sim-token"
REQUISITION_SYSTEM = "urn:oid:1.2.826.0.1.999.17"
ITEM_SYSTEM = "urn:hospital:item"
DELIVERY_SYSTEM = "urn:hospital:delivery-note"
ASSET_SYSTEM = "urn:hospital:asset"
DEVICE_TYPE_SYSTEM = "urn:hospital:device-type"
DEVICE_TYPES = [("VENT", "Ventilator", "Hamilton Medical", "C6"), ("INFUSION", "Infusion pump", "B. Braun", "Space"),
                ("HVAC", "Air handling unit", "Trane", "CLCP")]
DEPARTMENTS = ["LAB", "PHARM", "ER", "ICU", "RAD"]
PRIORITIES = ["routine", "routine", "asap", "stat"]
EPOCH = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
TYPES = ("SupplyRequest", "SupplyDelivery", "Device")


def _instant(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def supply_request(seed, index, items):
    rng = random.Random(f"{seed}-sr-{index}")
    return {
        "resourceType": "SupplyRequest",
        "id": f"sr-{index + 1}",
        "identifier": [{"system": "urn:hospital:ward-order", "value": f"WO-{rng.randrange(10**5, 10**6)}"},
                       {"system": REQUISITION_SYSTEM, "value": f"FR-{index + 1:05d}"}],
        "status": "active",
        "priority": PRIORITIES[index % len(PRIORITIES)],
        "itemCodeableConcept": {"coding": [{"system": ITEM_SYSTEM, "code": f"ITM-{index % items + 1:06d}",
                                            "display": f"Item {index % items + 1}"}]},
        "quantity": {"value": rng.randrange(1, 40), "unit": "each", "system": "http://unitsofmeasure.org",
                     "code": "1"},
        "occurrenceDateTime": _instant(EPOCH + timedelta(days=3 + index % 5)),
        "authoredOn": _instant(EPOCH),
        "requester": {"reference": f"Practitioner/pr-{rng.randrange(1, 30)}"},
        "deliverTo": {"reference": f"Location/{DEPARTMENTS[index % len(DEPARTMENTS)]}"},
        "reasonReference": [{"reference": f"Patient/pt-{rng.randrange(1000, 9999)}"}],
    }


def supply_delivery(seed, index, items):
    request = supply_request(seed, index, items)
    rng = random.Random(f"{seed}-sd-{index}")
    return {
        "resourceType": "SupplyDelivery",
        "id": f"sd-{index + 1}",
        "identifier": [{"system": DELIVERY_SYSTEM, "value": f"DN-{index + 1:05d}"}],
        "basedOn": [{"reference": f"SupplyRequest/{request['id']}"}],
        "status": "completed",
        "patient": {"reference": request["reasonReference"][0]["reference"]},
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/supply-item-type",
                             "code": "device"}]},
        "suppliedItem": {"quantity": {"value": request["quantity"]["value"]},
                         "itemCodeableConcept": request["itemCodeableConcept"]},
        "occurrenceDateTime": _instant(EPOCH + timedelta(days=4 + index % 5, hours=rng.randrange(8))),
        "destination": request["deliverTo"],
    }


def device(seed, index):
    rng = random.Random(f"{seed}-dev-{index}")
    code, kind, maker, model = DEVICE_TYPES[index % len(DEVICE_TYPES)]
    return {
        "resourceType": "Device",
        "id": f"dev-{index + 1}",
        "identifier": [{"system": ASSET_SYSTEM, "value": f"AST-F{index + 1:04d}"}],
        "status": "inactive" if index % 7 == 6 else "active",
        "serialNumber": f"SN{rng.randrange(10**7, 10**8)}",
        "deviceName": [{"name": f"{kind} {index + 1}", "type": "user-friendly-name"},
                       {"name": f"{maker} {model}", "type": "model-name"}],
        "type": {"coding": [{"system": DEVICE_TYPE_SYSTEM, "code": code, "display": kind}]},
        "manufacturer": maker,
        "modelNumber": model,
        "location": {"reference": f"Location/{DEPARTMENTS[index % len(DEPARTMENTS)]}"},
    }


@dataclass
class FhirState:
    seed: int = 7
    supply_requests: int = 10
    supply_deliveries: int = 0
    devices: int = 0
    items: int = 5
    max_count: int = 50
    versions: dict = field(default_factory=dict)  # {(type, id): (versionId, lastUpdated, resource or None)}
    searches: dict = field(default_factory=dict)  # {search id: [resource ids]}
    updates: list = field(default_factory=list)  # resources PUT or PATCHed, as stored, in order
    patches: list = field(default_factory=list)  # (type, id, operations) of each PATCH applied, in order
    request_count: int = 0

    def __post_init__(self):
        self.lock = threading.RLock()

    def reset(self):
        with self.lock:
            self.versions, self.searches, self.updates, self.patches, self.request_count = {}, {}, [], [], 0

    def _generated(self, kind):
        """The ids the seed makes of ``kind``, and how one is built from its index."""
        if kind == "SupplyRequest":
            return "sr-", self.supply_requests, lambda i: supply_request(self.seed, i, self.items)
        if kind == "SupplyDelivery":
            return "sd-", min(self.supply_deliveries, self.supply_requests), \
                lambda i: supply_delivery(self.seed, i, self.items)
        return "dev-", self.devices, lambda i: device(self.seed, i)

    def resources(self, kind):
        prefix, count, _build = self._generated(kind)
        generated = [f"{prefix}{i + 1}" for i in range(count)]
        with self.lock:
            created = sorted(rid for (k, rid) in self.versions if k == kind and rid not in generated)
        found = [self.resource(kind, rid) for rid in generated + created]
        return [r for r in found if r is not None]

    def resource(self, kind, rid):
        with self.lock:
            version, updated, stored = self.versions.get((kind, rid), (1, EPOCH, None))
        prefix, count, build = self._generated(kind)
        number = rid[len(prefix):]
        if stored is not None:
            resource = json.loads(json.dumps(stored))
        elif rid.startswith(prefix) and number.isdigit() and 1 <= int(number) <= count:
            resource = build(int(number) - 1)
        else:
            return None
        resource["meta"] = {"versionId": str(version), "lastUpdated": _instant(updated)}
        return resource

    def touch(self, kind, rid, resource=None, at=None):
        """A new version of the resource, updated ``at`` (an aware datetime; default now)."""
        with self.lock:
            version, _updated, stored = self.versions.get((kind, rid), (1, EPOCH, None))
            self.versions[(kind, rid)] = (version + 1, (at or datetime.now(UTC)).replace(microsecond=0),
                                          resource if resource is not None else stored)
            return version + 1


PROTECTED = ("id", "resourceType", "meta")


def apply_json_patch(resource, operations):
    """Apply JSON Patch ``operations`` (RFC 6902) to ``resource`` in place: ``replace`` and
    ``add`` on JSON Pointer paths of keys and list indexes (``-`` appends). Raises ValueError
    naming the operation that cannot be applied; the caller keeps the resource unchanged then
    (it patches a copy)."""
    if not isinstance(operations, list) or not operations:
        raise ValueError("the body must be a JSON list of operations")
    for number, operation in enumerate(operations, 1):
        if not isinstance(operation, dict) or not isinstance(operation.get("path"), str) or "value" not in operation:
            raise ValueError(f"operation {number} needs an op, a path and a value")
        op, path = operation.get("op"), operation["path"]
        if op not in ("replace", "add"):
            raise ValueError(f"operation {number}: op {op!r} is not supported here (replace, add)")
        if not path.startswith("/") or path == "/":
            raise ValueError(f"operation {number}: path {path!r} is not a JSON Pointer to an element")
        steps = [step.replace("~1", "/").replace("~0", "~") for step in path[1:].split("/")]
        if steps[0] in PROTECTED:
            raise ValueError(f"operation {number}: {steps[0]} cannot be changed by a patch")
        node = resource
        for step in steps[:-1]:
            node = _child(node, step, number, path)
        last = steps[-1]
        if isinstance(node, list):
            if op == "add" and last == "-":
                node.append(operation["value"])
                continue
            if not last.isdigit() or int(last) > len(node) - (op == "replace"):
                raise ValueError(f"operation {number}: {path} is not an element of the list")
            if op == "add":
                node.insert(int(last), operation["value"])
            else:
                node[int(last)] = operation["value"]
        elif isinstance(node, dict):
            if op == "replace" and last not in node:
                raise ValueError(f"operation {number}: {path} is not there to replace")
            node[last] = operation["value"]
        else:
            raise ValueError(f"operation {number}: {path} is inside a value, not an object or list")
    return resource


def _child(node, step, number, path):
    if isinstance(node, dict) and step in node:
        return node[step]
    if isinstance(node, list) and step.isdigit() and int(step) < len(node):
        return node[int(step)]
    raise ValueError(f"operation {number}: {path} is not there")


def outcome(severity, code, text):
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "diagnostics": text}]}


class FhirHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FhirSim/4.0.1"

    def log_message(self, format, *args):  # noqa: A002
        return

    @property
    def state(self):
        return self.server.state

    def _send(self, status, payload, headers=None):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._dispatch("GET")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_POST(self):
        self._dispatch("POST")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def _base(self):
        return f"http://{self.headers.get('Host') or '%s:%s' % self.server.server_address}/fhir"

    def _dispatch(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urllib.parse.urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        query = urllib.parse.parse_qs(url.query)
        try:
            if parts[:1] == ["_admin"]:
                return self._admin(method, parts[1:])
            if parts[:1] != ["fhir"]:
                return self._send(404, outcome("error", "not-found", f"No such endpoint {url.path}."))
            if parts[1:] == ["metadata"]:
                return self._send(200, {"resourceType": "CapabilityStatement", "status": "active",
                                        "fhirVersion": "4.0.1", "kind": "instance", "format": ["json"]})
            with self.state.lock:
                self.state.request_count += 1
            if self.headers.get("Authorization", "") != f"Bearer {FHIR_TOKEN}":
                return self._send(401, outcome("error", "login", "A valid bearer token is required."),
                                  {"WWW-Authenticate": "Bearer"})
            if len(parts) == 1 and "_getpages" in query:
                return self._page(query)
            if len(parts) < 2 or parts[1] not in TYPES:
                return self._send(404, outcome("error", "not-supported", "Unknown resource type."))
            if len(parts) == 2 and method == "GET":
                return self._search(parts[1], query)
            if len(parts) == 3 and method == "GET":
                return self._read(parts[1], parts[2])
            if len(parts) == 3 and method == "PUT":
                return self._update(parts[1], parts[2], body)
            if len(parts) == 3 and method == "PATCH":
                return self._patch(parts[1], parts[2], body)
            return self._send(405, outcome("error", "not-supported", f"{method} is not supported here."))
        except (BrokenPipeError, ConnectionResetError):
            return None

    def _count(self, query):
        try:
            asked = int((query.get("_count") or ["10"])[0])
        except ValueError:
            return None
        return max(1, min(asked, self.state.max_count))

    def _search(self, kind, query):
        count = self._count(query)
        if count is None:
            return self._send(400, outcome("error", "invalid", "_count must be an integer."))
        found = self.state.resources(kind)
        for value in query.get("_lastUpdated", []):
            prefix, moment = (value[:2], value[2:]) if value[:2] in ("gt", "ge", "lt", "le", "eq") else ("eq", value)
            try:
                since = datetime.fromisoformat(moment.replace("Z", "+00:00"))
            except ValueError:
                return self._send(400, outcome("error", "invalid", f"_lastUpdated {value!r} is not a date."))
            keep = {"gt": lambda t, s=since: t > s, "ge": lambda t, s=since: t >= s,
                    "lt": lambda t, s=since: t < s, "le": lambda t, s=since: t <= s,
                    "eq": lambda t, s=since: t == s}[prefix]
            found = [r for r in found
                     if keep(datetime.fromisoformat(r["meta"]["lastUpdated"].replace("Z", "+00:00")))]
        if query.get("status"):
            found = [r for r in found if r.get("status") in query["status"][0].split(",")]
        search = uuid.uuid4().hex[:12]
        with self.state.lock:
            self.state.searches[search] = [(kind, r["id"]) for r in found]
        return self._bundle(search, 0, count)

    def _page(self, query):
        search = query["_getpages"][0]
        with self.state.lock:
            known = search in self.state.searches
        if not known:
            return self._send(410, outcome("error", "not-found", "This search has expired."))
        try:
            offset = int((query.get("_getpagesoffset") or ["0"])[0])
        except ValueError:
            return self._send(400, outcome("error", "invalid", "_getpagesoffset must be an integer."))
        return self._bundle(search, offset, self._count(query) or 10)

    def _bundle(self, search, offset, count):
        with self.state.lock:
            ids = list(self.state.searches[search])
        chosen = [self.state.resource(kind, rid) for kind, rid in ids[offset:offset + count]]
        base = self._base()
        links = [{"relation": "self", "url": f"{base}?_getpages={search}&_getpagesoffset={offset}&_count={count}"}]
        if offset + count < len(ids):
            links.append({"relation": "next",
                          "url": f"{base}?_getpages={search}&_getpagesoffset={offset + count}&_count={count}"})
        return self._send(200, {
            "resourceType": "Bundle", "id": search, "type": "searchset", "total": len(ids), "link": links,
            "entry": [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r,
                       "search": {"mode": "match"}} for r in chosen],
        })

    def _read(self, kind, rid):
        resource = self.state.resource(kind, rid)
        if resource is None:
            return self._send(404, outcome("error", "not-found", f"{kind}/{rid} is not known."))
        return self._send(200, resource, {"ETag": f'W/"{resource["meta"]["versionId"]}"'})

    def _update(self, kind, rid, body):
        try:
            resource = json.loads(body or b"null")
        except ValueError:
            return self._send(400, outcome("error", "structure", "The body is not JSON."))
        if not isinstance(resource, dict) or resource.get("resourceType") != kind or resource.get("id") != rid:
            return self._send(400, outcome("error", "invalid", f"The body must be the {kind} {rid}."))
        current = self.state.resource(kind, rid)
        if current is not None and self._precondition_failed(current):
            return None
        resource.pop("meta", None)
        version = self.state.touch(kind, rid, resource)
        with self.state.lock:
            self.state.updates.append(resource)
        stored = self.state.resource(kind, rid)
        return self._send(201 if current is None else 200, stored, {"ETag": f'W/"{version}"'})

    def _precondition_failed(self, current):
        """Answer 428 / 412 and return True when If-Match does not name ``current``'s version."""
        match = self.headers.get("If-Match")
        if not match:
            self._send(428, outcome("error", "conflict", "Updates need If-Match with the version read."))
            return True
        version = current["meta"]["versionId"]
        if match.strip() not in (f'W/"{version}"', version):
            self._send(412, outcome("error", "conflict", f"Version {match} is not the current one ({version})."))
            return True
        return False

    def _patch(self, kind, rid, body):
        media = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if media != "application/json-patch+json":
            return self._send(415, outcome(
                "error", "not-supported", f"A PATCH is a JSON Patch (application/json-patch+json), not {media or '-'}"))
        try:
            operations = json.loads(body or b"null")
        except ValueError:
            return self._send(400, outcome("error", "structure", "The body is not JSON."))
        current = self.state.resource(kind, rid)
        if current is None:
            return self._send(404, outcome("error", "not-found", f"{kind}/{rid} is not known."))
        if self._precondition_failed(current):
            return None
        patched = json.loads(json.dumps(current))
        patched.pop("meta", None)
        try:
            apply_json_patch(patched, operations)
        except ValueError as exc:
            return self._send(422, outcome("error", "processing", f"The patch cannot be applied: {exc}"))
        with self.state.lock:
            version = self.state.touch(kind, rid, patched)
            self.state.updates.append(patched)
            self.state.patches.append((kind, rid, operations))
        return self._send(200, self.state.resource(kind, rid), {"ETag": f'W/"{version}"'})

    def _admin(self, method, parts):
        if method == "GET" and parts == ["state"]:
            with self.state.lock:
                return self._send(200, {"updates": self.state.updates, "requests": self.state.request_count})
        if method == "POST" and parts == ["reset"]:
            self.state.reset()
            return self._send(200, {"status": "reset"})
        if method == "POST" and len(parts) == 3 and parts[0] == "touch" and parts[1] in TYPES:
            if self.state.resource(parts[1], parts[2]) is None:
                return self._send(404, outcome("error", "not-found", "No such resource."))
            return self._send(200, {"versionId": self.state.touch(parts[1], parts[2])})
        return self._send(404, outcome("error", "not-found", "No such admin endpoint."))


class FhirServer(BackgroundServer):
    """The FHIR server in a background thread; ``port=0`` picks a free port."""

    state_class, handler_class, thread_name, url_path = FhirState, FhirHandler, "legacy-sim-fhir", "/fhir"


def start_fhir_server(host="127.0.0.1", port=0, **state_options):
    return FhirServer(host, port, **state_options)
