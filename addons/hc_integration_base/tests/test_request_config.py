"""Push requests described by the flow (method, path template, query, JSON or XML), inbound XML
applied through an XML mapping or refused at the door, and push triggers set in the UI
(a generated base.automation rule)."""

import json
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from ..exceptions import PermanentError
from .common import DISCARD_URL, HcIntegrationCase, HcIntegrationHttpCase, json_answer


class RequestCase(HcIntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A REST system that answers what the test tells it (``server.reply``).
        cls.server = cls.start_server(lambda request, body: cls.server.reply)
        cls.backend = cls.create_backend(code="orders_rest", base_url=cls.server.url + "/api")
        cls.flow = cls.create_flow("contacts_out", cls.backend, name="Contacts out", direction="push",
                                   system_of_record="odoo", remote_resource="/contacts")
        cls.create_mapping(cls.flow, [{"source": "ref", "target": "reference"}, {"source": "name", "target": "name"}],
                           direction="outbound")

    def setUp(self):
        super().setUp()
        self.server.requests.clear()
        self.server.reply = json_answer(200, {"status": "accepted"})

    def push(self, partner):
        with trap_jobs():
            message = self.flow._push_records(partner)
        message._job_process()
        return message


@tagged("post_install", "-at_install")
class TestRestRequest(RequestCase):
    def test_method_path_template_and_query_come_from_the_flow(self):
        self.flow.write({"request_method": "PUT", "request_path": "/orders/{reference}",
                         "request_query": "site=north\n# the sender, from the document\nsender={reference}"})
        message = self.push(self.env["res.partner"].create({"name": "Ward 7", "ref": "A/17"}))
        self.assertEqual(message.state, "done", message.error_message)
        [sent] = self.server.requests
        self.assertEqual(sent["method"], "PUT")
        url = urlsplit(sent["path"])
        self.assertEqual(url.path, "/api/orders/A%2F17", "the placeholder is filled and URL-encoded")
        self.assertEqual(parse_qs(url.query), {"site": ["north"], "sender": ["A/17"]})
        self.assertEqual(json.loads(sent["body"]), {"reference": "A/17", "name": "Ward 7"})
        self.assertEqual(sent["headers"]["X-Correlation-ID"], message.correlation_id)
        self.assertEqual(sent["headers"]["Idempotency-Key"], message.correlation_id,
                         "a retry of this message carries the same key")

    def test_update_and_cancel_have_their_own_method_and_path(self):
        """A REST system that takes new orders by POST, changes by PATCH on the order and a
        cancellation by DELETE: the document's action picks them; what the flow leaves empty falls
        back to the create request."""
        self.flow.write({"request_path": "/orders", "request_method_update": "PATCH",
                         "request_path_update": "/orders/{remote_order_number}",
                         "request_method_cancel": "DELETE", "request_path_cancel": ""})
        message = self.env["hc.message"].new({"correlation_id": "c-1"})
        sent = {action: self.flow._request(message, {}, {"action": action, "remote_order_number": "R/9"})
                for action in ("create", "update", "cancel")}
        self.assertEqual((sent["create"].method, sent["create"].path), ("POST", "/orders"))
        self.assertEqual((sent["update"].method, sent["update"].path), ("PATCH", "/orders/R%2F9"))
        self.assertEqual((sent["cancel"].method, sent["cancel"].path), ("DELETE", "/orders"))
        with self.assertRaisesRegex(PermanentError, "remote_order_number"):
            self.flow._request(message, {}, {"action": "update"})

    def test_query_as_json_object(self):
        self.flow.request_query = '{"site": "south", "batch": 3}'
        self.push(self.env["res.partner"].create({"name": "Ward 8", "ref": "B1"}))
        [sent] = self.server.requests
        self.assertEqual(urlsplit(sent["path"]).path, "/api/contacts", "no template: the remote resource")
        self.assertEqual(parse_qs(urlsplit(sent["path"]).query), {"site": ["south"], "batch": ["3"]})
        self.assertEqual(sent["method"], "POST")

    def test_missing_placeholder_is_a_mapping_error_naming_it(self):
        self.flow.request_path = "/orders/{reference}/lines/{line_no}"
        message = self.push(self.env["res.partner"].create({"name": "Ward 9", "ref": "C1"}))
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.error_category, "mapping")
        self.assertIn("{line_no}", message.error_message)
        self.assertFalse(self.server.requests, "nothing was sent")

    def test_bad_query_parameters_are_refused_naming_the_line(self):
        with self.assertRaisesRegex(ValidationError, "line 2 of the query parameters"):
            self.flow.request_query = "site=north\nnonsense"
        with self.assertRaisesRegex(ValidationError, "not a valid JSON object"):
            self.flow.request_query = '{"site": '

    def test_xml_request_and_answer(self):
        self.flow.write({"payload_format": "xml", "xml_root": "Contact"})
        self.server.reply = (200, {"Content-Type": "application/xml"}, b"<Ack><Status>OK</Status><No>R-9</No></Ack>")
        message = self.push(self.env["res.partner"].create({"name": "Ward <10> & co", "ref": "D1"}))
        self.assertEqual(message.state, "done", message.error_message)
        [sent] = self.server.requests
        self.assertEqual(sent["headers"]["Content-Type"], "application/xml")
        self.assertEqual(sent["headers"]["Accept"], "application/xml")
        root = etree.fromstring(sent["body"])
        self.assertEqual((root.tag, root.findtext("reference"), root.findtext("name")),
                         ("Contact", "D1", "Ward <10> & co"))
        self.assertIn("<Status>OK</Status>", message.response, "the answer is kept as the system wrote it")

    def test_xml_answer_that_is_not_xml_is_an_invalid_answer(self):
        self.flow.payload_format = "xml"
        self.server.reply = json_answer(200, {"status": "accepted"})
        message = self.push(self.env["res.partner"].create({"name": "Ward 11", "ref": "E1"}))
        self.assertEqual(message.state, "exception")
        self.assertIn("not valid XML", message.error_message)


