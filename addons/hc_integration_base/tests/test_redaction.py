"""What the message store keeps of sensitive values: XML payloads and remote answers are masked
with the flow's sensitive paths, and unredacted payloads of messages in exception expire."""

import json
from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import HcIntegrationCase, json_answer

NID = "750101-1234"
ADMISSION = f"""<h:Admission xmlns:h="urn:hc:legacy:pas" number="A-7">
  <h:patient nid="{NID}"><h:national-id>{NID}</h:national-id><h:name>Ada Lovelace</h:name><h:ward>3</h:ward></h:patient>
  <h:lines><h:note>HIV+ ward</h:note><h:item>GLOVE</h:item></h:lines>
  <h:lines><h:note>private note</h:note><h:item>MASK</h:item></h:lines>
</h:Admission>"""
NS = {"h": "urn:hc:legacy:pas"}


def _echo_patient(request, body):
    """A REST system answering every request with the patient record it holds."""
    return json_answer(201, {"status": "received", "patient": {"national-id": NID, "name": "Ada Lovelace"},
                             "lines": [{"note": "HIV+ ward"}, {"note": "private note"}]})


@tagged("post_install", "-at_install")
class TestRedaction(HcIntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.remote = cls.start_server(_echo_patient)
        cls.backend = cls.create_backend(code="pas_redact", base_url=cls.remote.url, breaker_threshold=100)
        paths = "patient['national-id']\nlines[*].note\nh:patient/@nid"
        cls.inbound = cls.create_flow("admissions", cls.backend, name="Admissions", object_type="generic",
                                      sensitive_paths=paths)
        cls.push = cls.create_flow("patient_push", cls.backend, name="Patient push", object_type="generic",
                                   direction="push", system_of_record="odoo", remote_resource="/api/v1/patients",
                                   sensitive_paths=paths)
        cls.Message = cls.env["hc.message"]

    def test_xml_payload_is_stored_redacted(self):
        message = self.receive(self.inbound, ADMISSION)
        for secret in (NID, "HIV+", "private note"):
            self.assertNotIn(secret, message.payload)
        root = etree.fromstring(message.payload.encode())
        self.assertEqual(root.findtext("h:patient/h:national-id", namespaces=NS), "***")
        self.assertEqual(root.find("h:patient", namespaces=NS).get("nid"), "***")
        self.assertEqual([n.text for n in root.findall("h:lines/h:note", namespaces=NS)], ["***", "***"])
        self.assertEqual(root.findtext("h:patient/h:name", namespaces=NS), "Ada Lovelace", "only what is named")
        self.assertEqual(message.sudo().payload_raw, ADMISSION, "the unredacted payload is kept aside")

    def test_bracket_quoted_key_is_masked_in_a_json_payload(self):
        message = self.receive(self.inbound, {"patient": {"national-id": NID, "name": "Ada"}})
        self.assertEqual(json.loads(message.payload)["patient"], {"national-id": "***", "name": "Ada"})

    def test_unreadable_sensitive_path_withholds_the_payload(self):
        """A flow saved today refuses such a path; one stored before that check (or by SQL) must
        still never let the values through."""
        with self.assertRaises(ValidationError):
            self.inbound.sensitive_paths = "patient['national-id'"  # the closing bracket forgotten
        self.env.cr.execute("UPDATE hc_flow SET sensitive_paths = %s WHERE id = %s",
                            ["patient['national-id'", self.inbound.id])
        self.inbound.invalidate_recordset(["sensitive_paths"])
        message = self.receive(self.inbound, {"patient": {"national-id": NID}})
        self.assertNotIn(NID, message.payload)
        self.assertIn("patient['national-id'", message.payload, "the message names the path to fix")
        self.assertIn(NID, message.sudo().payload_raw)

    def test_remote_answer_is_stored_redacted(self):
        partner = self.env["res.partner"].create({"name": "Ada Lovelace"})
        message = self.receive(self.push, {"reference": "ADM-1"}, direction="outbound", record=partner)
        message._job_process()
        self.assertEqual(message.state, "done", message.error_message)
        answer = json.loads(message.response)
        self.assertEqual(answer["status"], "received")
        self.assertEqual(answer["patient"], {"national-id": "***", "name": "Ada Lovelace"})
        self.assertEqual(answer["lines"], [{"note": "***"}, {"note": "***"}])

    def test_purge_drops_unredacted_payloads_of_old_exceptions(self):
        self.backend.write({"payload_retention_days": 10, "message_retention_days": 100,
                            "exception_payload_retention_days": 30})
        now = fields.Datetime.now()
        messages = {}
        for key, age in (("fresh", 5), ("old", 40), ("ancient", 400)):
            message = self.receive(self.inbound, {"id": key, "lines": [{"note": "HIV+ ward"}]})
            message.write({"state": "exception", "error_category": "validation",
                           "error_message": f"vendor unknown ({key})", "received_at": now - timedelta(days=age)})
            messages[key] = message
        retrying = self.receive(self.inbound, {"id": "retrying", "lines": [{"note": "HIV+ ward"}]})
        retrying.write({"state": "queued", "received_at": now - timedelta(days=400)})
        self.Message._cron_purge()
        self.assertIn("HIV+", messages["fresh"].sudo().payload_raw, "a recent exception can still be replayed")
        for key in ("old", "ancient"):
            message = messages[key]
            self.assertTrue(message.exists(), "a message in exception is never deleted")
            self.assertFalse(message.sudo().payload_raw, key)
            self.assertEqual(json.loads(message.payload)["lines"], [{"note": "***"}], key)
            self.assertEqual(message.error_message, f"vendor unknown ({key})")
            self.assertEqual(message.state, "exception")
        self.assertTrue(retrying.sudo().payload_raw, "a message still being processed keeps what it needs")

    def test_exception_retention_is_longer_than_that_of_finished_payloads_by_default(self):
        backend = self.create_backend(code="pas_defaults")
        self.assertGreater(backend.exception_payload_retention_days, backend.payload_retention_days)
