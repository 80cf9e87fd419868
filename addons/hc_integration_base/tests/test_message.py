import json
import random
import time
from datetime import timedelta
from unittest.mock import patch

from odoo import fields, sql_db
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, tagged

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs

from ..lifecycle import try_xact_lock
from .common import BackendMixin, SimulatorMixin, postponed


@tagged("post_install", "-at_install")
class MessageCase(BackendMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.setup_users()
        cls.backend = cls.create_backend(code="pas", responsible_user_id=cls.users["operator"].id)
        cls.flow = cls.env["hc.flow"].create(
            {
                "name": "Contacts",
                "code": "contacts",
                "backend_id": cls.backend.id,
                "object_type": "generic",
                "model_id": cls.env.ref("base.model_res_partner").id,
                "direction": "inbound",
                "max_attempts": 3,
            }
        )
        cls.Message = cls.env["hc.message"]

    def setUp(self):
        super().setUp()
        # New cursors (the message state written apart before a retry) wrap the test cursor,
        # as they would see committed data in production.
        self.registry_enter_test_mode()

    def receive(self, payload, **kwargs):
        kwargs.setdefault("external_id", payload.get("id"))
        return self.Message._receive_post(self.backend, self.flow, payload, **kwargs)

    def partners(self, external_id):
        binding = self.env["hc.binding"].search(
            [("backend_id", "=", self.backend.id), ("external_id", "=", external_id)]
        )
        return self.env["res.partner"].browse(binding.mapped("res_id"))


class TestMessageJobs(MessageCase):
    def test_enqueue_properties(self):
        with trap_jobs() as trap:
            message = self.receive({"id": "P1", "name": "Ada"})
            trap.assert_jobs_count(1)
            trap.assert_enqueued_job(
                message._job_process,
                properties={
                    "channel": "root.hc.pas",
                    "priority": 10,
                    "max_retries": 3,
                },
            )
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.job_uuid, trap.enqueued_jobs[0].uuid)
        # The same message is never queued twice while its job waits (jobs stored for real).
        waiting = self.receive({"id": "P2", "name": "Bea"})
        first_job = waiting.job_uuid
        jobs_before = self.env["queue.job"].search_count([])
        waiting.write({"state": "exception"})
        waiting._retry()
        self.assertEqual(self.env["queue.job"].search_count([]), jobs_before,
                         "a retry while the first job waits queues nothing new")
        self.assertEqual((waiting.state, waiting.job_uuid), ("queued", first_job))
        # Once that job has run (here: failed for good), a retry queues a new one.
        self.env["queue.job"].search([("uuid", "=", first_job)]).state = "failed"
        waiting.write({"state": "exception"})
        waiting._retry()
        self.assertEqual(self.env["queue.job"].search_count([]), jobs_before + 1)
        self.assertNotEqual(waiting.job_uuid, first_job)
        self.assertEqual(self.env["queue.job"].search([("uuid", "=", waiting.job_uuid)]).state, "pending")
        urgent = self.flow.copy({"code": "urgent_contacts", "urgent": True})
        self.assertEqual(urgent.channel, "root.hc.pas.urgent")
        self.assertTrue(self.backend.channel_id)
        self.assertEqual(self.backend.channel_id.complete_name, "root.hc.pas")

    def test_direct_execution_creates_then_skips_unchanged(self):
        with trap_jobs():
            first = self.receive({"id": "P2", "name": "Grace", "email": "g@example.com"})
        result = first._job_process()
        self.assertEqual((result["effect"], result["res_id"]), ("created", first.res_id))
        self.assertEqual(first.state, "done")
        partner = first.record_ref
        self.assertEqual((partner.name, partner.email), ("Grace", "g@example.com"))
        self.assertTrue(first.done_at and first.attempt_count == 1)
        with trap_jobs():
            again = self.receive({"id": "P2", "name": "Grace", "email": "g@example.com"})
            changed = self.receive({"id": "P2", "name": "Grace H.", "email": "g@example.com"})
        self.assertEqual(again._job_process()["effect"], "unchanged")
        self.assertEqual(changed._job_process()["effect"], "updated")
        self.assertEqual(len(self.partners("P2")), 1)
        self.assertEqual(partner.name, "Grace H.")

    def test_idempotency_key_duplicate(self):
        with trap_jobs() as trap:
            first = self.receive({"id": "P3", "name": "Alan"}, idempotency_key="evt-1")
            second = self.receive({"id": "P3", "name": "Alan"}, idempotency_key="evt-1")
            trap.assert_jobs_count(1)
        self.assertEqual(second.state, "duplicate")
        self.assertEqual(second.duplicate_of_id, first)
        first._job_process()
        self.assertEqual(second._job_process(), "nothing to do: message already duplicate")
        self.assertEqual(len(self.partners("P3")), 1)
        self.assertEqual(self.env["res.partner"].search_count([("name", "=", "Alan")]), 1)
        # Same key, other direction: not a duplicate.
        push = self.flow.copy({"code": "contacts_out", "direction": "push", "system_of_record": "odoo"})
        with trap_jobs():
            other = self.Message._receive_push(push, {"id": "P3"}, idempotency_key="evt-1")
        self.assertEqual(other.state, "queued")

    def test_state_machine(self):
        with trap_jobs():
            message = self.receive({"id": "P4", "name": "Edsger"})
        message._job_process()
        for forbidden in ("queued", "processing", "exception", "new"):
            with self.subTest(to=forbidden), self.assertRaises(ValidationError):
                message.write({"state": forbidden})
        with trap_jobs():
            other = self.receive({"id": "P5", "name": "Barbara"})
        with self.assertRaises(ValidationError):
            other.write({"state": "duplicate"})
        other.write({"state": "processing"})
        other.write({"state": "failed_retrying"})
        other.write({"state": "exception"})
        other.write({"state": "ignored"})
        with self.assertRaises(ValidationError):
            other.write({"state": "queued"})

    def test_permanent_error_goes_to_exception_with_activity(self):
        with trap_jobs():
            message = self.receive({"id": "P6", "unknown_field": 1})
        reason = message._job_process()
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.error_category, "mapping")
        self.assertIn("No field of Contact", reason)
        self.assertEqual(message.attempt_count, 1)
        self.assertTrue(message.error_traceback)
        activity = message.activity_ids
        self.assertEqual(activity.user_id, self.users["operator"])
        with trap_jobs():
            bad_json = self.Message._receive_post(self.backend, self.flow, "{not json", external_id="P7")
        bad_json._job_process()
        self.assertEqual((bad_json.state, bad_json.error_category), ("exception", "validation"))

    def test_chatter_and_duration_of_processed_messages(self):
        """Done leaves no state note in the chatter (its times are fields); an exception does.
        Durations are milliseconds, not whole seconds."""
        with trap_jobs():
            done = self.receive({"id": "P20", "name": "Ada"}).with_context(tracking_disable=False)
            failed = self.receive({"id": "P21", "unknown_field": 1}).with_context(tracking_disable=False)
        generic = type(self.env["hc.handler.generic"])
        apply_message = generic._import_message

        def slow(handler, message):
            time.sleep(0.3)
            return apply_message(handler, message)

        with patch.object(generic, "_import_message", slow):
            done._job_process()
        failed._job_process()
        self.env.cr.precommit.run()  # tracking notes are written when the transaction commits

        def state_notes(message):
            return message.message_ids.tracking_value_ids.filtered(lambda v: v.field_id.name == "state")

        self.assertEqual(done.state, "done")
        self.assertFalse(state_notes(done))
        self.assertGreaterEqual(done.duration_ms, 300)
        self.assertNotEqual(done.duration_ms % 1000, 0, "a duration in whole seconds")
        self.assertEqual(failed.state, "exception")
        self.assertEqual(state_notes(failed).new_value_char, "Exception")

    def test_per_record_ordering_under_shuffled_execution(self):
        names = [f"Version {i}" for i in range(6)]
        with trap_jobs():
            messages = [self.receive({"id": "P8", "name": name}) for name in names]
        pending = list(messages)
        rng = random.Random(7)
        rounds = 0
        while pending:
            rounds += 1
            self.assertLess(rounds, 100)
            message = rng.choice(pending)
            try:
                message._job_process()
            except RetryableJobError as exc:
                self.assertIn("earlier message", str(exc))
                self.assertEqual(message.state, "queued")
                message.invalidate_recordset()
                self.assertEqual(message.wait_reason, str(exc), "the message says why it waits")
                continue
            pending.remove(message)
        order = [m.done_at for m in messages]
        self.assertTrue(all(m.state == "done" for m in messages))
        self.assertEqual(self.partners("P8").name, "Version 5")
        self.assertEqual(order, sorted(order))

    def test_redaction_of_sensitive_paths(self):
        self.flow.sensitive_paths = "patient.name\nlines[*].note"
        payload = {
            "id": "P9",
            "name": "Ward 3",
            "patient": {"name": "John Secret", "mrn": "123"},
            "lines": [{"note": "private one"}, {"note": "private two", "qty": 2}],
        }
        with trap_jobs():
            message = self.receive(payload)
        self.assertNotIn("John Secret", message.payload)
        self.assertNotIn("private", message.payload)
        stored = json.loads(message.payload)
        self.assertEqual(stored["patient"], {"name": "***", "mrn": "123"})
        self.assertEqual(stored["lines"][1], {"note": "***", "qty": 2})
        viewer_payload = message.with_user(self.users["operator"]).read(["payload"])[0]["payload"]
        self.assertNotIn("John Secret", viewer_payload)
        message._job_process()
        self.assertEqual(message.state, "done")
        self.assertFalse(message.sudo().payload_raw, "the raw payload is dropped once processed")

    def test_payload_size_cap(self):
        self.env["ir.config_parameter"].sudo().set_param("hc_integration_base.payload_max_chars", 100)
        with trap_jobs():
            message = self.receive({"id": "P10", "name": "x" * 500})
        self.assertTrue(message.payload_truncated)
        self.assertEqual(len(message.payload), 100)
        message._job_process()
        self.assertEqual(message.record_ref.name, "x" * 500)


