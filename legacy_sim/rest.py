"""The REST legacy system: paged master data, purchase orders, receipts, bill outcomes."""

import base64
import json
import secrets
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler
from xml.sax.saxutils import escape

from . import credentials, data

LISTS = ("suppliers", "items", "stock-balances", "demands", "receipts", "consumptions")


class RestHandler(BaseHTTPRequestHandler):
    """One request; ``self.server.state`` is the shared State."""

    protocol_version = "HTTP/1.1"
    server_version = "LegacyRestSim/1.0"

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
        return

    @property
    def state(self):
        return self.server.state

    # --- plumbing ------------------------------------------------------------------------
    def _body(self):
        return self._raw_body

    def _send(self, status, payload=None, headers=None, raw=None, content_type="application/json"):
        body = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        correlation = self.headers.get("X-Correlation-ID")
        if correlation:
            self.send_header("X-Correlation-ID", correlation)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _auth_kind(self, query):
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            ok = (user, password) == (credentials.BASIC_USER, credentials.BASIC_PASSWORD)
            return "basic" if ok else None
        if header.startswith("Bearer "):
            token = header[7:].strip()
            if token == credentials.STATIC_TOKEN:
                return "bearer"
            with self.state.lock:
                return "oauth2" if token in self.state.tokens else None
        key = self.headers.get("X-API-Key") or (query.get("api_key") or [None])[0]
        if key is not None:
            return "api_key" if key == credentials.API_KEY else None
        return None

    def _faults(self, path):
        """Apply the REST fault settings; return True when the request was answered."""
        faults = self.state.faults["rest"]
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        if faults.down:
            self.close_connection = True
            self.connection.shutdown(2)
            return True
        if self.state.roll("rest", faults.timeout_rate):
            time.sleep(faults.hang_seconds)
        if self.state.roll("rest", faults.error_rate):
            headers = {"Retry-After": f"{faults.retry_after:g}"} if faults.status_code in (429, 503) else {}
            self._send(faults.status_code, {"error": "injected failure"}, headers)
            return True
        if self.state.roll("rest", faults.malformed_rate):
            self._send(200, raw=b'{"items": [{"code": "ITM-0', content_type="application/json")
            return True
        return False

    # --- dispatch --------------------------------------------------------------------------
    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def _dispatch(self, method):
        # Read the whole body first: an unread body would corrupt the next keep-alive request.
        length = int(self.headers.get("Content-Length") or 0)
        self._raw_body = self.rfile.read(length) if length else b""
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path.rstrip("/") or "/", urllib.parse.parse_qs(url.query)
        try:
            if path.startswith("/_admin/"):
                return self._admin(method, path)
            if path == "/health":
                return self._send(200, {"status": "ok"})
            if self._faults(path):
                return None
            if path == "/oauth/token" and method == "POST":
                return self._token()
            auth = self._auth_kind(query)
            self.state.log(method, path, self.headers.get("X-Correlation-ID"), auth)
            if not auth:
                return self._send(401, {"error": "unauthorized"}, {"WWW-Authenticate": "Basic"})
            return self._api(method, path, query)
        except (BrokenPipeError, ConnectionResetError, OSError):
            return None

    def _token(self):
        form = urllib.parse.parse_qs(self._body().decode())
        client_id = (form.get("client_id") or [None])[0]
        secret = (form.get("client_secret") or [None])[0]
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        with self.state.lock:
            self.state.token_requests += 1
        if (form.get("grant_type") or [None])[0] != "client_credentials":
            return self._send(400, {"error": "unsupported_grant_type"})
        if (client_id, secret) != (credentials.OAUTH_CLIENT_ID, credentials.OAUTH_CLIENT_SECRET):
            return self._send(401, {"error": "invalid_client"})
        token = secrets.token_hex(16)
        with self.state.lock:
            self.state.tokens.add(token)
        return self._send(200, {"access_token": token, "token_type": "Bearer", "expires_in": self.state.token_ttl})

    def _api(self, method, path, query):
        parts = path.split("/")[1:]  # api, v1, resource, ...
        if parts[:2] != ["api", "v1"] or len(parts) < 3:
            return self._send(404, {"error": "not found"})
        resource = parts[2]
        if resource == "health":
            return self._send(200, {"status": "ok"})
        if resource == "forbidden":
            return self._send(403, {"error": "forbidden"})
        if resource in LISTS and method == "GET" and len(parts) == 3:
            return self._list(resource, query)
        if resource == "purchase-orders":
            return self._orders(method, parts[3:])
        if resource == "bill-outcomes":
            return self._outcomes(method)
        return self._send(404, {"error": "not found"})

    # --- lists -------------------------------------------------------------------------------------
    def _records(self, resource):
        st = self.state
        if resource == "suppliers":
            return st.suppliers, lambda i: data.supplier(st.seed, i)
        if resource == "items":
            def item(i):
                record = data.item(st.seed, i, st.suppliers)
                with st.lock:
                    record.update(st.item_overrides.get(record["code"], {}))
                return record
            return st.items, item
        if resource == "stock-balances":
            with st.lock:
                planted = st.planted_balances
            if planted is not None:
                return len(planted), planted.__getitem__
            return st.balances, lambda i: data.stock_balance(st.seed, i, st.items)
        if resource == "consumptions":
            with st.lock:
                consumptions = list(st.planted_consumptions)
            return len(consumptions), consumptions.__getitem__
        if resource == "demands":
            with st.lock:
                planted = list(st.planted_demands)
            return st.demands + len(planted), lambda i: (
                data.demand(st.seed, i, st.items) if i < st.demands else planted[i - st.demands]
            )
        with st.lock:
            planted = list(st.planted_receipts)
        return len(planted), planted.__getitem__

    def _list(self, resource, query):
        total, record = self._records(resource)

        def arg(name, default=None):
            return (query.get(name) or [default])[0]

        extra = {}
        if arg("offset") is not None:
            size = min(int(arg("limit", 100)), 1000)
            start = int(arg("offset"))
            extra = {"offset": start, "limit": size, "total": total}
            nxt = {"offset": start + size, "limit": size} if start + size < total else None
        elif arg("cursor") is not None or arg("limit") is not None or arg("paging") == "cursor":
            size = min(int(arg("limit", 100)), 1000)
            start = int(base64.urlsafe_b64decode(arg("cursor")).decode()) if arg("cursor") else 0
            cursor = base64.urlsafe_b64encode(str(start + size).encode()).decode() if start + size < total else None
            extra = {"next_cursor": cursor}
            nxt = {"cursor": cursor, "limit": size} if cursor else None
        else:
            size = min(int(arg("page_size", 100)), 1000)
            page = max(int(arg("page", 1)), 1)
            start = (page - 1) * size
            has_next = start + size < total
            extra = {"page": page, "page_size": size, "total": total, "next_page": page + 1 if has_next else None}
            nxt = {"page": page + 1, "page_size": size} if has_next else None
        items = [record(i) for i in range(start, min(start + size, total))]
        headers = {}
        if nxt:
            keep = {k: v[0] for k, v in query.items() if k not in ("page", "page_size", "offset", "limit", "cursor")}
            link = f"http://{self.headers.get('Host')}/api/v1/{resource}?{urllib.parse.urlencode({**keep, **nxt})}"
            headers["Link"] = f'<{link}>; rel="next"'
        if arg("format") == "xml" or "xml" in self.headers.get("Accept", ""):
            return self._send(200, raw=self._xml_page(items, extra), headers=headers, content_type="application/xml")
        return self._send(200, {"items": items, **extra}, headers)

    @staticmethod
    def _xml_page(items, extra):
        attrs = " ".join(f'{k}="{escape(str(v))}"' for k, v in extra.items() if v is not None)
        out = [f"<page {attrs}>"]
        for record in items:
            out.append("<item>" + "".join(
                f"<{k}>{escape('' if v is None else str(v))}</{k}>" for k, v in record.items()
                if not isinstance(v, (list, dict))) + "</item>")
        out.append("</page>")
        return "".join(out).encode()

    # --- orders and outcomes -------------------------------------------------------------------------
    def _orders(self, method, rest):
        st = self.state
        if method == "GET" and not rest:
            with st.lock:
                return self._send(200, {"items": list(st.orders), "total": len(st.orders)})
        if method == "POST" and not rest:
            try:
                order = json.loads(self._body() or b"{}")
            except ValueError:
                return self._send(400, {"error": "body is not JSON"})
            if not isinstance(order, dict) or not order.get("reference"):
                return self._send(400, {"error": "reference is required"})
            faults = st.faults["rest"]
            hang = st.roll("rest", faults.timeout_after_store_rate)
            vendors = {f"SUP-{i + 1:04d}" for i in range(st.suppliers)}
            status, answer = st.submit_order(
                order, self.headers.get("Idempotency-Key"), self.headers.get("X-Correlation-ID"), vendors,
                before_answer=(lambda: time.sleep(faults.hang_seconds)) if hang else None,
            )
            return self._send(status, answer)
        if rest and method in ("POST", "PUT"):
            stored = st.find_order(rest[0])
            if not stored:
                return self._send(404, {"error": f"unknown order {rest[0]}"})
            change = json.loads(self._body() or b"{}")
            with st.lock:
                if rest[1:] == ["cancel"]:
                    stored["status"] = "cancelled"
                else:
                    stored.update({k: v for k, v in change.items() if k != "remote_order_number"})
                    stored.setdefault("revisions", 0)
                    stored["revisions"] += 1
            return self._send(200, {"status": stored["status"], "remote_order_number": rest[0]})
        return self._send(405, {"error": "method not allowed"})

    def _outcomes(self, method):
        st = self.state
        if method == "GET":
            with st.lock:
                return self._send(200, {"items": list(st.outcomes)})
        try:
            outcome = json.loads(self._body() or b"{}")
        except ValueError:
            return self._send(400, {"error": "body is not JSON"})
        key = self.headers.get("Idempotency-Key")
        with st.lock:
            if key and key in st.outcomes_by_key:
                return self._send(200, st.outcomes_by_key[key])
            st.outcomes.append({**outcome, "idempotency_key": key})
            answer = {"status": "received", "id": len(st.outcomes)}
            if key:
                st.outcomes_by_key[key] = answer
        return self._send(201, answer)

    # --- admin ---------------------------------------------------------------------------------------
    def _admin(self, method, path):
        st = self.state
        body = json.loads(self._body() or b"{}") if method == "POST" else None
        if path == "/_admin/state":
            with st.lock:
                return self._send(200, {"orders": len(st.orders), "outcomes": len(st.outcomes),
                                        "token_requests": st.token_requests, "requests": st.request_count})
        if path == "/_admin/faults" and method == "POST":
            target = body.pop("target", "rest")
            try:
                st.set_faults(target, **body)
            except (ValueError, KeyError) as exc:
                return self._send(400, {"error": str(exc)})
            return self._send(200, {"ok": True})
        if path in ("/_admin/take-down", "/_admin/bring-up") and method == "POST":
            if body.get("target") != "soap" or not getattr(st, "controller", None):
                return self._send(400, {"error": "only the SOAP server can be taken down here; "
                                                 "the REST one has the 'down' fault setting"})
            if path.endswith("take-down"):
                st.controller.take_down("soap")
            else:
                st.controller.bring_up("soap")
            return self._send(200, {"ok": True})
        if path == "/_admin/reset":
            st.reset()
            return self._send(200, {"ok": True})
        if path == "/_admin/revoke-tokens":
            with st.lock:
                st.tokens.clear()
            return self._send(200, {"ok": True})
        if path in ("/_admin/receipts", "/_admin/demands", "/_admin/consumptions") and method == "POST":
            target = {"receipts": st.planted_receipts, "demands": st.planted_demands,
                      "consumptions": st.planted_consumptions}[path.rsplit("/", 1)[1]]
            with st.lock:
                target.extend(body if isinstance(body, list) else [body])
            return self._send(200, {"ok": True})
        if path == "/_admin/balances" and method == "POST":
            with st.lock:
                st.planted_balances = list(body if isinstance(body, list) else [body])
            return self._send(200, {"ok": True})
        if path.startswith("/_admin/items/") and method == "POST":
            with st.lock:
                st.item_overrides.setdefault(path.rsplit("/", 1)[1], {}).update(body)
            return self._send(200, {"ok": True})
        return self._send(404, {"error": "unknown admin path"})
