from odoo.tests import tagged

from .common import ProcurementCase


@tagged("post_install", "-at_install")
class TestReceipts(ProcurementCase):
    """Receipt confirmations pulled from the receiving system validate Odoo's receipts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.use_demo_backends()
        cls.flow = cls.env.ref("hc_procurement_sync.demo_flow_receipts")
        cls.vendor = cls.env["res.partner"].create({"name": "Receipt vendor"})
        cls.gloves = cls.env["product.product"].create(
            {"name": "Gloves", "default_code": "ITM-R1", "is_storable": True})
        cls.reagent = cls.env["product.product"].create(
            {"name": "Reagent", "default_code": "ITM-R2", "is_storable": True, "tracking": "lot"})

    def order(self):
        return self.confirm(self.create_order(self.vendor, [(self.gloves, 10, 1.0), (self.reagent, 10, 1.0)]))

    def pull_receipts(self, confirmations):
        self.sims.state.planted_receipts.extend(confirmations)
        return self.pull(self.flow)

    def test_partial_receipt_with_lots_leaves_a_backorder_and_applies_once(self):
        order = self.order()
        gloves_line = order.order_line.filtered(lambda ln: ln.product_id == self.gloves)
        confirmation = {"reference": "GRN-1", "po_reference": order.name, "lines": [
            {"line_ref": gloves_line.id, "quantity": 4},
            {"item_code": "ITM-R2", "quantity": 3, "lot": "LOT-A", "expiry_date": "2027-05-01"},
            {"item_code": "ITM-R2", "quantity": 2, "lot": "LOT-B"},
        ]}
        run = self.pull_receipts([confirmation])
        self.assertEqual((run.count_created, run.count_failed), (1, 0))
        done = order.picking_ids.filtered(lambda p: p.state == "done")
        backorder = order.picking_ids - done
        self.assertEqual(len(done), 1)
        self.assertEqual(backorder.backorder_id, done)
        self.assertEqual(gloves_line.qty_received, 4)
        reagent_line = order.order_line.filtered(lambda ln: ln.product_id == self.reagent)
        self.assertEqual(reagent_line.qty_received, 5)
        self.assertEqual(sorted(done.move_line_ids.lot_id.mapped("name")), ["LOT-A", "LOT-B"])
        again = self.pull_receipts([])  # the same confirmation is still listed by the receiving system
        self.assertEqual((again.count_created, again.count_unchanged), (0, 1))
        self.assertEqual(gloves_line.qty_received, 4)

    def test_over_receipt_and_unknown_line_go_to_the_exception_queue(self):
        order = self.order()
        run = self.pull_receipts([
            {"reference": "GRN-2", "po_reference": order.name, "lines": [{"item_code": "ITM-R1", "quantity": 99}]},
        ])
        message = run.page_message_ids
        self.assertEqual((message.state, message.error_category), ("exception", "conflict"))
        self.assertIn("more than the 10.0 expected", message.error_message)
        self.assertFalse(order.picking_ids.filtered(lambda p: p.state == "done"))
        self.sims.reset()
        run = self.pull_receipts([
            {"reference": "GRN-3", "po_reference": order.name, "lines": [{"item_code": "ITM-ZZZ", "quantity": 1}]},
        ])
        self.assertIn("line ITM-ZZZ is not on order", run.page_message_ids.error_message)

    def test_quantities_count_in_the_order_lines_unit(self):
        """Bought by the pack of 6, received as 6 packs: 36 units in stock, the line fully received
        (the move counts in the product's unit, the document in the order line's)."""
        pack = self.env.ref("uom.product_uom_pack_6")
        order = self.confirm(self.create_order(self.vendor, [(self.gloves, 6, 9.0, {"product_uom_id": pack.id})]))
        run = self.pull_receipts([{"reference": "GRN-4", "po_reference": order.name,
                          "lines": [{"item_code": "ITM-R1", "quantity": 6}]}])
        self.assertEqual((run.count_created, run.count_failed), (1, 0), run.page_message_ids.error_message)
        self.assertEqual(order.order_line.qty_received, 6)
        self.assertEqual(sum(order.picking_ids.filtered(lambda p: p.state == "done").move_ids.mapped("quantity")), 36)
        self.assertFalse(order.picking_ids.filtered(lambda p: p.state != "done"), "nothing left to receive")
