"""Waits that spend no attempt: the backend's processing slots and a record another worker holds."""

from odoo import sql_db
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from ..lifecycle import lock_key, try_claim, try_xact_lock
from ..lifecycle.locks import BUSY, HELD, STALE
from .common import MessageCase, postponed


@tagged("post_install", "-at_install")
class TestBackendCapacity(MessageCase):
    def test_busy_backend_postpones_without_counting_an_attempt(self):
        self.backend.job_capacity = 1
        with trap_jobs():
            first = self.contact({"id": "C1", "name": "One"})
            second = self.contact({"id": "C2", "name": "Two"})
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
            message = self.contact({"id": "C3", "name": "Three"})
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
class TestNamedClaims(MessageCase):
    def test_a_claim_tells_busy_and_a_snapshot_older_than_the_last_holder(self):
        """A claim is the named lock plus the news that an earlier holder committed after this
        transaction began: two pages making one record side by side, the later-begun one (an older
        snapshot) is told to run again, not left to make the record twice."""
        name = f"hc.test.claim:{self.backend.id}"
        database = sql_db.db_connect(self.env.cr.dbname)
        with database.cursor() as first, database.cursor() as second:
            second.execute("SELECT 1 FROM hc_message LIMIT 1")  # its snapshot, before the first commits
            self.assertEqual(try_claim(first, name), HELD)
            self.assertEqual(try_claim(first, name), HELD, "held already by this transaction")
            self.assertEqual(try_claim(second, name), BUSY, "the first holds it")
            first.commit()
            self.assertEqual(try_claim(second, name), STALE, "the first committed after it began")
            second.rollback()
            self.assertEqual(try_claim(second, name), HELD, "a fresh snapshot sees the first's work")
            second.execute("SELECT 1")  # the refused write was undone to its savepoint only
            second.execute("DELETE FROM hc_lock_claim WHERE key = %s", [lock_key(name)])
            second.commit()
