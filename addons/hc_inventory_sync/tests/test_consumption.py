from odoo.tests import tagged

from odoo.addons.hc_integration_base.tests.common import postponed
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import InventoryCase


@tagged("post_install", "-at_install")
class TestConsumption(InventoryCase):
    """Departmental usage becomes done stock moves, exactly once."""

    def event(self, reference, product, qty, place="PHARM", **extra):
        return {"reference": reference, "item_code": product.default_code, "quantity": qty, "location_code": place,
                "consumed_at": "2026-11-20T08:30:00Z", **extra}

    def test_event_becomes_a_done_move_once(self):
        self.put(self.gloves, self.pharmacy, 50)
        message = self.apply(self.flow_events, self.event("CONS-1", self.gloves, 12))
        self.assertEqual(message.state, "done", message.error_message)
        move = message.record_ref
        self.assertEqual((move._name, move.state, move.product_uom_qty), ("stock.move", "done", 12))
        self.assertEqual((move.location_id, move.location_dest_id), (self.pharmacy, self.consumed))
        self.assertEqual(str(move.date), "2026-11-20 08:30:00")
        self.assertEqual(self.on_hand(self.gloves, self.pharmacy), 38)
        # The departmental system sends the same event again (e.g. after its own timeout).
        again = self.apply(self.flow_events, self.event("CONS-1", self.gloves, 12))
        self.assertEqual((again.state, again.count_unchanged, again.count_created), ("done", 1, 0))
        self.assertEqual(self.on_hand(self.gloves, self.pharmacy), 38)
        self.assertEqual(self.env["stock.move"].search_count([("origin", "=", "CONS-1")]), 1)

    def test_lot_is_carried_and_sublocations_are_used(self):
        shelf = self.env["stock.location"].create({"name": "Shelf 1", "location_id": self.pharmacy.id})
        self.put(self.reagent, shelf, 5, lot=self.lot_a)
        message = self.apply(self.flow_events, self.event("CONS-2", self.reagent, 3, lot="LOT-A"))
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(message.record_ref.move_line_ids.lot_id, self.lot_a)
        self.assertEqual(message.record_ref.move_line_ids.location_id, shelf)
        self.assertEqual(self.on_hand(self.reagent, shelf, self.lot_a), 2)
        missing_lot = self.apply(self.flow_events, self.event("CONS-3", self.reagent, 1))
        self.assertEqual((missing_lot.state, missing_lot.error_category), ("exception", "mapping"))
        self.assertIn("names no lot", missing_lot.error_message)

    def test_a_return_moves_back_once_and_brings_back_only_known_lots(self):
        self.put(self.reagent, self.pharmacy, 5, lot=self.lot_a)
        self.flow_events.hc_shortage_policy = "allow"  # would create an unknown lot for a use
        used = self.apply(self.flow_events, self.event("CONS-20", self.reagent, 3, lot="LOT-A"))
        self.assertEqual(used.state, "done", used.error_message)
        # The credit names the transaction it takes back: it is a move of its own, not "already applied".
        credit = self.apply(self.flow_events, self.event("CONS-20", self.reagent, 2, lot="LOT-A", kind="return"))
        self.assertEqual(credit.state, "done", credit.error_message)
        back = credit.record_ref
        self.assertNotEqual(back, used.record_ref)
        self.assertEqual((back.location_id, back.location_dest_id, back.move_line_ids.lot_id, back.state),
                         (self.consumed, self.pharmacy, self.lot_a, "done"))
        self.assertEqual(back.company_id, self.pharmacy.company_id)
        self.assertEqual(self.on_hand(self.reagent, self.pharmacy, self.lot_a), 4)
        again = self.apply(self.flow_events, self.event("CONS-20", self.reagent, 2, lot="LOT-A", kind="return"))
        self.assertEqual((again.state, again.count_unchanged), ("done", 1), "the same credit again moves nothing")
        self.assertEqual(self.on_hand(self.reagent, self.pharmacy, self.lot_a), 4)
        # A lot Odoo never had cannot come back, whatever the shortage policy.
        unknown = self.apply(self.flow_events, self.event("CONS-21", self.reagent, 1, lot="LOT-ZZ", kind="return"))
        self.assertEqual((unknown.state, unknown.error_category), ("exception", "conflict"))
        self.assertIn("lot LOT-ZZ", unknown.error_message)
        self.assertFalse(self.env["stock.lot"].search([("name", "=", "LOT-ZZ")]))
        # A kind the document does not know is refused before anything moves.
        odd = self.apply(self.flow_events, self.event("CONS-22", self.reagent, 1, lot="LOT-A", kind="payment"))
        self.assertEqual(odd.state, "exception")
        self.assertIn("payment", odd.error_message)
        self.assertEqual(self.on_hand(self.reagent, self.pharmacy, self.lot_a), 4)

    def test_shortage_follows_the_flow_policy(self):
        self.put(self.gloves, self.icu, 4)
        self.flow_events.hc_shortage_policy = "exception"
        stopped = self.apply(self.flow_events, self.event("CONS-4", self.gloves, 10, place="ICU"))
        self.assertEqual((stopped.state, stopped.error_category), ("exception", "conflict"))
        self.assertIn("only 4.0 available", stopped.error_message)
        self.assertEqual(self.on_hand(self.gloves, self.icu), 4, "nothing moved")
        self.assertFalse(self.env["stock.move"].search([("origin", "=", "CONS-4")]))
        # The steward allows negative stock; the same event is retried and applied once.
        self.flow_events.hc_shortage_policy = "allow"
        with trap_jobs() as trap:
            stopped._retry()
            self.run_jobs(trap)
        self.assertEqual(stopped.state, "done", stopped.error_message)
        self.assertEqual(self.on_hand(self.gloves, self.icu), -6)

    def test_unknown_item_or_location_goes_to_the_exception_queue(self):
        unknown_item = self.apply(self.flow_events, {"reference": "CONS-5", "item_code": "ITM-NOPE",
                                                       "quantity": 1, "location_code": "PHARM"})
        self.assertEqual((unknown_item.state, unknown_item.error_category), ("exception", "mapping"))
        self.assertIn("unknown item ITM-NOPE", unknown_item.error_message)
        unknown_place = self.apply(self.flow_events, self.event("CONS-6", self.gloves, 1, place="MORGUE"))
        self.assertEqual(unknown_place.state, "exception")
        self.assertIn("MORGUE is not in the code table legacy_location", unknown_place.error_message)
        bad_qty = self.apply(self.flow_events, self.event("CONS-7", self.gloves, "-3"))
        self.assertEqual(bad_qty.state, "exception")
        self.assertIn("positive quantity", bad_qty.error_message)

    def test_pulled_consumption_applies_each_event_once(self):
        self.put(self.gloves, self.stock, 100)
        self.sims.state.planted_consumptions.extend(
            [self.event(f"CONS-P{i}", self.gloves, 5, place="WH-MAIN") for i in range(3)])
        for _attempt in range(2):  # the nightly pull lists the same events twice
            run = self.pull(self.flow_pull)
        self.assertEqual((run.count_created, run.count_unchanged), (0, 3))
        self.assertEqual(self.on_hand(self.gloves, self.stock), 85)

    def test_unknown_item_waits_for_an_item_message_still_queued(self):
        # The catalog message bringing the item is queued, on another backend than the event's.
        item_flow = self.env.ref("hc_procurement_sync.demo_flow_item_catalog").copy({
            "backend_id": self.env.ref("hc_integration_base.demo_backend_soap").id, "code": "other_catalog"})
        bringing = self.receive(item_flow, {"code": "ITM-SOON"})
        event = {"reference": "CONS-8", "item_code": "ITM-SOON", "quantity": 1, "location_code": "PHARM"}
        message = self.receive(self.flow_events, event, jobs=None, external_id="CONS-8")
        message.write({"state": "queued"})
        caught = postponed(self, message._job_process)
        self.assertTrue(caught.ignore_retry)
        self.assertIn("unknown item ITM-SOON", str(caught))
        self.assertEqual(message.state, "queued")
        self.assertIn("unknown item ITM-SOON", message.wait_reason)
        # An item message received after the event does not hold it: only earlier ones do.
        bringing.write({"state": "exception"})  # that message failed
        self.receive(item_flow, {"code": "ITM-OTHER"})
        message._job_process()
        self.assertEqual((message.state, message.error_category), ("exception", "mapping"))
        self.assertIn("unknown item ITM-SOON", message.error_message)
        # An event naming no item fails at once.
        no_code = self.apply(self.flow_events, {"reference": "CONS-9", "quantity": 1, "location_code": "PHARM"})
        self.assertEqual(no_code.state, "exception")
        self.assertIn("names no item code", no_code.error_message)
