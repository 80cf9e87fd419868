from datetime import date

from odoo.tests import new_test_user

from odoo.addons.hc_integration_base.tests.common import HcIntegrationMixin
from odoo.addons.queue_job.tests.common import trap_jobs

# Importable: the base addon's tests.common puts the repository on sys.path.
from legacy_sim import finance as finance_sim
from legacy_sim import hr as hr_sim

# The demo cost centres of the three budgets, with a small approved amount for the tests.
LAB, MNT, ADM = "CC-4110", "CC-4160", "CC-4100"
YEAR = date.today().year  # the simulator serves the current fiscal year, as orders are dated today


class BudgetMixin(HcIntegrationMixin):
    """The HR simulator (cost centres) and the finance simulator (approved budgets of ``YEAR``) on free
    loopback ports, the demo backends pointed at them; cost centres pulled; budget owners as users
    whose e-mails the finance system names."""

    AMOUNTS = {f"BL-{YEAR}-CLIN-4110": "1000.00", f"BL-{YEAR}-SUPP-4160": "1000.00",
               f"BL-{YEAR}-ADM-4100": "1000.00"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.hr = hr_sim.start_hr_simulator(port=0, employees=10)
        cls.addClassCleanup(cls.hr.stop)
        cls.finance = finance_sim.start_finance_simulator(port=0, years=(YEAR,))
        cls.addClassCleanup(cls.finance.stop)
        for line_id, amount in cls.AMOUNTS.items():
            cls.finance.state.override(line_id, approvedAmount=amount)
        cls.env.ref("hc_workforce_sync.demo_backend_hr").base_url = cls.hr.url
        cls.backend = cls.env.ref("hc_budget_sync.demo_backend_finance")
        cls.backend.base_url = cls.finance.url
        cls.flow = cls.env.ref("hc_budget_sync.demo_flow_budgets")
        cls.owners = {
            key: new_test_user(cls.env, login=email, email=email, name=name,
                               groups="base.group_user,hc_budget_sync.group_hc_budget_owner")
            for key, email, name in (
                ("CLIN", "clinical.finance@hospital.example", "Clinical finance"),
                ("SUPP", "support.finance@hospital.example", "Support finance"),
                ("ADM", "finance.director@hospital.example", "Finance director"),
            )
        }
        cls.buyer = new_test_user(cls.env, login="hc_budget_buyer", name="Buyer",
                                  groups="base.group_user,purchase.group_purchase_user")
        cls._pull(cls.env.ref("hc_workforce_sync.demo_flow_cost_centres"))

    @classmethod
    def _pull(cls, flow):
        with trap_jobs() as trap:
            run = cls.env["hc.batch.run"].browse(flow.action_pull_now()["res_id"])
            while trap.enqueued_jobs:
                trap.perform_enqueued_jobs()
        return run

    def pull(self, flow=None):
        return self._pull(flow or self.flow)

    def centre(self, code):
        return self.env["account.analytic.account"].search([("code", "=", code)])

    def budget(self, reference):
        return self.env["crossovered.budget"].search([("hc_reference", "=", reference)])

    def line(self, code, reference=None):
        domain = [("analytic_account_id.code", "=", code)]
        if reference:
            domain.append(("crossovered_budget_id.hc_reference", "=", reference))
        return self.env["crossovered.budget.lines"].search(domain)


class BudgetOrderMixin(BudgetMixin):
    """Budgets pulled; a vendor the gateway knows and a product without taxes; orders on cost centres."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._pull(cls.env.ref("hc_budget_sync.demo_flow_budgets"))
        cls.vendor = cls.env["res.partner"].create({"name": "Budget vendor", "ref": "SUP-0003", "is_company": True})
        cls.product = cls.env["product.product"].create({
            "name": "Infusion set", "default_code": "ITM-000003", "supplier_taxes_id": False, "type": "consu",
            "purchase_method": "purchase",
        })
        cls.po_flow = cls.env.ref("hc_procurement_sync.demo_flow_po_push")

    def order(self, code, amount, quantity=1, user=None):
        return self.env["purchase.order"].with_user(user or self.buyer).create({
            "partner_id": self.vendor.id,
            "order_line": [(0, 0, {"product_id": self.product.id, "product_qty": quantity,
                                   "price_unit": amount / quantity,
                                   "analytic_distribution": {str(self.centre(code).id): 100}})],
        })

    def pushes(self, order):
        return self.env["hc.message"].search([("res_model", "=", "purchase.order"), ("res_id", "=", order.id),
                                              ("direction", "=", "outbound"), ("flow_id", "=", self.po_flow.id)])

    def bill(self, order, quantity=None):
        """The order's vendor bill, posted (all of it, or ``quantity`` of its first line)."""
        action = order.with_user(self.env.ref("base.user_admin")).action_create_invoice()
        bill = self.env["account.move"].browse(action["res_id"])
        bill.invoice_date = order.date_order.date()
        if quantity is not None:
            bill.invoice_line_ids[0].quantity = quantity
        bill.action_post()
        return bill
