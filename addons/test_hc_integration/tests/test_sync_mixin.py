from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.hc_integration_base.tests.common import DISCARD_URL, HcIntegrationCase
from odoo.addons.queue_job.tests.common import trap_jobs

MODEL = "test.hc.synced.record"


@tagged("post_install", "-at_install")
class TestSyncMixin(HcIntegrationCase):
    """The sync mixin on a model of its own (no domain addon): the status from the latest message,
    its search filter and smart button, Resync, and what a legacy system of record allows people
    (warn, read-only, never pushed back) while its flow still writes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.create_backend(name="Ward system", code="ward_sync", base_url=DISCARD_URL)
        cls.flow = cls.create_flow("ward_records", cls.backend, model=MODEL, name="Ward records")
        cls.create_mapping(cls.flow, [
            {"source": "code", "target": "code", "required": True},
            {"source": "name", "target": "name", "required": True},
            {"source": "email", "target": "email"},
        ])
        cls.Record = cls.env[MODEL]
        cls.clerk = new_test_user(cls.env, login="hc_sync_clerk", groups="base.group_user")

    def apply(self, payload):
        """A message of the ward flow about ``payload["code"]``, its job run."""
        message = self.receive(self.flow, payload, external_id=payload["code"])
        message._job_process()
        return message

    def test_status_follows_the_latest_message(self):
        never = self.Record.create({"name": "Never synced"})
        self.assertEqual(never.hc_sync_state, "never")
        done = self.apply({"code": "W-1", "name": "Ward one"})
        self.assertEqual(done.state, "done", done.error_message)
        record = done.record_ref
        self.assertEqual((record._name, record.code), (MODEL, "W-1"))
        self.assertEqual((record.hc_sync_state, record.hc_last_sync, record.hc_message_count),
                         ("in_sync", done.done_at, 1))
        pending = self.receive(self.flow, {"code": "W-1", "name": "Ward one, renamed"}, external_id="W-1")
        record.invalidate_recordset()
        self.assertEqual(pending.res_id, record.id, "a message names its record through the binding")
        self.assertEqual(record.hc_sync_state, "pending")
        pending._job_process()
        self.assertEqual((pending.state, record.name), ("done", "Ward one, renamed"))
        failed = self.apply({"code": "W-1"})  # no name: the mapping refuses it
        self.assertEqual(failed.state, "exception")
        record.invalidate_recordset()
        self.assertEqual((record.hc_sync_state, record.hc_message_count), ("failed", 3))
        self.assertEqual(self.Record.search([("hc_sync_state", "=", "failed")]), record)
        self.assertEqual(self.Record.search([("hc_sync_state", "=", "never")]), never)
        self.assertEqual(self.Record.search([("hc_sync_state", "!=", "in_sync")]), record | never)
        action = record.action_hc_view_messages()
        self.assertEqual(self.env["hc.message"].search(action["domain"]), done | pending | failed)

    def test_a_legacy_system_of_record_warns_or_blocks_people_but_not_its_flow(self):
        record = self.apply({"code": "W-2", "name": "Ward two", "email": "two@ward.example"}).record_ref
        as_clerk = record.with_user(self.clerk)
        warning = as_clerk.onchange({"email": "x@y.z"}, ["email"], {"email": {}})["warning"]
        self.assertIn("Ward system", warning["title"])
        self.assertIn("Email", warning["message"])
        self.assertNotIn("warning", as_clerk.onchange({"phone": "+41 1"}, ["phone"], {"phone": {}}),
                         "the flow does not fill the phone")
        as_clerk.write({"email": "typed@ward.example"})  # warn: allowed, it will be overwritten
        self.flow.ownership_policy = "block"
        with self.assertRaisesRegex(UserError, "Ward system"):
            as_clerk.write({"email": "again@ward.example"})
        as_clerk.write({"phone": "+41 2"})
        applied = self.apply({"code": "W-2", "name": "Ward two", "email": "new@ward.example"})
        self.assertEqual((applied.state, record.email), ("done", "new@ward.example"), "the sync still writes it")
        with self.assertRaisesRegex(UserError, "never pushes it back"):
            self.receive(self.flow, {"code": "W-2"}, jobs=None, direction="outbound", record=record)

    def test_resync_retries_the_failed_exchange_or_says_why_not(self):
        record = self.apply({"code": "W-3", "name": "Ward three"}).record_ref
        failed = self.apply({"code": "W-3"})
        self.assertEqual((failed.state, failed.res_id), ("exception", record.id))
        with trap_jobs() as trap:
            record.with_user(self.clerk).action_hc_resync()
            trap.assert_jobs_count(1)
        self.assertEqual(failed.state, "queued")
        stranger = self.Record.create({"name": "Created in Odoo"})
        with self.assertRaisesRegex(UserError, "Nothing can resync Created in Odoo"):
            stranger.action_hc_resync()
        # With a flow pulling the model from that backend, a bound record is fetched again.
        pull = self.create_flow("ward_pull", self.backend, model=MODEL, name="Ward pull", direction="pull",
                                remote_resource="/records", external_id_path="code")
        fine = self.apply({"code": "W-4", "name": "Ward four"}).record_ref
        with trap_jobs() as trap:
            result = fine.action_hc_resync()
            trap.assert_jobs_count(1)  # the first page of a new pull
        self.assertIn("Fetching again through", result["params"]["message"])
        self.assertEqual(pull.batch_run_ids.state, "running")
        with self.assertRaisesRegex(UserError, "came from no legacy system"):
            stranger.action_hc_resync()
