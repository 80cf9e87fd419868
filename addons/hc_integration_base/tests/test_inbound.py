import json
import time

from odoo.tests import tagged

from ..payload.inbound import sign
from .common import DISCARD_URL, HcIntegrationHttpCase

SCHEMA = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string", "minLength": 1},
        "email": {"type": "string"},
    },
}


@tagged("post_install", "-at_install")
class TestInboundEndpoint(HcIntegrationHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.create_backend(name="Departmental system", code="dept", base_url=DISCARD_URL,
                                         inbound_api_key="in-key-123", inbound_max_bytes=2000)
        cls.flow = cls.create_flow("contacts", cls.backend, name="Contacts in", inbound_schema=json.dumps(SCHEMA))
        cls.url = "/hc/in/dept/contacts"

    def post(self, body, headers=None, url=None, content_type="application/json"):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        all_headers = {"Content-Type": content_type, "X-API-Key": "in-key-123"}
        all_headers.update(headers or {})
        all_headers = {k: v for k, v in all_headers.items() if v is not None}
        return self.url_open(url or self.url, data=data, headers=all_headers, method="POST")

    def count(self):
        return self.env["hc.message"].search_count([("backend_id", "=", self.backend.id)])

    def assertError(self, response, status, code):
        self.assertEqual(response.status_code, status, response.text)
        self.assertTrue(response.headers["Content-Type"].startswith("application/json"))
        self.assertEqual(response.json()["error"]["code"], code)

    def test_accepted_and_pollable(self):
        response = self.post({"id": "D1", "name": "Ward clerk"}, headers={"X-Correlation-ID": "corr-42"})
        self.assertEqual(response.status_code, 202, response.text)
        body = response.json()
        message = self.env["hc.message"].browse(body["message_id"])
        self.assertEqual(message.correlation_id, "corr-42")
        self.assertEqual(message.external_id, "D1")
        self.assertEqual(message.state, "queued")
        self.assertTrue(message.job_uuid)
        self.assertEqual(response.headers["Location"], body["url"])
        poll = self.url_open(body["url"], headers={"X-API-Key": "in-key-123"})
        self.assertEqual(poll.json()["state"], "queued")
        # Another caller (another backend's key) cannot read it.
        self.create_backend(name="Other", code="other", inbound_api_key="other-key")
        foreign = self.url_open(body["url"], headers={"X-API-Key": "other-key"})
        self.assertError(foreign, 403, "forbidden")
        self.assertError(self.url_open(body["url"]), 401, "unauthenticated")

    def test_accepted_event_is_queued_with_its_job_as_with_delay_would(self):
        """The post stores the message already queued and its job beside it (no trap here: the job
        is a real queue.job row): run as the backend's integration user in that user's company, on
        the flow's channel, or the urgent channel for an urgent flow."""
        urgent = self.create_flow("urgent_contacts", self.backend, name="Urgent contacts in", urgent=True)
        user = self.env["res.users"].browse(self.backend._job_user())
        for url, flow, channel, priority in ((self.url, self.flow, self.flow._channel_for_jobs(), self.flow.priority),
                                             ("/hc/in/dept/urgent_contacts", urgent,
                                              self.backend._channel_name(urgent=True), 0)):
            with self.subTest(flow=flow.code):
                response = self.post({"id": f"Q-{flow.code}", "name": "Queued clerk"}, url=url)
                self.assertEqual(response.status_code, 202, response.text)
                message = self.env["hc.message"].browse(response.json()["message_id"])
                jobs = self.env["queue.job"].search([("uuid", "=", message.job_uuid)])
                self.assertEqual(len(jobs), 1)
                self.assertEqual(
                    (message.state, jobs.state, jobs.model_name, jobs.method_name, jobs.records, jobs.user_id,
                     jobs.company_id, jobs.channel, jobs.priority, jobs.max_retries, jobs.name),
                    ("queued", "pending", "hc.message", "_job_process", message, user, user.company_id, channel,
                     priority, flow.max_attempts, message.display_name))
                self.assertEqual((jobs.records.env.uid, jobs.records.env.su), (user.id, False),
                                 "the job acts with its user's rights, never as superuser")

    def test_every_client_error_is_json_and_stores_nothing(self):
        before = self.count()
        cases = [
            (self.post({"id": "D2", "name": "x"}, headers={"X-API-Key": None}), 401, "unauthenticated"),
            (self.post({"id": "D2", "name": "x"}, headers={"X-API-Key": "wrong"}), 403, "forbidden"),
            (self.post({"id": "D2"}, url="/hc/in/nope/contacts"), 404, "not_found"),
            (self.post({"id": "D2"}, url="/hc/in/dept/nope"), 404, "not_found"),
            (self.post("{not json"), 400, "malformed"),
            (self.post({"id": 3, "name": ""}), 400, "schema_invalid"),
            (self.post("x" * 3000), 413, "too_large"),
            (self.post("a,b", content_type="text/csv"), 415, "unsupported_media_type"),
            (self.post(b"\xff\xfe{}"), 400, "bad_encoding"),
            (self.post(b""), 400, "empty"),
            (self.post({"id": "N\u0000UL", "name": "x"}), 400, "nul_character"),
            (self.url_open(self.url, headers={"X-API-Key": "in-key-123"}), 405, "method_not_allowed"),
            (self.post("[" * 999 + "]" * 999), 400, None),
        ]
        for response, status, code in cases:
            with self.subTest(status=status, code=code):
                self.assertEqual(response.status_code, status, response.text)
                error = response.json()["error"]
                if code:
                    self.assertEqual(error["code"], code)
        schema_error = cases[5][0].json()["error"]
        self.assertEqual({d["path"] for d in schema_error["details"]}, {"/id", "/name"})
        self.assertEqual(self.count(), before)

    def test_xml_with_dtd_or_entities_refused(self):
        before = self.count()
        xxe = (
            '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            "<r>&x;</r>"
        )
        laughs = (
            '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>'
        )
        for body in (xxe, laughs):
            response = self.post(body, content_type="application/xml")
            self.assertError(response, 400, "xml_forbidden")
            self.assertNotIn("root:", response.text)
        self.activate_xml_mapping()  # a flow without one refuses XML (415)
        ok = self.post("<contact><id>X1</id></contact>", content_type="application/xml")
        self.assertEqual(ok.status_code, 202, ok.text)
        self.assertEqual(self.count(), before + 1)

    def activate_xml_mapping(self):
        self.create_mapping(self.flow, [{"source": "id", "target": "ref"}], payload_format="xml")

    def test_xml_schema(self):
        self.activate_xml_mapping()
        self.flow.inbound_xsd = (
            '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="contact">'
            '<xs:complexType><xs:sequence><xs:element name="id" type="xs:string"/>'
            '<xs:element name="qty" type="xs:integer"/></xs:sequence></xs:complexType></xs:element></xs:schema>'
        )
        ok = self.post("<contact><id>X9</id><qty>3</qty></contact>", content_type="application/xml")
        self.assertEqual(ok.status_code, 202, ok.text)
        bad = self.post("<contact><id>X9</id><qty>three</qty></contact>", content_type="text/xml")
        self.assertError(bad, 400, "schema_invalid")
        self.assertIn("qty", bad.json()["error"]["details"][0]["message"])

    def test_idempotency_key(self):
        body = {"id": "D3", "name": "Lab"}
        first = self.post(body, headers={"Idempotency-Key": "evt-9"})
        again = self.post(body, headers={"Idempotency-Key": "evt-9"})
        self.assertEqual(first.status_code, 202)
        self.assertEqual(again.status_code, 200)
        self.assertEqual(again.json()["message_id"], first.json()["message_id"])
        self.assertTrue(again.json()["duplicate"])
        conflict = self.post({"id": "D3", "name": "Other body"}, headers={"Idempotency-Key": "evt-9"})
        self.assertError(conflict, 409, "idempotency_conflict")
        self.assertEqual(
            self.env["hc.message"].search_count([("idempotency_key", "=", "evt-9")]), 1
        )
        # Key taken from the payload when the flow says where it is.
        self.flow.idempotency_key_path = "id"
        one = self.post({"id": "D4", "name": "Pharmacy"})
        two = self.post({"id": "D4", "name": "Pharmacy"})
        self.assertEqual(one.json()["message_id"], two.json()["message_id"])

    def test_signature_and_replay_window(self):
        self.backend.inbound_hmac_secret = "sign-secret"
        body = json.dumps({"id": "D5", "name": "Signed"}).encode()
        now = int(time.time())
        good = {"X-HC-Signature": f"t={now},v1={sign('sign-secret', now, body)}"}
        self.assertEqual(self.post(body, headers=good).status_code, 202)
        self.assertError(self.post(body), 401, "signature_missing")
        tampered = body.replace(b"Signed", b"Forged")
        self.assertError(self.post(tampered, headers=good), 401, "signature_invalid")
        old = now - 3600
        replay = {"X-HC-Signature": f"t={old},v1={sign('sign-secret', old, body)}"}
        self.assertError(self.post(body, headers=replay), 401, "signature_expired")
        self.assertError(self.post(body, headers={"X-HC-Signature": "garbage"}), 401, "signature_malformed")

    def test_route_follows_configuration_changes(self):
        """The URL -> flow lookup is cached; renaming or archiving takes effect at once."""
        self.assertEqual(self.post({"id": "C1", "name": "n"}).status_code, 202)
        self.flow.code = "people"
        self.assertError(self.post({"id": "C2", "name": "n"}), 404, "not_found")
        moved = self.post({"id": "C2", "name": "n"}, url="/hc/in/dept/people")
        self.assertEqual(moved.status_code, 202, moved.text)
        self.assertEqual(moved.json()["url"], f"/hc/in/dept/people/messages/{moved.json()['message_id']}")
        self.flow.active = False
        self.assertError(self.post({"id": "C3", "name": "n"}, url="/hc/in/dept/people"), 404, "not_found")
        self.flow.active = True
        self.backend.active = False
        self.assertError(self.post({"id": "C3", "name": "n"}, url="/hc/in/dept/people"), 404, "not_found")
        self.backend.active = True
        self.backend.code = "ward"
        accepted = self.post({"id": "C3", "name": "n"}, url="/hc/in/ward/people")
        self.assertEqual(accepted.status_code, 202, accepted.text)
        message = self.env["hc.message"].browse(accepted.json()["message_id"])
        self.assertEqual(message.company_id, self.backend.company_id)
        self.assertEqual(message.object_type, self.flow.object_type)

    def test_post_settings_follow_configuration_changes(self):
        """What a post reads of its backend and flow is cached with the route: a new API key, a
        lower size limit, a sensitive path or a new priority apply from the next post on."""
        self.assertEqual(self.post({"id": "S1", "name": "n"}).status_code, 202)
        self.backend.inbound_api_key = "in-key-456"
        self.assertError(self.post({"id": "S2", "name": "n"}), 403, "forbidden")
        self.assertEqual(self.post({"id": "S2", "name": "n"}, headers={"X-API-Key": "in-key-456"}).status_code, 202)
        self.backend.inbound_max_bytes = 40
        self.assertError(self.post({"id": "S3", "name": "n" * 60}, headers={"X-API-Key": "in-key-456"}),
                         413, "too_large")
        self.backend.inbound_max_bytes = 2000
        self.flow.write({"sensitive_paths": "email", "priority": 3})
        response = self.post({"id": "S4", "name": "n", "email": "x@h.org"}, headers={"X-API-Key": "in-key-456"})
        self.assertEqual(response.status_code, 202, response.text)
        message = self.env["hc.message"].browse(response.json()["message_id"])
        self.assertEqual(json.loads(message.payload)["email"], "***")
        self.assertEqual(message.job_id.priority, 3)

    def test_rate_limit(self):
        self.backend.inbound_rate_limit = 1
        statuses = [self.post({"id": f"R{i}", "name": "n"}).status_code for i in range(4)]
        self.assertIn(429, statuses)
        limited = self.post({"id": "R9", "name": "n"})
        self.assertError(limited, 429, "rate_limited")
        self.assertGreaterEqual(int(limited.headers["Retry-After"]), 1)


@tagged("post_install", "-at_install")
class TestMonitoringEndpoints(HcIntegrationHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.create_backend(name="Monitored", code="mon", inbound_api_key="k")
        cls.flow = cls.create_flow("events", cls.backend, name="Events", inbound_schema=json.dumps(SCHEMA))

    def test_openapi_lists_configured_flows(self):
        document = self.url_open("/hc/openapi.json", headers={"X-API-Key": "k"}).json()
        self.assertTrue(document["openapi"].startswith("3."))
        operation = document["paths"]["/hc/in/mon/events"]["post"]
        self.assertEqual(operation["requestBody"]["content"]["application/json"]["schema"], SCHEMA)
        self.assertLessEqual({"202", "400", "401", "404", "409", "413", "415", "429"}, set(operation["responses"]))

    def test_metrics_needs_token(self):
        self.assertEqual(self.url_open("/hc/metrics").status_code, 401)
        self.env["ir.config_parameter"].sudo().set_param("hc_integration_base.metrics_token", "m-token")
        self.assertEqual(
            self.url_open("/hc/metrics", headers={"Authorization": "Bearer wrong"}).status_code, 401
        )
        self.env["hc.message"].sudo().create(
            {"backend_id": self.backend.id, "flow_id": self.flow.id, "direction": "inbound"}
        )
        response = self.url_open("/hc/metrics", headers={"Authorization": "Bearer m-token"})
        self.assertEqual(response.status_code, 200)
        self.assertIn('hc_messages{backend="mon",state="new"} 1', response.text)
        self.assertIn('hc_oldest_pending_seconds{backend="mon"}', response.text)
        self.assertIn('hc_circuit_open{backend="mon"} 0', response.text)
