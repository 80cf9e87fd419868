"""One user's session calling Odoo the way the web client does (JSON-RPC ``call_kw`` and
``call_button``): the suite-level tests act as administrators, consultants, buyers and planners
through it."""

import requests


class RpcError(Exception):
    pass


class WebClient:
    """One user's session, calling Odoo the way the web client does."""

    def __init__(self, url, db, login, password):
        self.url, self.session, self.counter = url, requests.Session(), 0
        info = self._post("/web/session/authenticate", {"db": db, "login": login, "password": password})
        self.uid, self.context = info["uid"], info["user_context"]

    def _post(self, path, params):
        self.counter += 1
        answer = self.session.post(self.url + path, timeout=120, json={
            "jsonrpc": "2.0", "method": "call", "id": self.counter, "params": params})
        answer.raise_for_status()
        body = answer.json()
        if "error" in body:
            error = body["error"].get("data", {})
            raise RpcError(f"{error.get('name')}: {error.get('message') or body['error']}")
        return body.get("result")

    def call(self, model, method, *args, **kwargs):
        kwargs.setdefault("context", self.context)
        return self._post(f"/web/dataset/call_kw/{model}/{method}",
                          {"model": model, "method": method, "args": list(args), "kwargs": kwargs})

    def button(self, model, method, record_id):
        """A button of a form (type="object"), as the web client presses it."""
        return self._post(f"/web/dataset/call_button/{model}/{method}",
                          {"model": model, "method": method, "args": [[record_id]],
                           "kwargs": {"context": self.context}})

    def create(self, model, values):
        return self.call(model, "create", values)

    def read(self, model, domain, fields, **kwargs):
        return self.call(model, "search_read", domain, fields, **kwargs)

    def one(self, model, domain, fields):
        records = self.read(model, domain, fields)
        assert len(records) == 1, (model, domain, records)
        return records[0]
