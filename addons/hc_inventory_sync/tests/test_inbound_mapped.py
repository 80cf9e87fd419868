from odoo.tests import tagged

from odoo.addons.hc_integration_base.tests.common import mapping_line as line

from .common import InventoryCase


@tagged("post_install", "-at_install")
class TestInventoryMapped(InventoryCase):
    """Consumption events and stock balances of a system with another dialect (Dutch keys,
    nesting, dd.mm.yyyy dates, decimal commas, its own location codes through a code table)
    reach the canonical documents through the flows' inbound mappings; the system names items
    by its own codes, bound to the products by its item pull."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create_code_table("mms_place", {"APO": "PHARM", "HW": "WH-MAIN", "IC": "ICU"}, name="MMS places")
        Binding = cls.env["hc.binding"]
        Binding._bind(cls.rest, cls.gloves.product_tmpl_id, "MMS-G")   # ITM-I1 in Odoo
        Binding._bind(cls.rest, cls.saline, "MMS-S")                   # ITM-I3 in Odoo

    def test_consumption_in_another_dialect_becomes_a_done_move(self):
        self.create_mapping(self.flow_events, [
            line(1, "verbruik.id", "reference"),
            line(2, "verbruik.artikel", "item_code"),
            line(3, "verbruik.aantal", "quantity", "number", decimal_separator=","),
            line(4, "verbruik.plaats", "location_code", "value_map", table="mms_place"),
            line(5, "verbruik.tijd", "consumed_at", "datetime", format="%d.%m.%Y %H:%M", tz="UTC"),
        ])
        self.put(self.gloves, self.pharmacy, 50)
        event = {"verbruik": {"id": "V-1", "artikel": "MMS-G", "aantal": "12,5", "plaats": "APO",
                              "tijd": "20.11.2026 09:30"}}
        message = self.apply(self.flow_events, event)
        self.assertEqual(message.state, "done", message.error_message)
        move = message.record_ref
        self.assertEqual((move._name, move.state, move.product_id, move.product_uom_qty),
                         ("stock.move", "done", self.gloves, 12.5))
        self.assertEqual((move.location_id, move.location_dest_id), (self.pharmacy, self.consumed))
        self.assertEqual(str(move.date), "2026-11-20 09:30:00")
        self.assertEqual(self.on_hand(self.gloves, self.pharmacy), 37.5)
        again = self.apply(self.flow_events, event)
        self.assertEqual((again.state, again.count_unchanged), ("done", 1))
        self.assertEqual(self.on_hand(self.gloves, self.pharmacy), 37.5, "applied once")
        # A quantity the mapping does not convert is not a canonical quantity: refused, naming the path.
        self.create_mapping(self.flow_events, [
            line(1, "verbruik.id", "reference"), line(2, "verbruik.artikel", "item_code"),
            line(3, "verbruik.aantal", "quantity"),
            line(4, "verbruik.plaats", "location_code", "value_map", table="mms_place"),
        ])
        wrong = self.apply(self.flow_events, {"verbruik": {"id": "V-2", "artikel": "MMS-G", "aantal": "1,5",
                                                             "plaats": "APO"}})
        self.assertEqual((wrong.state, wrong.error_category), ("exception", "validation"))
        self.assertIn("/quantity: '1,5' does not match", wrong.error_message)

    def test_balances_in_another_dialect_are_reconciled(self):
        self.flow_balances.page_size = 2
        self.create_mapping(self.flow_balances, [
            line(1, "art", "item_code"),
            line(2, "ort", "location_code", "value_map", table="mms_place"),
            line(3, "bestand", "qty", "number", decimal_separator=","),
            line(4, "charge", "lot"),
        ])
        self.put(self.gloves, self.pharmacy, 40)
        self.put(self.gloves, self.stock, 100)
        self.put(self.saline, self.icu, 12)
        self.sims.state.planted_balances = [
            {"art": "MMS-G", "ort": "HW", "bestand": "100,0"},
            {"art": "MMS-G", "ort": "APO", "bestand": "36,5"},
            {"art": "MMS-S", "ort": "IC", "bestand": "12"},
        ]
        reconciliation = self.pull(self.flow_balances)
        self.assertEqual(reconciliation.state, "done", reconciliation.error_message)
        self.assertEqual(reconciliation.balance_count, 3)
        found = {(ln.issue, ln.product_id, ln.location_id, ln.legacy_qty, ln.odoo_qty)
                 for ln in reconciliation.line_ids}
        self.assertEqual(found, {("quantity", self.gloves, self.pharmacy, 36.5, 40.0)},
                         "items found through the backend's bindings, quantities with decimal commas")
