from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import new_test_user, tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from ..transports.paging import Page
from .common import DISCARD_URL, HcIntegrationCase


@tagged("post_install", "-at_install")
class TestBatchWatchdog(HcIntegrationCase):
    """Runs never stay *running* without progress, and their progress reads true while they run."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = new_test_user(cls.env, login="hc_wd_owner", groups="base.group_user")
        cls.backend = cls.create_backend(name="Watched", code="watched", base_url=DISCARD_URL,
                                         responsible_user_id=cls.owner.id)
        cls.flow = cls.create_flow("watched_pull", cls.backend, name="Watched pull", direction="pull", mode="batch",
                                   remote_resource="/api/v1/suppliers", external_id_path="code")

    def start(self):
        return self.env["hc.batch.run"].browse(self.flow.action_pull_now()["res_id"])

    def stall(self, run, minutes=45):
        past = fields.Datetime.now() - timedelta(minutes=minutes)
        run.write({"started_at": past, "fetched_at": past})

    def test_a_run_whose_job_vanished_is_resumed_once_then_failed_with_an_activity(self):
        with trap_jobs():
            run = self.start()  # its fetch job never reaches the runner
        self.stall(run)
        with trap_jobs() as trap:
            self.env["hc.batch.run"]._cron_watchdog()
            trap.assert_jobs_count(1)  # fetching the same page again
        self.assertEqual(run.state, "running")
        self.assertTrue(run.watchdog_resumed_at)
        self.stall(run)
        with trap_jobs() as trap:
            self.env["hc.batch.run"]._cron_watchdog()
            trap.assert_jobs_count(0)
        self.assertEqual(run.state, "failed")
        self.assertIn("again after the watchdog resumed", run.error_message)
        self.assertEqual(run.activity_ids.user_id, self.owner)
        self.assertIn("Watched pull", run.activity_ids.summary)
        # The flow can be pulled again: a stuck run no longer blocks it.
        with trap_jobs():
            self.assertNotEqual(self.start(), run)

    def test_a_run_whose_job_failed_is_failed_with_the_job_error(self):
        with trap_jobs():
            run = self.start()
        self.stall(run)
        self.env["queue.job"].sudo().create({
            "uuid": "watchdog-test-job", "name": "fetch", "state": "failed", "model_name": "hc.batch.run",
            "method_name": "_job_fetch_page", "records": run, "args": [False], "kwargs": {},
            "exc_message": "worker ran out of memory",
        })
        self.env["hc.batch.run"]._cron_watchdog()
        self.assertEqual(run.state, "failed")
        self.assertIn("worker ran out of memory", run.error_message)

    def test_a_run_still_progressing_or_waiting_for_its_job_is_left_alone(self):
        with trap_jobs():
            run = self.start()
        self.stall(run, minutes=5)  # recent progress
        self.env["hc.batch.run"]._cron_watchdog()
        self.assertEqual(run.state, "running")
        self.stall(run)
        run._enqueue_fetch()  # a real job, waiting for the runner (not trapped)
        self.env["hc.batch.run"]._cron_watchdog()
        self.assertEqual(run.state, "running")
        self.assertFalse(run.watchdog_resumed_at)

    def test_progress_without_a_total_counts_the_pages_fetched(self):
        pages = (Page(records=[{"code": "W1", "name": "One"}], next={"cursor": "b"}),
                 Page(records=[{"code": "W2", "name": "Two"}], next={"cursor": "c"}))
        with self.fetched_pages(*pages), trap_jobs() as trap:
            run = self.start()
            trap.perform_enqueued_jobs()  # page 1 stored; its processing and the next fetch queued
            trap.perform_enqueued_jobs()  # page 1 applied, page 2 stored
        self.assertEqual((run.pages_fetched, run.pages_total, run.pages_done), (2, 0, 1))
        self.assertEqual(run.progress_max, 2)
        self.assertEqual(run.progress, 50.0)
        self.assertIn("1 of 2 pages fetched so far applied", run.progress_label)

    def test_hooks_are_called_on_every_end(self):
        calls = []
        Run = type(self.env["hc.batch.run"])
        with patch.object(Run, "_on_finished", lambda runs: calls.append(("finished", runs.ids))), \
                patch.object(Run, "_on_failed", lambda runs: calls.append(("failed", runs.ids))), \
                self.fetched_pages(*[Page(records=[], next=None)] * 2), trap_jobs() as trap:
            done = self.start()
            trap.perform_enqueued_jobs()
            cancelled = self.start()
            cancelled.action_cancel()
        self.assertEqual(calls, [("finished", done.ids), ("failed", cancelled.ids)])
