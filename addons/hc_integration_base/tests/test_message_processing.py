"""A message's job: enqueued once with its properties, applied (created, unchanged, updated),
idempotency keys, the state machine, permanent errors, chatter and durations, per-record order,
redaction and the payload cap."""

import json
import random
import time
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.orm.models import BaseModel
from odoo.tests import tagged

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import MessageCase


@tagged("post_install", "-at_install")
class TestMessageJobs(MessageCase):
    def test_enqueue_properties(self):
        with trap_jobs() as trap:
            message = self.contact({"id": "P1", "name": "Ada"})
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
        waiting = self.contact({"id": "P2", "name": "Bea"})
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
            first = self.contact({"id": "P2", "name": "Grace", "email": "g@example.com"})
        result = first._job_process()
        self.assertEqual((result["effect"], result["res_id"]), ("created", first.res_id))
        self.assertEqual(first.state, "done")
        partner = first.record_ref
        self.assertEqual((partner.name, partner.email), ("Grace", "g@example.com"))
        self.assertTrue(first.done_at and first.attempt_count == 1)
        with trap_jobs():
            again = self.contact({"id": "P2", "name": "Grace", "email": "g@example.com"})
            changed = self.contact({"id": "P2", "name": "Grace H.", "email": "g@example.com"})
        self.assertEqual(again._job_process()["effect"], "unchanged")
        self.assertEqual(changed._job_process()["effect"], "updated")
        self.assertEqual(len(self.partners("P2")), 1)
        self.assertEqual(partner.name, "Grace H.")

    def test_idempotency_key_duplicate(self):
        with trap_jobs() as trap:
            first = self.contact({"id": "P3", "name": "Alan"}, idempotency_key="evt-1")
            second = self.contact({"id": "P3", "name": "Alan"}, idempotency_key="evt-1")
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
            other = self.receive(push, {"id": "P3"}, jobs=None, idempotency_key="evt-1", direction="outbound")
        self.assertEqual(other.state, "queued")

    def test_key_stored_by_a_concurrent_twin_meanwhile(self):
        """Another process stores the same key between this one's lookup and its INSERT: the
        unique index refuses the second, which becomes a duplicate of the first - handled, so
        nothing is logged as an error."""
        with trap_jobs():
            first = self.contact({"id": "P4", "name": "Ada"}, idempotency_key="evt-twin")
        Message = type(self.env["hc.message"])
        real = Message._find_by_key
        calls = []

        def after_the_twin(records, *args):
            calls.append(args)
            # the first lookup ran before the twin committed: it saw nothing
            return records.browse() if len(calls) == 1 else real(records, *args)

        with (patch.object(Message, "_find_by_key", after_the_twin), self.assertNoLogs("odoo.sql_db", "ERROR"),
              trap_jobs() as trap):
            second = self.contact({"id": "P4", "name": "Ada"}, idempotency_key="evt-twin")
            trap.assert_jobs_count(0)
        self.assertEqual(len(calls), 2, "looked up again after the unique index refused the INSERT")
        self.assertEqual((second.state, second.duplicate_of_id), ("duplicate", first))

    def test_state_machine(self):
        with trap_jobs():
            message = self.contact({"id": "P4", "name": "Edsger"})
        message._job_process()
        for forbidden in ("queued", "processing", "exception", "new"):
            with self.subTest(to=forbidden), self.assertRaises(ValidationError):
                message.write({"state": forbidden})
        with trap_jobs():
            other = self.contact({"id": "P5", "name": "Barbara"})
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
            message = self.contact({"id": "P6", "unknown_field": 1})
        reason = message._job_process()
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.error_category, "mapping")
        self.assertIn("No field of Contact", reason)
        self.assertEqual(message.attempt_count, 1)
        self.assertTrue(message.error_traceback)
        activity = message.activity_ids
        self.assertEqual(activity.user_id, self.users["operator"])
        with trap_jobs():
            bad_json = self.contact("{not json", external_id="P7")
        bad_json._job_process()
        self.assertEqual((bad_json.state, bad_json.error_category), ("exception", "validation"))

    def test_chatter_and_duration_of_processed_messages(self):
        """Done leaves no state note in the chatter (its times are fields); an exception does.
        Durations are milliseconds, not whole seconds."""
        with trap_jobs():
            done = self.contact({"id": "P20", "name": "Ada"}).with_context(tracking_disable=False)
            failed = self.contact({"id": "P21", "unknown_field": 1}).with_context(tracking_disable=False)
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
            messages = [self.contact({"id": "P8", "name": name}) for name in names]
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
            message = self.contact(payload)
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
            message = self.contact({"id": "P10", "name": "x" * 500})
        self.assertTrue(message.payload_truncated)
        self.assertEqual(len(message.payload), 100)
        message._job_process()
        self.assertEqual(message.record_ref.name, "x" * 500)


