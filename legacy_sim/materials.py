"""A REST materials-management system unlike the demo REST simulator: other names, nesting, paging.

Written to prove that supplier and item pulls, demand events and receipt confirmations are
configured, not programmed: nothing in the addons knows this system. German keys, every record
nested, dd.mm.yyyy dates, decimal commas, its own unit codes (``ST``, ``PAK``, ``LTR``) and
yes/no and status codes (``J``/``N``, ``FREI``/``GESPERRT``, ``JA``/``NEIN``).

- Authentication: the header ``X-MM-Token: <MMS_TOKEN>`` on every path but ``/mm/ping``.
- Lists ``GET /mm/rest/v3/lieferanten``, ``/mm/rest/v3/artikel``, ``/mm/rest/v3/wareneingaenge``
  are paged by ``?seite=<n>&anzahl=<size>``: without ``anzahl`` a page holds ``DEFAULT_CAP``
  records, and never more than ``MAX_CAP`` whatever is asked. Other parameters (``page``,
  ``page_size``, ``limit``...) are ignored: a client sending them gets page 1 again and again.
  Answer: ``{"antwort": {"code": "OK", "daten": {"eintraege": [...]}},
  "blaettern": {"seite": n, "seiten": pages, "treffer": total, "naechste": n + 1 | null}}``.
- Goods receipts (``wareneingaenge``) are what the receiving desk booked: the test adds them with
  ``mms.book_receipt(...)`` (or ``POST /_admin/wareneingaenge``).
- Demand (``Bedarfsanforderung``) is pushed by the system itself: ``mms.send_demand(url, key,
  document)`` posts it to Odoo's inbound API as the system would (``X-API-Key``).

In tests: ``mms = start_materials_system(suppliers=24, items=90)``, ``mms.url``,
``mms.requests`` (the list requests received, with their query), ``mms.stop()``.
Records are computed from their index: ``supplier_record(i)``, ``item_record(i)``.
"""

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler

from ._serve import BackgroundServer, post_json

MMS_TOKEN = "mm-7f3c-odoo"  # noqa: S105 - a simulator's fixed test credential
BASE = "/mm/rest/v3/"
DEFAULT_CAP = 10
MAX_CAP = 40
CITIES = (("Hamburg", "20095", "DE"), ("Wien", "1010", "AT"), ("Basel", "4051", "CH"), ("Köln", "50667", "DE"))
UNITS = ("ST", "PAK", "LTR")


def supplier_code(index):
    return f"LF-{index + 1:04d}"


def item_code(index):
    return f"A-{10001 + index}"


def catalog_code(index):
    """The catalog number printed on the item: not the article number other documents use."""
    return f"KAT-{7000 + index * 7}"


def supplier_record(index):
    city, zip_code, country = CITIES[index % len(CITIES)]
    code = supplier_code(index)
    return {
        "lieferant": {"nr": code, "name1": f"Medizinbedarf {index + 1} GmbH"},
        "kontakt": {"email": f"BESTELLUNG@{code.replace('-', '')}.EXAMPLE", "telefon": f"+49 40 {5550000 + index}"},
        "anschrift": {"strasse": f"Hafenstraße {index + 1}", "plz": zip_code, "ort": city, "land": country},
        "steuer": {"ustid": f"{country}{100000000 + index}"},
        "status": "GESPERRT" if index % 11 == 10 else "AKTIV",
        "angelegt_am": f"{(index % 28) + 1:02d}.{(index % 12) + 1:02d}.2019",
    }


def item_price(index):
    """The price in cents (the record shows it with a decimal comma)."""
    return 150 + (index * 37) % 4000


