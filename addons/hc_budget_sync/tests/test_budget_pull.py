from datetime import date

from odoo import sql_db
from odoo.tests import TransactionCase, tagged

from odoo.addons.hc_integration_base.exceptions import ReferenceWait
from odoo.addons.hc_integration_base.lifecycle.locks import lock_key

from .common import ADM, LAB, MNT, YEAR, BudgetMixin

WRITTEN = ("crossovered.budget", "crossovered.budget.lines", "account.budget.post")


@tagged("post_install", "-at_install")
class TestBudgetPull(BudgetMixin, TransactionCase):
    """The finance system's approved budgets, in its own dialect, through the demo flow's mapping."""

    def test_pull_makes_one_budget_per_reference_with_a_line_per_cost_centre(self):
        run = self.pull()
        self.assertEqual(run.state, "done")
        self.assertEqual((run.pages_done, run.count_created, run.count_failed), (3, 11, 0),
                         run.page_message_ids.mapped(lambda m: (m.state, m.count_created, m.error_message)))
        budgets = self.env["crossovered.budget"].search([("hc_reference", "like", f"BUD-{YEAR}-")])
        self.assertEqual(sorted(budgets.mapped("hc_reference")),
                         [f"BUD-{YEAR}-ADM", f"BUD-{YEAR}-CLIN", f"BUD-{YEAR}-SUPP"])
        clinical = self.budget(f"BUD-{YEAR}-CLIN")
        self.assertEqual((clinical.name, clinical.state, clinical.hc_policy, clinical.creating_user_id),
                         (f"Clinical services {YEAR}", "validate", "hold", self.owners["CLIN"]))
        self.assertEqual((str(clinical.date_from), str(clinical.date_to)), (f"{YEAR}-01-01", f"{YEAR}-12-31"))
        self.assertEqual(len(clinical.crossovered_budget_line_ids), 5)
        self.assertEqual((self.budget(f"BUD-{YEAR}-SUPP").hc_policy, self.budget(f"BUD-{YEAR}-ADM").hc_policy),
                         ("warn", "block"))
        lab = self.line(LAB)
        self.assertEqual((lab.crossovered_budget_id, lab.planned_amount), (clinical, 1000.0))
        self.assertEqual(lab.analytic_account_id.plan_id, self.env.ref("hc_workforce_sync.analytic_plan_cost_centres"))
        self.assertTrue(lab.general_budget_id.account_ids, "OCA's budgetary position has the expense accounts")
        self.assertEqual(len(self.env["crossovered.budget.lines"].search(
            [("crossovered_budget_id", "in", budgets.ids)])), 11, "every cost centre has its line")
        self.assertEqual(self.line("CC-4000").crossovered_budget_id, self.budget(f"BUD-{YEAR}-ADM"))
        self.assertEqual(self.line(MNT).hc_remaining, 1000.0)
        # Sync status: every budget and line the pull applied is in sync; a budget made in Odoo never was.
        self.assertEqual(set(budgets.mapped("hc_sync_state")), {"in_sync"})
        self.assertEqual(lab.hc_sync_state, "in_sync")
        local = self.env["crossovered.budget"].create(
            {"name": "Local", "date_from": f"{YEAR}-01-01", "date_to": f"{YEAR}-12-31"})
        self.assertEqual(local.hc_sync_state, "never")

    def test_a_second_pull_writes_nothing(self):
        self.pull()
        with self.count_writes(*WRITTEN) as counts:
            run = self.pull()
        self.assertEqual(run.state, "done")
        self.assertEqual(counts, dict.fromkeys(WRITTEN, 0))
        messages = run.page_message_ids
        self.assertTrue(messages and all(m.state == "done" for m in messages))

    def test_a_revised_amount_updates_its_line_only(self):
        self.pull()
        before = {line.id: line.planned_amount for line in self.env["crossovered.budget.lines"].search([])}
        self.finance.state.override(f"BL-{YEAR}-ADM-4100", approvedAmount="2500.50")
        self.addCleanup(self.finance.state.override, f"BL-{YEAR}-ADM-4100", approvedAmount="1000.00")
        self.pull()
        adm = self.line(ADM)
        self.assertEqual(adm.planned_amount, 2500.5)
        after = {line.id: line.planned_amount for line in self.env["crossovered.budget.lines"].search([])}
        self.assertEqual({k for k in after if after[k] != before.get(k)}, {adm.id})

    def test_an_unknown_cost_centre_stops_its_page_naming_the_code(self):
        self.finance.state.override(f"BL-{YEAR}-SUPP-4190", costCentre="CC-9999")
        self.addCleanup(self.finance.state.override, f"BL-{YEAR}-SUPP-4190", costCentre="CC-4190")
        run = self.pull()
        failed = run.page_message_ids.filtered(lambda m: m.state == "exception")
        self.assertEqual(len(failed), 1)
        self.assertIn("CC-9999", failed.error_message)
        self.assertEqual(failed.error_category, "mapping")

    def test_a_budget_another_page_is_creating_waits_for_it(self):
        """Pages of one pull run side by side: the page that does not get the budget's lock waits (no
        attempt spent) instead of making a second budget of the same reference."""
        message = self.env["hc.message"].new({"backend_id": self.backend.id, "flow_id": self.flow.id})
        other = sql_db.db_connect(self.env.cr.dbname).cursor()  # another session (the registry's is the test's)
        self.addCleanup(other.close)
        other.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(f"hc.budget:{self.backend.id}:BUD-RACE"),))
        handler = self.env["hc.handler.budget"]
        with self.assertRaisesRegex(ReferenceWait, "BUD-RACE is being created by another page"):
            handler._create_budget(message, "BUD-RACE", {"name": "Race"}, self.env.company,
                                   date(YEAR, 1, 1), date(YEAR, 12, 31))
        other.rollback()
        budget = handler._create_budget(message, "BUD-RACE", {"name": "Race"}, self.env.company,
                                        date(YEAR, 1, 1), date(YEAR, 12, 31))
        self.assertEqual(self.budget("BUD-RACE"), budget)