@tagged("post_install", "-at_install")
class TestJobRows(MessageCase):
    """The jobs of new messages are written by one INSERT; queue_job's own create runs instead when
    an automation rule watches the creation of jobs."""

    def job_of(self, message):
        return self.env["queue.job"].search([("uuid", "=", message.job_uuid)])

    def test_job_row_values_are_queue_jobs(self):
        """What a message's job row is written from is what queue_job's Job would store."""
        message = self.contact({"id": "P-ROWS-0", "name": "Values"})
        user = self.backend._job_user()
        sender = message.with_user(user).with_context(company_id=self.backend._job_company(user))
        ours = sender._job_row_values(message.job_uuid, message._job_options())
        job = Job(sender._job_process, job_uuid=message.job_uuid, **message._job_options())
        theirs = job._store_values(create=True)
        for values in (ours, theirs):
            self.assertAlmostEqual(values.pop("date_created"), datetime.now(), delta=timedelta(minutes=1))
        records = ours.pop("records"), theirs.pop("records")
        self.assertEqual(ours, theirs)
        self.assertEqual([(r._name, r.ids, r.env.uid, r.env.su, r.env.context) for r in records[:1]],
                         [(r._name, r.ids, r.env.uid, r.env.su, r.env.context) for r in records[1:]])
        # ... and what a new message's job row is written from: no Job is built for it.
        with patch.object(Job, "_store_values", side_effect=AssertionError("a Job was built")):
            stored = self.contact({"id": "P-ROWS-00", "name": "Direct"})
        self.assertEqual(self.job_of(stored).func_string, f"hc.message({stored.id},)._job_process()")

    def test_job_rows_are_queue_jobs_and_rules_on_job_creation_still_run(self):
        message = self.contact({"id": "P-ROWS-1", "name": "Rows"})
        job = self.job_of(message)
        self.assertEqual((job.state, job.channel, job.model_name, job.method_name, job.max_retries, job.priority),
                         ("pending", "root.hc.pas", "hc.message", "_job_process", 3, 10))
        self.assertEqual((job.records._name, job.records.ids, job.user_id.id), ("hc.message", message.ids,
                                                                             self.backend._job_user()))
        self.env["base.automation"].create({
            "name": "Jobs of the PAS first", "model_id": self.env["ir.model"]._get_id("queue.job"),
            "trigger": "on_create_or_write",
            "action_server_ids": [(0, 0, {
                "name": "Priority 3", "model_id": self.env["ir.model"]._get_id("queue.job"), "state": "code",
                "code": "records.filtered(lambda job: job.priority != 3).write({'priority': 3})"})],
        })
        watched = self.contact({"id": "P-ROWS-2", "name": "Watched"})
        self.assertEqual(self.job_of(watched).priority, 3, "the rule on job creation ran")