class TestMessageOperatorActions(MessageCase):
    def _exception_message(self, external_id="Q1"):
        with trap_jobs():
            message = self.receive({"id": external_id, "nickname": "no such field"})
        message._job_process()
        self.assertEqual(message.state, "exception")
        return message

    def test_retry_ignore_assign_rights(self):
        message = self._exception_message()
        viewer = self.users["viewer"]
        with self.assertRaises(AccessError):
            message.with_user(viewer).action_retry()
        with self.assertRaises(AccessError):
            message.with_user(viewer).action_assign_to_me()
        operator = self.users["operator"]
        message.with_user(operator).action_assign_to_me()
        self.assertEqual(message.user_id, operator)
        with trap_jobs() as trap:
            message.with_user(operator).action_retry()
            trap.assert_jobs_count(1)
        self.assertEqual(message.state, "queued")
        message._job_process()
        wizard = (
            self.env["hc.message.ignore"]
            .with_user(operator)
            .create({"message_ids": [(6, 0, message.ids)], "reason": "Obsolete contact"})
        )
        wizard.action_ignore()
        self.assertEqual(message.state, "ignored")
        self.assertEqual(message.ignore_reason, "Obsolete contact")
        with self.assertRaises(UserError):
            self._exception_message("Q2").with_user(operator)._ignore("  ")
        with self.assertRaises(AccessError):
            self.env["hc.message.ignore"].with_user(viewer).create(
                {"message_ids": [(6, 0, message.ids)], "reason": "x"}
            )

    def test_replay_creates_linked_message_and_keeps_original(self):
        original = self._exception_message("Q3")
        original_payload = original.payload
        wizard = self.env["hc.message.replay"].with_user(self.users["operator"]).with_context(
            active_id=original.id
        ).create({"message_id": original.id, "payload": json.dumps({"id": "Q3", "name": "Fixed name"})})
        with trap_jobs():
            action = wizard.action_replay()
        replay = self.Message.browse(action["res_id"])
        self.assertEqual(replay.replay_of_id, original)
        self.assertEqual(original.payload, original_payload)
        self.assertEqual(original.state, "exception")
        replay._job_process()
        self.assertEqual(replay.state, "done")
        self.assertEqual(replay.record_ref.name, "Fixed name")

    def test_preview_is_a_dry_run(self):
        with trap_jobs():
            message = self.receive({"id": "Q4", "name": "Before"})
        message._job_process()
        partner = message.record_ref
        count_messages = self.Message.search_count([])
        wizard = self.env["hc.message.replay"].create(
            {"message_id": message.id, "payload": json.dumps({"id": "Q4", "name": "After"})}
        )
        wizard.action_preview()
        self.assertIn("Before", wizard.preview)
        self.assertIn("After", wizard.preview)
        self.assertEqual(partner.name, "Before")
        self.assertEqual(self.Message.search_count([]), count_messages)

    def test_purge_cron(self):
        self.backend.write({"payload_retention_days": 10, "message_retention_days": 100})
        with trap_jobs():
            recent = self.receive({"id": "R1", "name": "Recent"})
            old = self.receive({"id": "R2", "name": "Old"})
            ancient = self.receive({"id": "R3", "name": "Ancient"})
            stuck = self.receive({"id": "R4", "name": "Pending"})
        (recent | old | ancient).mapped(lambda m: m._job_process())
        now = fields.Datetime.now()
        old.write({"received_at": now - timedelta(days=20)})
        ancient.write({"received_at": now - timedelta(days=200)})
        stuck.write({"received_at": now - timedelta(days=200)})
        self.Message._cron_purge()
        self.assertTrue(recent.payload)
        self.assertTrue(old.exists())
        self.assertFalse(old.payload)
        self.assertEqual(old.state, "done")
        self.assertFalse(ancient.exists())
        self.assertTrue(stuck.exists() and stuck.payload, "unprocessed messages are never purged")


