from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user, tagged

from odoo.addons.hc_integration_base.transports.paging import Page
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import InventoryCase


@tagged("post_install", "-at_install")
class TestReconciliationEnds(InventoryCase):
    """A reconciliation never stays *running* or *comparing*: every way a balance pull ends moves it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.steward = new_test_user(cls.env, login="hc_wd_steward", groups="stock.group_stock_manager")
        cls.flow_balances.hc_steward_id = cls.steward

    def start(self):
        action = self.flow_balances.action_pull_now()
        return self.env["hc.reconciliation"].browse(action["res_id"])

    def balance(self, qty):
        return {"item_code": self.gloves.default_code, "location_code": "WH-MAIN", "qty": qty}

    def age(self, reconciliation, minutes=90):
        """As if the pull had ended ``minutes`` ago."""
        past = fields.Datetime.now() - timedelta(minutes=minutes)
        reconciliation.batch_run_id.write({"fetched_at": past, "started_at": past})
        self.env.cr.execute("UPDATE hc_reconciliation SET write_date = %s WHERE id = %s", (past, reconciliation.id))
        reconciliation.invalidate_recordset()

    def test_an_empty_pull_is_compared(self):
        self.put(self.gloves, self.stock, 5)
        self.sims.state.planted_balances = []
        reconciliation = self.pull(self.flow_balances)
        self.assertEqual(reconciliation.batch_run_id.state, "done")
        self.assertEqual(reconciliation.state, "done", reconciliation.error_message)
        self.assertEqual(reconciliation.balance_count, 0)

    def test_a_trailing_empty_page_ends_the_comparison(self):
        self.put(self.gloves, self.stock, 5)
        pages = iter([
            Page(records=[self.balance(5)], next={"page": 2}),
            Page(records=[], next=None),
        ])
        with self.fetched_pages(*pages):
            reconciliation = self.pull(self.flow_balances)
        run = reconciliation.batch_run_id
        self.assertEqual((run.state, run.pages_fetched), ("done", 1))
        self.assertEqual(reconciliation.pages_staged, 1)
        self.assertEqual(reconciliation.state, "done", reconciliation.error_message)
        self.assertEqual(reconciliation.balance_count, 1)

    def test_a_page_in_exception_fails_it_and_tells_the_steward_and_a_retry_revives_it(self):
        self.put(self.gloves, self.stock, 5)
        pages = iter([Page(records=[self.balance(5)], next={"page": 2}), Page(records="broken", next=None)])
        with self.fetched_pages(*pages):
            reconciliation = self.pull(self.flow_balances)
        broken = reconciliation.batch_run_id.page_message_ids.filtered(lambda m: m.state == "exception")
        self.assertEqual(len(broken), 1)
        self.assertEqual(reconciliation.state, "failed")
        self.assertIn(f"Page {broken.page_number}", reconciliation.error_message)
        self.assertEqual(reconciliation.activity_ids.user_id, self.steward)
        # The operator fixes the page and retries it: staged at last, the comparison starts.
        broken.sudo().payload = '[{"item_code": "ITM-I1", "location_code": "WH-MAIN", "qty": 0}]'
        with trap_jobs() as trap:
            broken.action_retry()
            self.run_jobs(trap)
        self.assertEqual(reconciliation.state, "done", reconciliation.error_message)
        self.assertEqual(reconciliation.balance_count, 2)

    def test_watchdog_fails_a_run_left_with_a_page_never_staged(self):
        self.sims.state.planted_balances = [self.balance(1)]
        with trap_jobs() as trap:
            reconciliation = self.start()
            self.run_jobs(trap)
            self.assertEqual(reconciliation.state, "done")
        # A reconciliation left running although its pull ended (its page ignored by a person):
        with trap_jobs() as trap:
            reconciliation = self.start()
            trap.perform_enqueued_jobs()  # the fetch only: the page message stays queued
        page = reconciliation.batch_run_id.page_message_ids
        page.sudo().write({"state": "ignored", "ignore_reason": "test"})
        self.age(reconciliation)
        self.env["hc.batch.run"]._cron_watchdog()
        self.assertEqual(reconciliation.state, "failed")
        self.assertIn("only 0 of its 1 pages", reconciliation.error_message)
        self.assertEqual(reconciliation.activity_ids.user_id, self.steward)

    def test_watchdog_restarts_a_comparison_whose_job_vanished(self):
        self.sims.state.planted_balances = [self.balance(1)]
        with trap_jobs() as trap:
            reconciliation = self.start()
            while trap.enqueued_jobs and reconciliation.state != "comparing":
                trap.perform_enqueued_jobs()
            self.assertEqual(reconciliation.state, "comparing")
        # Those jobs were only trapped: for the watchdog no compare job is left to run.
        self.age(reconciliation)
        with trap_jobs() as trap:
            self.env["hc.batch.run"]._cron_watchdog()
            trap.assert_jobs_count(1)
            trap.perform_enqueued_jobs()
        self.assertEqual(reconciliation.state, "done")

    def test_a_stuck_pull_fails_its_reconciliation_through_the_run_hooks(self):
        with trap_jobs():
            reconciliation = self.start()  # the fetch job is trapped: it never runs
        self.age(reconciliation)
        run = reconciliation.batch_run_id
        run.watchdog_resumed_at = fields.Datetime.now() - timedelta(minutes=1)  # resumed once already
        self.env["hc.batch.run"]._cron_watchdog()
        self.assertEqual(run.state, "failed")
        self.assertEqual(reconciliation.state, "failed")
        self.assertEqual(reconciliation.error_message, run.error_message)
        self.assertIn(self.steward, reconciliation.activity_ids.user_id)
