import json

from lxml import etree

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import HcIntegrationCase


@tagged("post_install", "-at_install")
class TestReplayMasks(HcIntegrationCase):
    """A replay never writes the *** of a redacted payload into a record, and is offered only for
    messages in exception."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_users()
        cls.sysadmin = new_test_user(
            cls.env, login="hc_sysadmin",
            groups="base.group_user,base.group_system,hc_integration_base.group_hc_operator",
        )
        cls.backend = cls.create_backend(code="pii")
        cls.flow = cls.create_flow("patients", cls.backend, name="Patients", object_type="generic",
                                   sensitive_paths="email\nphone")
        cls.Message = cls.env["hc.message"]

    def failed(self, payload):
        """A message in the exception queue (its raw payload kept, as for any unprocessed one)."""
        message = self.receive(self.flow, payload, external_id=payload["id"])
        message.sudo().write({"state": "exception", "error_message": "the legacy system sent a bad field"})
        return message

    def wizard(self, message, user):
        return self.env["hc.message.replay"].with_user(user).with_context(active_id=message.id).create({})

    def replay(self, wizard, edit):
        payload = json.loads(wizard.payload)
        edit(payload)
        wizard.payload = json.dumps(payload)
        with trap_jobs():
            action = wizard.action_replay()
        replay = self.Message.browse(action["res_id"])
        replay._job_process()
        self.assertEqual(replay.state, "done")
        return replay

    def test_operator_edits_the_masked_payload_and_the_originals_are_applied(self):
        message = self.failed({"id": "P1", "name": "Ada", "email": "ada@private.example", "phone": "555"})
        self.assertIn('"email": "***"', message.payload)
        wizard = self.wizard(message, self.users["operator"])
        self.assertFalse(wizard.payload_is_raw)
        self.assertNotIn("ada@private.example", wizard.payload, "an operator never sees the raw payload")
        self.assertEqual(json.loads(wizard.payload)["email"], "***")

        wizard.payload = json.dumps({"id": "P1", "name": "Ada Lovelace", "email": "***", "phone": "***"})
        wizard.action_preview()
        self.assertIn("Ada Lovelace", wizard.preview)
        self.assertNotIn("ada@private.example", wizard.preview, "nor in the preview")

        replay = self.replay(wizard, lambda p: None)
        partner = replay.record_ref
        self.assertEqual((partner.name, partner.email, partner.phone), ("Ada Lovelace", "ada@private.example", "555"))
        self.assertIn('"email": "***"', replay.payload, "the replay's stored payload is redacted too")

    def test_sysadmin_edits_the_raw_payload(self):
        message = self.failed({"id": "P2", "name": "Bea", "email": "bea@private.example"})
        wizard = self.wizard(message, self.sysadmin)
        self.assertTrue(wizard.payload_is_raw)
        self.assertEqual(json.loads(wizard.payload)["email"], "bea@private.example")
        wizard.action_preview()
        self.assertIn("bea@private.example", wizard.preview)

        replay = self.replay(wizard, lambda p: p.update(email="bea@new.example"))
        self.assertEqual(replay.record_ref.email, "bea@new.example")

    def test_a_mask_that_cannot_be_recovered_is_refused(self):
        message = self.failed({"id": "P3", "name": "Cy", "email": "cy@private.example"})
        message.sudo().payload_raw = False  # purged
        wizard = self.wizard(message, self.users["operator"])
        wizard.payload = json.dumps({"id": "P3", "name": "Cy", "email": "***"})
        with self.assertRaisesRegex(UserError, r"masked values \(\*\*\*\) at email"):
            wizard.action_replay()
        self.assertFalse(self.Message.search([("replay_of_id", "=", message.id)]))
        self.assertFalse(self.env["res.partner"].search([("email", "=", "***")]))
        # A *** no sensitive path covers is data, and stays.
        replay = self.replay(wizard, lambda p: p.update(email="cy@typed.example", name="***"))
        self.assertEqual((replay.record_ref.name, replay.record_ref.email), ("***", "cy@typed.example"))

    def test_a_mask_in_a_list_that_changed_length_is_refused(self):
        self.flow.sensitive_paths = "lines[*].note"
        message = self.receive(self.flow, {
            "id": "P4", "lines": [{"sku": "A", "note": "secret A"}, {"sku": "B", "note": "secret B"}],
        }, external_id="P4")
        message.sudo().state = "exception"
        wizard = self.wizard(message, self.users["operator"])
        payload = json.loads(wizard.payload)
        self.assertEqual([line["note"] for line in payload["lines"]], ["***", "***"])
        self.assertEqual(wizard._unmasked_payload()["lines"][1], {"sku": "B", "note": "secret B"})
        del payload["lines"][0]  # B moves to index 0: taking index 0's value would give it A's note
        wizard.payload = json.dumps(payload)
        with self.assertRaisesRegex(UserError, r"lines\[0\]\.note"):
            wizard._unmasked_payload()

    def test_replay_only_from_exception(self):
        done = self.receive(self.flow, {"id": "P5", "name": "Dee"}, external_id="P5")
        done._job_process()
        self.assertEqual(done.state, "done")
        with self.assertRaisesRegex(UserError, "only a message in exception can be replayed"):
            self.wizard(done, self.users["operator"])
        failed = self.failed({"id": "P6", "name": "Eve"})
        wizard = self.wizard(failed, self.users["operator"])
        failed.sudo().write({"state": "ignored", "ignore_reason": "set aside while the wizard was open"})
        with self.assertRaisesRegex(UserError, "is Ignored: only a message in exception can be replayed"):
            wizard.action_replay()
        self.assertFalse(self.Message.search([("replay_of_id", "=", failed.id)]))

    def test_form_offers_replay_only_in_exception(self):
        action = self.env.ref("hc_integration_base.hc_message_replay_action")
        arch = self.Message.get_views([(False, "form")])["views"]["form"]["arch"]
        [button] = etree.fromstring(arch).xpath(f"//button[@name='{action.id}']")
        visible = [state for state, _label in self.Message._fields["state"].selection
                   if not safe_eval(button.get("invisible"), {"state": state})]
        self.assertEqual(visible, ["exception"])
