import json
import logging

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.tests import tagged

from .common import HcIntegrationHttpCase

_logger = logging.getLogger(__name__)

SCHEMA = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "string"}, "name": {"type": "string", "minLength": 1}},
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
valid_records = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=20), "name": st.text(min_size=1, max_size=40)}
)
bodies = st.one_of(
    valid_records.map(lambda d: json.dumps(d).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        b"<r><id>1</id></r>", b"<r>", b"[" * 500 + b"]" * 500, b"{" * 50, b"\xff\xfe\x00",
        ("x" * 5000).encode(),
    ]),
)
headers = st.fixed_dictionaries(
    {
        "Content-Type": st.sampled_from(
            ["application/json", "application/json; charset=utf-8", "application/xml", "text/xml",
             "text/plain", "", "multipart/form-data"]
        ),
        "X-API-Key": st.sampled_from(["fuzz-key", "fuzz-key", "wrong", ""]),
    },
    optional={
        "Idempotency-Key": st.from_regex(r"[A-Za-z0-9._:-]{1,30}", fullmatch=True),
        "X-Correlation-ID": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:/ -]{0,38}[A-Za-z0-9]", fullmatch=True),
    },
)


@tagged("post_install", "-at_install")
class TestInboundFuzz(HcIntegrationHttpCase):
    """2,000 generated bodies and headers: never a 5xx, never a stored message for a rejection."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.create_backend(name="Fuzzed", code="fuzz", inbound_api_key="fuzz-key", inbound_max_bytes=4096)
        cls.flow = cls.create_flow("events", cls.backend, name="Fuzzed flow", inbound_schema=json.dumps(SCHEMA))
        cls.statuses = {}

    def count(self):
        return self.env["hc.message"].search_count([("backend_id", "=", self.backend.id)])

    @settings(max_examples=2000, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(body=bodies, request_headers=headers, flow_code=st.sampled_from(["events", "events", "missing"]))
    def test_no_5xx_and_nothing_stored_on_rejection(self, body, request_headers, flow_code):
        before = self.count()
        sent = {k: v for k, v in request_headers.items() if v}
        response = self.url_open(f"/hc/in/fuzz/{flow_code}", data=body, headers=sent, method="POST")
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        self.assertLess(response.status_code, 500, response.text[:300])
        self.assertTrue(response.headers["Content-Type"].startswith("application/json"), response.text[:200])
        answer = response.json()
        if response.status_code >= 400:
            self.assertEqual(set(answer), {"error"})
            self.assertTrue(answer["error"]["code"] and answer["error"]["message"])
            self.assertEqual(self.count(), before, "a rejected request stored a message")
        else:
            self.assertIn(response.status_code, (200, 202))
            self.assertEqual(self.count(), before + (response.status_code == 202))

    @classmethod
    def tearDownClass(cls):
        total = sum(cls.statuses.values())
        _logger.info("fuzz: %s requests, statuses %s", total, dict(sorted(cls.statuses.items())))
        super().tearDownClass()
        if total < 2000:
            raise AssertionError(f"the fuzz test sent only {total} requests")
