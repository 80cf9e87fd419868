from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.hc_integration_base.tests.common import DISCARD_URL, HcIntegrationCase
from odoo.addons.queue_job.tests.common import trap_jobs


@tagged("post_install", "-at_install")
class TestSyncStatus(HcIntegrationCase):
    """The base sync mixin as procurement users see it on suppliers and orders."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.create_backend(name="Supplier master", code="suppliers", base_url=DISCARD_URL)
        cls.flow = cls.create_flow("suppliers", cls.backend, name="Suppliers")
        cls.Message = cls.env["hc.message"]

    def supplier(self, payload):
        return self.receive(self.flow, payload, external_id=payload["id"])

    def test_states_follow_latest_message(self):
        never = self.env["res.partner"].create({"name": "Never synced"})
        self.assertEqual(never.hc_sync_state, "never")
        ok = self.supplier({"id": "S1", "name": "Good supplier"})
        ok._job_process()
        supplier = ok.record_ref
        supplier.invalidate_recordset()
        self.assertEqual(supplier.hc_sync_state, "in_sync")
        self.assertEqual(supplier.hc_last_sync, ok.done_at)
        self.assertEqual(supplier.hc_message_count, 1)
        pending = self.supplier({"id": "S1", "name": "Good supplier 2"})
        supplier.invalidate_recordset()
        self.assertEqual(supplier.hc_sync_state, "pending")
        pending.write({"state": "processing"})
        pending.write({"state": "exception"})
        supplier.invalidate_recordset()
        self.assertEqual(supplier.hc_sync_state, "failed")

        Partner = self.env["res.partner"]
        self.assertIn(supplier, Partner.search([("hc_sync_state", "=", "failed")]))
        self.assertNotIn(never, Partner.search([("hc_sync_state", "=", "failed")]))
        self.assertIn(never, Partner.search([("hc_sync_state", "=", "never")]))
        self.assertNotIn(supplier, Partner.search([("hc_sync_state", "=", "never")]))
        self.assertIn(supplier, Partner.search([("hc_sync_state", "!=", "in_sync")]))

        action = supplier.action_hc_view_messages()
        self.assertEqual(self.Message.search(action["domain"]), ok | pending)

    def test_resync_retries_failed_exchange(self):
        bad = self.supplier({"id": "S2", "unknown": "x"})
        bad._job_process()
        self.assertEqual(bad.state, "exception")
        partner = self.env["res.partner"].create({"name": "Fixed later"})
        bad.write({"res_model": "res.partner", "res_id": partner.id})
        operator = new_test_user(
            self.env, login="hc_proc_operator",
            groups="purchase.group_purchase_user,base.group_partner_manager,hc_integration_base.group_hc_operator",
        )
        with trap_jobs() as trap:
            partner.with_user(operator).action_hc_resync()
            trap.assert_jobs_count(1)
        self.assertEqual(bad.state, "queued")
        with self.assertRaises(UserError):
            self.env["res.partner"].create({"name": "Nothing to do"}).action_hc_resync()

    def test_purchase_order_and_product_have_status(self):
        vendor = self.env["res.partner"].create({"name": "Vendor"})
        order = self.env["purchase.order"].create({"partner_id": vendor.id})
        self.assertEqual(order.hc_sync_state, "never")
        template = self.env["product.template"].create({"name": "Gloves"})
        self.assertEqual(template.hc_sync_state, "never")
        self.assertFalse(self.env["purchase.order"].search([("hc_sync_state", "=", "failed")]))