@tagged("post_install", "-at_install")
class TestConditionalRequests(RequestCase):
    """Request headers templated from the document and from the record's binding: a conditional
    update names the version the binding holds (If-Match), the answer's ETag becomes the next one,
    a stale version (412) lands in the exception queue naming the conflict."""

    def setUp(self):
        super().setUp()
        self.flow.write({"request_method": "PUT", "request_path": "/contacts/{binding.external_id}",
                         "request_headers": 'If-Match: W/"{binding.version}"\n# from the document\nX-Ward: {reference}',
                         "response_version_header": "ETag"})
        self.partner = self.env["res.partner"].create({"name": "Ward 9", "ref": "W9"})

    def test_if_match_names_the_bound_version_and_the_etag_is_kept(self):
        self.env["hc.binding"]._remember_remote(self.backend, self.partner, "c-17", "5")
        self.server.reply = json_answer(200, {"status": "accepted"}, {"ETag": 'W/"6"'})
        message = self.push(self.partner)
        self.assertEqual(message.state, "done", message.error_message)
        [sent] = self.server.requests
        self.assertEqual((sent["method"], urlsplit(sent["path"]).path), ("PUT", "/api/contacts/c-17"))
        self.assertEqual((sent["headers"]["If-Match"], sent["headers"]["X-Ward"]), ('W/"5"', "W9"))
        binding = self.env["hc.binding"]._remote_of(self.backend, self.partner)
        self.assertEqual(binding.external_version, "6", "the entity tag's value, without W/ and quotes")

        self.server.reply = json_answer(412, {"issue": [{"diagnostics": "version 6 is stale"}]})
        refused = self.push(self.partner)
        self.assertEqual(self.server.requests[-1]["headers"]["If-Match"], 'W/"6"')
        self.assertEqual(refused.state, "exception")
        self.assertIn("Version conflict (HTTP 412", refused.error_message)
        self.assertIn('If-Match: W/"6"', refused.error_message)
        self.assertIn("version 6 is stale", refused.error_message)
        self.assertEqual(binding.external_version, "6", "a refused update moves no version")

    def test_a_json_patch_is_a_list_body_with_its_own_content_type(self):
        """A PATCH changing one element sends a JSON Patch: a top-level list (the outbound mapping's
        *Request body* JSON list, targets beginning with the operation's position) under the flow's
        Content-Type header, with If-Match; the engine knows no JSON Patch, only list positions."""
        self.flow.request_method = "PATCH"
        self.flow.request_headers = 'If-Match: W/"{binding.version}"\nContent-Type: application/json-patch+json'
        patch = self.create_mapping(self.flow, [
            {"target": "[0].op", "transform": "constant", "params": json.dumps({"value": "replace"})},
            {"target": "[0].path", "transform": "constant", "params": json.dumps({"value": "/name"})},
            {"source": "name", "target": "[0].value", "required": True},
            {"target": "[1].op", "transform": "constant", "params": json.dumps({"value": "add"})},
            {"target": "[1].path", "transform": "constant", "params": json.dumps({"value": "/ward"})},
            {"source": "ref", "target": "[1].value"},
        ], direction="outbound", body_root="list")
        self.assertEqual(self.flow.active_mapping_id, patch)
        self.env["hc.binding"]._remember_remote(self.backend, self.partner, "c-17", "5")
        self.server.reply = json_answer(200, {"status": "accepted"}, {"ETag": 'W/"6"'})
        message = self.push(self.partner)
        self.assertEqual(message.state, "done", message.error_message)
        [sent] = self.server.requests
        self.assertEqual((sent["method"], urlsplit(sent["path"]).path), ("PATCH", "/api/contacts/c-17"))
        self.assertEqual(sent["headers"]["Content-Type"], "application/json-patch+json")
        self.assertEqual(sent["headers"]["If-Match"], 'W/"5"')
        self.assertEqual(json.loads(sent["body"]), [{"op": "replace", "path": "/name", "value": "Ward 9"},
                                                    {"op": "add", "path": "/ward", "value": "W9"}])

        with self.assertRaisesRegex(ValidationError, "only an outbound mapping in JSON format"):
            self.create_mapping(self.flow, [{"source": "a", "target": "name"}], direction="inbound",
                                activate=False, body_root="list")
        draft = self.create_mapping(self.flow, [{"source": "name", "target": "name"}], direction="outbound",
                                    activate=False, body_root="list")
        with self.assertRaisesRegex(UserError, "begins with the item's position"):
            draft.action_activate()

    def test_a_record_without_a_bound_version_stops_before_sending(self):
        message = self.push(self.partner)
        self.assertEqual(message.state, "exception")
        self.assertIn('request header If-Match W/"{binding.version}"', message.error_message)
        self.assertIn("Ward 9 has no binding at", message.error_message)
        self.assertIn("pull the record", message.error_message)
        self.assertFalse(self.server.requests, "nothing was sent")

    def test_a_binding_gives_only_its_remote_id_and_version(self):
        self.env["hc.binding"]._remember_remote(self.backend, self.partner, "c-17", "5")
        self.flow.request_headers = "X-Tag: {binding.res_model}"
        message = self.push(self.partner)
        self.assertEqual(message.state, "exception")
        self.assertIn("a binding gives only {binding.external_id} and {binding.version}", message.error_message)
        self.assertFalse(self.server.requests)

    def test_credentials_are_no_flow_header(self):
        with self.assertRaisesRegex(ValidationError, "carries credentials"):
            self.flow.request_headers = "Authorization: Bearer abc"
        with self.assertRaisesRegex(ValidationError, "is not Name: value"):
            self.flow.request_headers = "If-Match W/1"