class TestMessageTransportRetries(SimulatorMixin, MessageCase):
    """Outbound messages against the real REST simulator: retry, then exception."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_simulators()
        cls.backend.write(
            {
                "base_url": cls.sims.rest_url,
                "auth_type": "api_key",
                "api_key": "sim-api-key",
                "breaker_threshold": 100,
            }
        )
        cls.push_flow = cls.env["hc.flow"].create(
            {
                "name": "Bill outcomes",
                "code": "outcomes",
                "backend_id": cls.backend.id,
                "object_type": "generic",
                "model_id": cls.env.ref("base.model_res_partner").id,
                "direction": "push",
                "system_of_record": "odoo",
                "remote_resource": "/api/v1/bill-outcomes",
                "max_attempts": 3,
            }
        )

    def setUp(self):
        super().setUp()
        self.sims.reset()

    def send(self, key):
        partner = self.env["res.partner"].create({"name": f"Vendor {key}"})
        payload = {"po_reference": key, "outcome": "matched", "amount": 10.0}
        message = self.Message._receive_push(self.push_flow, payload, record=partner, idempotency_key=key)
        job = self.env["queue.job"].search([("uuid", "=", message.job_uuid)])
        self.assertEqual(len(job), 1)
        return message, job

    def run_attempt(self, message, job):
        """Run the job as queue_job would for its next attempt; return (result, raised)."""
        try:
            # Not assertRaises: its savepoint would undo the state written before a retry.
            return message.with_context(job_uuid=job.uuid)._job_process(), None
        except RetryableJobError as exc:
            job.retry += 1  # what queue_job stores when it postpones the job
            return None, exc

    def test_transient_errors_retry_then_exception(self):
        self.sims.set_faults("rest", error_rate=1.0, status_code=503, retry_after=0)
        message, job = self.send("OUT-1")
        for attempt in (1, 2):
            _result, raised = self.run_attempt(message, job)
            self.assertIsInstance(raised, RetryableJobError)
            message.invalidate_recordset()
            self.assertEqual(message.state, "failed_retrying")
            self.assertEqual(message.attempt_count, attempt)
            self.assertEqual(message.error_category, "transport")
            self.assertIn("HTTP 503", message.error_message)
        reason, raised = self.run_attempt(message, job)
        self.assertIsNone(raised)
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.attempt_count, 3)
        self.assertIn("Gave up after 3 attempts", reason)
        self.assertEqual(message.error_category, "transport")
        self.assertTrue(message.activity_ids, "a person is told")

    def test_success_after_transient_failure_sends_once(self):
        self.sims.set_faults("rest", error_rate=1.0, status_code=503, retry_after=0)
        message, job = self.send("OUT-2")
        _result, raised = self.run_attempt(message, job)
        self.assertIsInstance(raised, RetryableJobError)
        self.sims.reset()
        result, raised = self.run_attempt(message, job)
        self.assertIsNone(raised, result)
        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempt_count, 2)
        stored = [o for o in self.sims.state.outcomes if o.get("po_reference") == "OUT-2"]
        self.assertEqual(len(stored), 1, "the simulator received the outcome exactly once")
        self.assertEqual(stored[0]["idempotency_key"], "OUT-2")

    def test_open_circuit_waits_without_spending_attempts(self):
        self.backend.write({"breaker_threshold": 1, "breaker_cooldown": 60})
        self.sims.set_faults("rest", error_rate=1.0, status_code=503, retry_after=0)
        first, first_job = self.send("OUT-4")
        _result, raised = self.run_attempt(first, first_job)  # a real failure: it opens the circuit
        self.assertFalse(raised.ignore_retry)
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.breaker_state, "open", "the form shows it although the job rolled back")
        second, second_job = self.send("OUT-5")
        for _ in range(4):  # more checks than its 3 attempts: the call never leaves while open
            _result, raised = self.run_attempt(second, second_job)
            self.assertIsInstance(raised, RetryableJobError)
            self.assertTrue(raised.ignore_retry, "a call refused by the open circuit is not an attempt")
            second.invalidate_recordset()
            self.assertEqual(second.state, "failed_retrying")
            self.assertIn("Circuit open", second.error_message)
            self.assertIn("Circuit open", second.wait_reason, "a wait like any other")
        self.assertFalse([o for o in self.sims.state.outcomes if o.get("po_reference") == "OUT-5"])
        self.backend._breaker().record_success()  # the remote system is back (a probe succeeded)
        self.backend.invalidate_recordset()
        self.backend._sync_breaker_state()  # ...and the probing process wrote it on the record
        self.sims.reset()
        _result, raised = self.run_attempt(second, second_job)
        self.assertIsNone(raised)
        self.assertEqual(second.state, "done")
        self.assertFalse(second.wait_reason, "cleared once it ran")

    def test_client_error_is_permanent(self):
        message, job = self.send("OUT-3")
        self.push_flow.remote_resource = "/api/v1/forbidden"
        reason, raised = self.run_attempt(message, job)
        self.assertIsNone(raised)
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.error_category, "authentication")
        self.assertIn("403", reason)


@tagged("post_install", "-at_install")
class TestBackendAlerts(MessageCase):
    def test_thresholds_raise_one_alert_per_episode(self):
        self.backend.write({"alert_error_rate": 40, "alert_backlog": 2, "alert_oldest_minutes": 0})
        Backend = self.env["hc.backend"]
        Backend._cron_check_alerts()
        self.assertFalse(self.backend.activity_ids, "healthy: no alert")
        with trap_jobs():
            pending = [self.receive({"id": f"A{i}", "name": "x"}) for i in range(3)]
        bad = self.receive({"id": "A9", "nope": 1})
        bad._job_process()
        Backend._cron_check_alerts()
        self.assertIn("3 messages wait to be processed", self.backend.alert_state)
        self.assertIn("Error rate 100%", self.backend.alert_state)
        alerts = self.backend.activity_ids.filtered(lambda a: a.summary.startswith("Integration alert"))
        self.assertEqual(len(alerts), 1)
        self.assertEqual(alerts.user_id, self.users["operator"])
        Backend._cron_check_alerts()
        alerts = self.backend.activity_ids.filtered(lambda a: a.summary.startswith("Integration alert"))
        self.assertEqual(len(alerts), 1, "the same episode alerts once")
        for message in pending:
            message._job_process()
        self.backend.alert_error_rate = 90
        Backend._cron_check_alerts()
        self.assertFalse(self.backend.alert_state, "25% errors is under 90%, nothing waits: back to normal")
        self.assertIn("Back to normal", self.backend.message_ids[0].body)


@tagged("post_install", "-at_install")
class TestBackendCapacity(MessageCase):
    def test_busy_backend_postpones_without_counting_an_attempt(self):
        self.backend.job_capacity = 1
        with trap_jobs():
            first = self.receive({"id": "C1", "name": "One"})
            second = self.receive({"id": "C2", "name": "Two"})
        # Another worker holds the backend's only slot (a second connection takes the lock).
        with sql_db.db_connect(self.env.cr.dbname).cursor() as other_cr:
            self.assertTrue(try_xact_lock(other_cr, first._backend_slot_lock(0)))
            try:
                caught = postponed(self, first._job_process)
                self.assertTrue(caught.ignore_retry)
                self.assertEqual(first.state, "queued")
                first.invalidate_recordset()
                self.assertIn("Every processing slot of backend", first.wait_reason, "the message says why")
            finally:
                other_cr.rollback()  # that worker's transaction ends, and its lock with it
        first._job_process()
        second._job_process()
        self.assertEqual((first.state, second.state), ("done", "done"))
        self.assertFalse(first.wait_reason, "cleared once it ran")

    def test_record_held_by_another_worker_waits(self):
        with trap_jobs():
            message = self.receive({"id": "C3", "name": "Three"})
        with sql_db.db_connect(self.env.cr.dbname).cursor() as other_cr:
            self.assertTrue(try_xact_lock(other_cr, message._ordering_lock()))
            try:
                caught = postponed(self, message._job_process)
                self.assertTrue(caught.ignore_retry, "waiting spends no attempt")
                message.invalidate_recordset()
                self.assertEqual(message.state, "queued")
                self.assertIn("Another worker is applying a message about this record", message.wait_reason)
            finally:
                other_cr.rollback()
        message._job_process()
        self.assertEqual(message.state, "done")


@tagged("post_install", "-at_install")
class TestOutboundMapping(SimulatorMixin, MessageCase):
    """A record (with one2many lines) becomes a payload through an outbound mapping and is sent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_simulators()
        cls.backend.write({"base_url": cls.sims.rest_url, "auth_type": "api_key", "api_key": "sim-api-key"})
        cls.push = cls.env["hc.flow"].create({
            "name": "Orders out", "code": "orders_out", "backend_id": cls.backend.id,
            "model_id": cls.env.ref("base.model_res_partner").id, "direction": "push",
            "system_of_record": "odoo", "remote_resource": "/api/v1/purchase-orders",
        })
        mapping = cls.env["hc.mapping"].create({
            "flow_id": cls.push.id, "direction": "outbound",
            "line_ids": [
                (0, 0, {"sequence": 1, "source": "ref", "target": "reference", "required": True}),
                (0, 0, {"sequence": 2, "target": "vendor_code", "transform": "constant",
                        "params": '{"value": "SUP-0001"}'}),
                (0, 0, {"sequence": 3, "source": "child_ids", "target": "lines", "transform": "one2many",
                        "params": json.dumps({"item_path": "child_ids", "lines": [
                            {"source": "ref", "target": "item_code"},
                            {"source": "color", "target": "quantity", "transform": "number"},
                            {"source": "name", "target": "line_ref"},
                        ]})}),
            ],
        })
        mapping.action_activate()

    def test_record_with_lines_pushed_through_mapping(self):
        order = self.env["res.partner"].create({
            "name": "PO holder", "ref": "PO-MAP-1", "is_company": True,
            "child_ids": [(0, 0, {"name": "L1", "ref": "ITM-000001", "color": 3}),
                          (0, 0, {"name": "L2", "ref": "ITM-000002", "color": 5})],
        })
        with trap_jobs():
            message = self.push._push_records(order, idempotency_key="po-map")
        self.assertEqual(json.loads(message.payload), {
            "reference": "PO-MAP-1", "vendor_code": "SUP-0001",
            "lines": [{"item_code": "ITM-000001", "quantity": 3.0, "line_ref": "L1"},
                      {"item_code": "ITM-000002", "quantity": 5.0, "line_ref": "L2"}],
        })
        message._job_process()
        self.assertEqual(message.state, "done")
        [stored] = [o for o in self.sims.state.orders if o["reference"] == "PO-MAP-1"]
        self.assertEqual(stored["status"], "accepted")
        self.assertEqual([line["item_code"] for line in stored["lines"]], ["ITM-000001", "ITM-000002"])
        self.assertEqual(stored["idempotency_key"], f"po-map:{order.id}")
        with self.assertRaisesRegex(UserError, "required value missing at ref"):
            self.push._push_records(self.env["res.partner"].create({"name": "No ref"}))