@tagged("post_install", "-at_install")
class TestMessageRows(MessageCase):
    """A new message is written by one plain INSERT where that is all the ORM's create would do:
    the row and the cache are what the ORM would leave; the ORM's create runs instead for what
    it alone would do (defaults set by an administrator, rules on the creation of messages)."""

    def test_row_and_cache_are_what_the_orm_stores(self):
        partner = self.env["res.partner"].create({"name": "Bound"})
        self.env["hc.binding"].create({"backend_id": self.backend.id, "res_model": "res.partner",
                                       "external_id": "P-ROW-1", "res_id": partner.id})
        with patch.object(BaseModel, "_create", side_effect=AssertionError("stored by the ORM's create")):
            first = self.contact({"id": "P-ROW-1", "name": "Bound"})
            second = self.contact({"id": "P-ROW-2", "name": "New"})
        columns = [name for name, field in first._fields.items() if field.store and field.column_type
                   and name not in ("create_date", "write_date")]
        with self.assertQueryCount(0):  # every column in the cache, as the ORM's create leaves it
            cached = {message: {name: message[name] for name in columns} for message in first | second}
        (first | second).invalidate_recordset()
        for message, values in cached.items():
            self.assertEqual({name: message[name] for name in columns}, values, "the cache is the row")
        self.assertEqual((first.state, first.company_id, first.object_type, first.direction),
                         ("queued", self.backend.company_id, "generic", "inbound"))
        self.assertEqual((first.res_model, first.res_id), ("res.partner", partner.id), "found by its binding")
        self.assertFalse(second.res_id)
        self.assertRegex(first.correlation_id, r"^[0-9a-f]{32}$")
        self.assertNotEqual(first.correlation_id, second.correlation_id)
        self.assertTrue(first.received_at)
        self.assertEqual((first.create_uid, first.write_uid), (self.env.user, self.env.user))
        self.assertEqual((first.create_date, first.write_date), (self.env.cr.now(), self.env.cr.now()),
                         "created at the transaction's time, as the ORM dates a creation")

    def test_a_caller_asking_for_the_chatter_gets_it(self):
        """Without ``tracking_disable`` the ORM's create stores the message: mail.thread logs it."""
        vals = self.Message._message_values(self.backend, self.flow, {"id": "P-ROW-6"}, "inbound",
                                            external_id="P-ROW-6")
        asking = self.Message.with_context(tracking_disable=False, mail_create_nolog=False).sudo()
        message = asking._insert_rows([vals])
        self.assertTrue(message.message_ids, "the creation is logged in the chatter")
        self.assertEqual(message.state, "new")

    def test_a_replay_is_among_its_originals_replays_at_once(self):
        original = self.contact({"id": "P-ROW-3", "name": "Original"})
        self.assertFalse(original.replay_ids)  # now in the cache
        replay = original._receive_replay({"id": "P-ROW-3", "name": "Again"})
        self.assertEqual(original.replay_ids, replay)

    def test_defaults_set_by_an_administrator_apply(self):
        partner = self.env["res.partner"].create({"name": "Bound too"})
        self.env["hc.binding"].create({"backend_id": self.backend.id, "res_model": "res.partner",
                                       "external_id": "P-ROW-4", "res_id": partner.id})
        self.env["ir.default"].set("hc.message", "user_id", self.users["operator"].id)
        message = self.contact({"id": "P-ROW-4", "name": "Assigned"})
        message.invalidate_recordset()
        self.assertEqual(message.user_id, self.users["operator"])
        self.assertEqual((message.res_model, message.res_id), ("res.partner", partner.id),
                         "the ORM's create finds the bound record too")

    def test_rules_on_the_creation_of_messages_still_run(self):
        model = self.env["ir.model"]._get_id("hc.message")
        self.env["base.automation"].create({
            "name": "New messages to the operator", "model_id": model, "trigger": "on_create_or_write",
            "action_server_ids": [(0, 0, {
                "name": "Assign", "model_id": model, "state": "code",
                "code": f"records.write({{'user_id': {self.users['operator'].id}}})"})],
        })
        message = self.contact({"id": "P-ROW-5", "name": "Watched"})
        message.invalidate_recordset()
        self.assertEqual(message.user_id, self.users["operator"], "the rule on message creation ran")