@tagged("post_install", "-at_install")
class TestInboundXml(HcIntegrationHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.create_backend(name="Ward system", code="ward", base_url=DISCARD_URL,
                                         inbound_api_key="xml-key")
        cls.flow = cls.create_flow("contacts", cls.backend, name="Contacts in", external_id_path="id")

    def post(self, body):
        return self.url_open("/hc/in/ward/contacts", data=body, method="POST",
                             headers={"Content-Type": "application/xml", "X-API-Key": "xml-key"})

    def count(self):
        return self.env["hc.message"].search_count([("backend_id", "=", self.backend.id)])

    def test_xml_without_an_xml_mapping_is_refused_at_the_door(self):
        response = self.post(b"<contact><id>X1</id><name>Clerk</name></contact>")
        self.assertEqual(response.status_code, 415, response.text)
        self.assertEqual(response.json()["error"]["code"], "unsupported_media_type")
        self.assertIn("no active inbound mapping in XML format", response.json()["error"]["message"])
        self.assertEqual(self.count(), 0, "nothing stored that could never be applied")

    def test_xml_with_an_xml_mapping_is_applied(self):
        self.create_mapping(self.flow, [{"source": "id", "target": "ref", "required": True},
                                        {"source": "name", "target": "name", "required": True}],
                            payload_format="xml")
        response = self.post(b"<contact><id>X2</id><name>Night clerk</name></contact>")
        self.assertEqual(response.status_code, 202, response.text)
        message = self.env["hc.message"].browse(response.json()["message_id"])
        message._job_process()
        self.assertEqual(message.state, "done", message.error_message)
        partner = self.env["res.partner"].search([("ref", "=", "X2")])
        self.assertEqual(partner.name, "Night clerk")

    def test_xml_idempotency_key_read_by_xpath(self):
        """A system that resends an XML document names it in its own header: the flow's key path,
        an XPath, makes the resend a duplicate answered with the first message."""
        self.create_mapping(self.flow, [{"source": "id", "target": "ref", "required": True}], payload_format="xml")
        self.flow.idempotency_key_path = "header/@messageId"
        body = b'<contact><header messageId="MSG-7"/><id>X3</id></contact>'
        first, again = self.post(body), self.post(body)
        self.assertEqual((first.status_code, again.status_code), (202, 200), again.text)
        self.assertEqual(again.json()["message_id"], first.json()["message_id"])
        self.assertTrue(again.json()["duplicate"])
        self.assertEqual(self.env["hc.message"].browse(first.json()["message_id"]).idempotency_key, "MSG-7")
        other = self.post(b'<contact><header messageId="MSG-7"/><id>X4</id></contact>')
        self.assertEqual(other.status_code, 409, "the same key with another body is a conflict")
        self.assertEqual(self.count(), 1)


@tagged("post_install", "-at_install")
class TestPushTriggers(RequestCase):
    """A push flow names its model and when it sends; a generated automation rule queues records."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_users()

    def messages(self, partner):
        return self.env["hc.message"].search([("flow_id", "=", self.flow.id), ("res_model", "=", "res.partner"),
                                              ("res_id", "=", partner.id)], order="id")

    def generate(self, **values):
        consultant = self.users["consultant"]
        self.flow.with_user(consultant).write(values)
        action = self.flow.with_user(consultant).action_sending_rule()
        self.assertEqual(action["tag"], "display_notification", "a consultant is told, not shown the rule")
        return self.flow.sudo().push_rule_id

    def test_change_of_listed_fields_queues_the_record_once_per_change(self):
        rule = self.generate(push_trigger="fields", push_trigger_fields="phone")
        self.assertTrue(rule.active)
        self.assertEqual(rule.action_server_ids.code,
                         f"env['hc.flow'].browse({self.flow.id})._push_from_rule(records)", "generated, not typed")
        with trap_jobs() as trap:
            partner = self.env["res.partner"].create({"name": "Triggered", "ref": "T1"})
            trap.assert_jobs_count(1)
            partner.comment = "not watched"
            trap.assert_jobs_count(1)
            partner.phone = "+41 1"
            trap.assert_jobs_count(2)
        messages = self.messages(partner)
        self.assertEqual(len(messages), 2, "one message per sending")
        self.assertEqual(set(messages.mapped("external_id")), {f"res.partner:{partner.id}"},
                         "one ordering key per record: its messages are sent in order")
        self.assertEqual(json.loads(messages[0].payload), {"reference": "T1", "name": "Triggered"})
        messages[0]._job_process()
        self.assertEqual(messages[0].state, "done", messages[0].error_message)
        self.assertEqual(self.server.requests[0]["headers"]["Idempotency-Key"], messages[0].correlation_id)

    def test_condition_becoming_true_sends_once(self):
        self.generate(push_trigger="domain", push_domain="[('ref', '=', 'SEND')]")
        with trap_jobs():
            partner = self.env["res.partner"].create({"name": "Waiting", "ref": "WAIT"})
            self.assertFalse(self.messages(partner))
            partner.ref = "SEND"
            self.assertEqual(len(self.messages(partner)), 1, "the condition became true")
            partner.phone = "+41 2"
            self.assertEqual(len(self.messages(partner)), 1, "it held before: nothing new to send")
            born = self.env["res.partner"].create({"name": "Born ready", "ref": "SEND"})
            self.assertEqual(len(self.messages(born)), 1)

    def test_on_create_and_switching_off(self):
        rule = self.generate(push_trigger="create")
        with trap_jobs():
            partner = self.env["res.partner"].create({"name": "New", "ref": "N1"})
            partner.phone = "+41 3"
        self.assertEqual(len(self.messages(partner)), 1)
        self.flow.with_user(self.users["consultant"]).push_trigger = "none"
        self.assertFalse(rule.active, "the rule follows the flow")
        with trap_jobs():
            other = self.env["res.partner"].create({"name": "Quiet", "ref": "N2"})
        self.assertFalse(self.messages(other))

    def test_consultants_configure_but_never_write_code(self):
        rule = self.generate(push_trigger="create")
        consultant = self.users["consultant"]
        with self.assertRaises(AccessError):
            rule.action_server_ids.with_user(consultant).write({"code": "env.cr.execute('drop table x')"})
        with self.assertRaises(AccessError):
            rule.with_user(consultant).write({"filter_domain": "[]"})
        with self.assertRaisesRegex(ValidationError, "list them"):
            self.flow.with_user(consultant).push_trigger = "fields"
        with self.assertRaisesRegex(ValidationError, "watches colour, which res.partner has no stored field"):
            self.flow.with_user(consultant).write({"push_trigger": "fields", "push_trigger_fields": "phone, colour"})
        with self.assertRaisesRegex(ValidationError, "is not a domain"):
            self.flow.with_user(consultant).push_domain = "[('ref', '=', __import__('os').getcwd())]"
