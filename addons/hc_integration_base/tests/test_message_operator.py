"""What an operator does with messages: retry, ignore, assign, replay and its dry run, and the
retention cron."""

import json
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import MessageCase


@tagged("post_install", "-at_install")
class TestMessageOperatorActions(MessageCase):
    def _exception_message(self, external_id="Q1"):
        with trap_jobs():
            message = self.contact({"id": external_id, "nickname": "no such field"})
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
            message = self.contact({"id": "Q4", "name": "Before"})
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
            recent = self.contact({"id": "R1", "name": "Recent"})
            old = self.contact({"id": "R2", "name": "Old"})
            ancient = self.contact({"id": "R3", "name": "Ancient"})
            stuck = self.contact({"id": "R4", "name": "Pending"})
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