def item_record(index, suppliers):
    base_unit = "LTR" if index % 9 == 4 else "ST"
    price = item_price(index)
    return {
        "artikel": {"nr": item_code(index), "katalognr": catalog_code(index),
                    "bezeichnung": f"Sterilgut Typ {index + 1}", "gtin": f"40{index:011d}"},
        "mengen": {"basiseinheit": base_unit,
                   "bestelleinheit": "PAK" if base_unit == "ST" and index % 3 == 2 else base_unit},
        "einkauf": {
            "lieferant": supplier_code(index % suppliers),
            "preis": f"{price // 100},{price % 100:02d}",
            "lieferzeit": str(2 + index % 6),
            "mindestmenge": f"{1 + index % 5},0",
            "lieferanten_artnr": f"V{index:05d}",
        },
        "merkmale": {"chargenpflicht": "J" if index % 4 == 1 else "N", "kritisch": "J" if index % 10 == 0 else "N",
                     "status": "GESPERRT" if index % 15 == 14 else "FREI"},
    }


class MaterialsState:
    def __init__(self, suppliers=24, items=90):
        self.lock = threading.Lock()
        self.suppliers = suppliers
        self.items = items
        self.receipts = []
        self.requests = []  # (path, query) of every list request

    def records(self, name):
        if name == "lieferanten":
            return [supplier_record(i) for i in range(self.suppliers)]
        if name == "artikel":
            return [item_record(i, self.suppliers) for i in range(self.items)]
        if name == "wareneingaenge":
            with self.lock:
                return list(self.receipts)
        return None


class MaterialsHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MMS/3.2"

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
        return

    def _send(self, status, payload):
        body = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status, code, text):
        self._send(status, {"antwort": {"code": code, "meldung": text}})

    def do_GET(self):  # noqa: N802 - http.server's handler name
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/mm/ping":
            return self._send(200, {"antwort": {"code": "OK"}})
        if self.headers.get("X-MM-Token") != MMS_TOKEN:
            return self._error(401, "AUTH", "Token fehlt oder ist ungültig")
        if not url.path.startswith(BASE):
            return self._error(404, "NF", "Unbekannter Pfad")
        name = url.path[len(BASE):].strip("/")
        state = self.server.state
        records = state.records(name)
        if records is None:
            return self._error(404, "NF", f"Unbekannte Liste {name}")
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        with state.lock:
            state.requests.append((name, query))
        try:
            page = max(int(query.get("seite", 1)), 1)
            size = min(max(int(query.get("anzahl", DEFAULT_CAP)), 1), MAX_CAP)
        except ValueError:
            return self._error(400, "PARAM", "seite und anzahl sind ganze Zahlen")
        pages = max((len(records) + size - 1) // size, 1)
        chunk = records[(page - 1) * size:page * size]
        return self._send(200, {
            "antwort": {"code": "OK", "daten": {"eintraege": chunk}},
            "blaettern": {"seite": page, "seiten": pages, "treffer": len(records),
                          "naechste": page + 1 if page < pages else None},
        })

    def do_POST(self):  # noqa: N802
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if url.path == "/_admin/wareneingaenge":
            self.server.state_book(json.loads(body or b"{}"))
            return self._send(201, {"antwort": {"code": "OK"}})
        return self._error(404, "NF", "Unbekannter Pfad")


class MaterialsSystem(BackgroundServer):
    state_class, handler_class, thread_name = MaterialsState, MaterialsHandler, "materials-system"

    def __init__(self, host="127.0.0.1", port=0, **state_options):
        super().__init__(host, port, **state_options)
        self.server.state_book = self.book_receipt

    @property
    def requests(self):
        with self.state.lock:
            return list(self.state.requests)

    def book_receipt(self, receipt):
        """The receiving desk books a goods receipt: the next pull of wareneingaenge lists it."""
        with self.state.lock:
            self.state.receipts.append(receipt)

    @staticmethod
    def send_demand(odoo_url, api_key, document, timeout=10):
        """Post a demand (Bedarfsanforderung) to ``odoo_url`` (the inbound URL of its flow), as the
        system does when a requisition is released; returns (HTTP status, answer)."""
        return post_json(odoo_url, api_key, document, timeout)



def start_materials_system(host="127.0.0.1", port=0, **state_options):
    """Start the system in a background thread; port 0 picks a free one."""
    return MaterialsSystem(host, port, **state_options)
