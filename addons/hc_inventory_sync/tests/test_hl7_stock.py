"""The demo MLLP backend's inventory flows: an MFN^M15 inventory master is a reconciliation of the
items it names; a DFT^P03's supply charges are consumption (done moves from the department's store)."""

from odoo.tests import tagged

from odoo.addons.hc_procurement_sync.tests.common import MmisHl7Case

from legacy_sim import hl7_peer  # noqa: I001 - the repository root, put on sys.path by the base's tests


@tagged("post_install", "-at_install")
class TestHl7Stock(MmisHl7Case):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.balances_flow = cls.env.ref("hc_inventory_sync.demo_flow_hl7_balances")
        cls.charges_flow = cls.env.ref("hc_inventory_sync.demo_flow_hl7_charges")
        cls.central = cls.env.ref("hc_inventory_sync.demo_location_central_stores")
        cls.ward3 = cls.env.ref("hc_inventory_sync.demo_location_ward3")
        cls.icu = cls.env.ref("hc_inventory_sync.demo_location_icu")
        cls.consumed = cls.env.ref("hc_inventory_sync.location_patient_consumption")
        Product = cls.env["product.product"]
        cls.gauze, cls.syringe, cls.mask = Product.create([
            {"name": "Gauze swab", "default_code": "GZ-1010", "is_storable": True, "standard_price": 2.0},
            {"name": "Syringe 5 ml", "default_code": "SY-0005", "is_storable": True, "standard_price": 0.5},
            {"name": "Mask", "default_code": "MK-0001", "is_storable": True, "standard_price": 1.0},
        ])
        # An item the MMIS knows (bound by its item master) that the messages below do not name.
        cls.env["hc.binding"].sudo()._bind(cls.backend, cls.mask.product_tmpl_id, "MK-0001")

    def put(self, product, location, qty):
        self.env["stock.quant"]._update_available_quantity(product, location, qty)

    def on_hand(self, product, location):
        return self.env["stock.quant"]._get_available_quantity(product, location, allow_negative=True)

    def reconciliation_of(self, message):
        return self.env["hc.reconciliation"].search([("message_id", "=", message.id)])

    # --- MFN^M15 ------------------------------------------------------------------------------------
    def test_mfn_m15_is_a_reconciliation_of_the_items_it_names(self):
        self.put(self.gauze, self.central, 300)
        self.put(self.syringe, self.ward3, 75)
        self.put(self.mask, self.central, 9)
        text = hl7_peer.mfn_m15("M15-T1", balances=[
            {"code": "GZ-1010", "lot": "", "expiry": "", "location": "CS-MAIN", "on_hand": 340},
            {"code": "SY-0005", "lot": "", "expiry": "", "location": "WARD-3", "on_hand": 75},
            {"code": "ZZ-0404", "lot": "", "expiry": "", "location": "CS-MAIN", "on_hand": 4},
        ])
        result = self.hl7(text)
        self.assertEqual(result["code"], "AA")
        [message] = result["messages"]
        self.assertEqual((message.flow_id, message.state), (self.balances_flow, "done"), message.error_message)
        reconciliation = self.reconciliation_of(message)
        self.assertEqual((reconciliation.state, reconciliation.scope, reconciliation.balance_count),
                         ("done", "listed", 3), reconciliation.error_message)
        self.assertEqual((message.res_model, message.res_id), ("hc.reconciliation", reconciliation.id))
        lines = {(line.issue, line.product_id or line.item_code): line for line in reconciliation.line_ids}
        self.assertEqual(set(lines), {("quantity", self.gauze), ("unknown_item", "ZZ-0404")},
                         "the syringe matches; the mask, which the message does not name, is not compared")
        gauze = lines[("quantity", self.gauze)]
        self.assertEqual((gauze.location_id, gauze.legacy_qty, gauze.odoo_qty, gauze.difference, gauze.value),
                         (self.central, 340.0, 300.0, 40.0, 80.0))
        gauze.action_apply()
        self.assertEqual(self.on_hand(self.gauze, self.central), 340.0)
        # The same message again (a lost ACK): AA, no second reconciliation.
        again = self.hl7(text)
        self.assertEqual((again["code"], again["duplicate"], self.jobs), ("AA", True, []))
        self.assertEqual(self.env["hc.reconciliation"].search_count([("flow_id", "=", self.balances_flow.id)]), 1)

    def test_an_unreadable_quantity_stops_the_m15_before_any_reconciliation(self):
        text = hl7_peer.mfn_m15("M15-T2", balances=[
            {"code": "GZ-1010", "lot": "", "expiry": "", "location": "CS-MAIN", "on_hand": "many"}])
        [message] = self.hl7(text)["messages"]
        self.assertEqual((message.state, message.error_category), ("exception", "mapping"))
        self.assertIn("IIM-12", message.error_message)
        self.assertFalse(self.reconciliation_of(message))

    # --- DFT^P03 ------------------------------------------------------------------------------------
    def test_dft_p03_supply_charges_are_consumed_from_the_department_once(self):
        self.put(self.gauze, self.icu, 10)
        text = hl7_peer.dft_p03("DFT-T1", charges=[
            {"code": "GZ-1010", "qty": 2, "department": "CC-ICU", "location": "ICU^12^A"},
            {"code": "SY-0005", "qty": 3, "department": "CC-ICU", "location": "ICU^12^A"},
        ])
        result = self.hl7(text)
        self.assertEqual(result["code"], "AA")
        [message] = result["messages"]
        self.assertEqual((message.flow_id, message.state), (self.charges_flow, "done"), message.error_message)
        moves = self.env["stock.move"].search([("origin", "in", ("TDFT-T1-1", "TDFT-T1-2"))], order="origin")
        self.assertEqual([(m.product_id, m.product_uom_qty, m.location_id, m.location_dest_id, m.state) for m in moves],
                         [(self.gauze, 2.0, self.icu, self.consumed, "done"),
                          (self.syringe, 3.0, self.icu, self.consumed, "done")])
        self.assertEqual(self.on_hand(self.gauze, self.icu), 8.0)
        self.assertEqual(self.on_hand(self.syringe, self.icu), -3.0, "the flow allows negative stock")
        self.assertNotIn("Doe", message.payload + (message.sudo().payload_raw or ""), "patient data masked")
        again = self.hl7(text)
        self.assertEqual((again["code"], again["duplicate"], self.jobs), ("AA", True, []))
        self.assertEqual(self.on_hand(self.gauze, self.icu), 8.0)

    def test_a_credited_charge_returns_the_supply_and_a_payment_moves_nothing(self):
        self.put(self.gauze, self.icu, 10)
        charged = self.hl7(hl7_peer.dft_p03("DFT-T3", charges=[
            {"code": "GZ-1010", "qty": 3, "department": "CC-ICU", "location": "ICU^12^A"}]))
        self.assertEqual(charged["messages"].state, "done", charged["messages"].error_message)
        self.assertEqual(self.on_hand(self.gauze, self.icu), 7.0)
        # The ward credits two of the three swabs (FT1-6 CD, a positive quantity as HL7 sends it).
        credited = self.hl7(hl7_peer.dft_p03("DFT-T4", charges=[
            {"code": "GZ-1010", "qty": 2, "department": "CC-ICU", "location": "ICU^12^A", "type": "CD"}]))
        [message] = credited["messages"]
        self.assertEqual(message.state, "done", message.error_message)
        move = self.env["stock.move"].search([("origin", "=", "TDFT-T4-1")])
        self.assertEqual((move.product_uom_qty, move.location_id, move.location_dest_id, move.state),
                         (2.0, self.consumed, self.icu, "done"), "a credit is the supply taken back, not used again")
        self.assertEqual(self.on_hand(self.gauze, self.icu), 9.0)
        # A payment (PY) is no supply movement: the charge stops naming the code, nothing moves.
        paid = self.hl7(hl7_peer.dft_p03("DFT-T5", charges=[
            {"code": "GZ-1010", "qty": 1, "department": "CC-ICU", "location": "ICU^12^A", "type": "PY"}]))
        [message] = paid["messages"]
        self.assertEqual((message.state, message.error_category), ("exception", "mapping"))
        self.assertIn("'PY' not found in value map 'hl7_charge_type'", message.error_message)
        self.assertFalse(self.env["stock.move"].search([("origin", "=", "TDFT-T5-1")]))
        self.assertEqual(self.on_hand(self.gauze, self.icu), 9.0)

    def test_a_charge_of_an_unknown_department_waits_in_the_exception_queue(self):
        self.put(self.gauze, self.icu, 10)
        text = hl7_peer.dft_p03("DFT-T2", charges=[
            {"code": "GZ-1010", "qty": 1, "department": "CC-MORGUE", "location": "ICU^12^A"}])
        [message] = self.hl7(text)["messages"]
        self.assertEqual((message.state, message.error_category), ("exception", "mapping"))
        self.assertIn("CC-MORGUE is not in the code table legacy_location", message.error_message)
        self.assertFalse(self.env["stock.move"].search([("origin", "=", "TDFT-T2-1")]))
        self.assertEqual(self.on_hand(self.gauze, self.icu), 10.0)
