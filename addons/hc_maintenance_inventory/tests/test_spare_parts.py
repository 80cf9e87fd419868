from odoo.tests import TransactionCase, tagged

from odoo.addons.hc_maintenance_sync.tests.common import MaintenanceMixin, cmms_sim
from odoo.addons.queue_job.tests.common import trap_jobs


@tagged("post_install", "-at_install")
class TestSpareParts(MaintenanceMixin, TransactionCase):
    """Spare parts the CMMS books on a work order (its material-use transactions, posted to the demo
    flow, quantities negative) become done stock moves of the work order's request; a critical part
    that falls below its threshold is ordered at once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.use_demo_backends()  # the urgent order of a part goes to the supplier gateway (SOAP simulator)
        cls.parts = cls.env.ref("hc_maintenance_inventory.demo_flow_spare_parts")
        cls.store = cls.env.ref("hc_maintenance_inventory.demo_location_engineering")
        cls.filter = cls.env.ref("hc_maintenance_inventory.demo_part_vent_filter")
        cls.vendor = cls.env.ref("hc_maintenance_inventory.demo_vendor_draeger")

    def setUp(self):
        super().setUp()
        self.pull(self.equipment_flow)  # the equipment the work orders name

    def on_hand(self):
        return self.env["stock.quant"]._get_available_quantity(self.filter, self.store, allow_negative=True)

    def use(self, transid, wonum, qty, issuetype="ISSUE", **values):
        usage = {**cmms_sim.material_use_record(transid, wonum, self.filter.default_code, qty,
                                                issuetype=issuetype), **values}
        return self.receive(self.parts, usage, jobs="run", external_id=str(transid))

    def retry(self, message):
        with trap_jobs() as trap:
            message._retry()
            self.run_jobs(trap)

    def rfq_lines(self):
        return self.env["purchase.order.line"].search(
            [("product_id", "=", self.filter.id), ("order_id.partner_id", "=", self.vendor.id)])

    def test_parts_used_on_a_work_order_are_moved_once_and_linked_to_its_request(self):
        message, _jobs = self.post(self.event(wonum="WO-97001"))
        self.attempt(message)
        request = self.request_of("WO-97001")
        self.assertEqual(self.on_hand(), 6)

        used = self.use(70001, "WO-97001", 2)
        self.assertEqual(used.state, "done", used.error_message)
        move = used.record_ref
        self.assertEqual((move._name, move.state, move.product_uom_qty), ("stock.move", "done", 2),
                         "the CMMS's negative issue quantity is a positive usage")
        self.assertEqual(move.location_id, self.store)
        self.assertEqual(move.hc_maintenance_request_id, request)
        self.assertEqual(str(move.date), "2026-12-01 09:40:00", "the CMMS's local time with its offset, in UTC")
        self.assertEqual((request.hc_part_count, request.hc_part_move_ids), (1, move))
        self.assertEqual(self.on_hand(), 4)
        self.assertFalse(self.rfq_lines(), "at its threshold (4), not below it")

        # The CMMS posts the same transaction again: nothing more is moved.
        again = self.use(70001, "WO-97001", 2)
        self.assertEqual((again.state, again.count_unchanged, again.count_created), ("done", 1, 0))
        self.assertEqual(self.on_hand(), 4)
        self.assertEqual(request.hc_part_count, 1)

        # One more filter: below the threshold, the urgent replenishment orders up to the maximum.
        below = self.use(70002, "WO-97001", 1)
        self.assertEqual(below.state, "done", below.error_message)
        self.assertEqual(self.on_hand(), 3)
        self.assertEqual(sum(self.rfq_lines().mapped("product_qty")), 9, "ordered up to the maximum of 12")
        self.assertEqual(request.hc_part_count, 2)
        action = request.action_hc_view_parts()
        self.assertEqual(self.env["stock.move"].search(action["domain"]), request.hc_part_move_ids)

    def test_a_part_returned_unused_goes_back_to_the_storeroom(self):
        message, _jobs = self.post(self.event(wonum="WO-97002"))
        self.attempt(message)
        request = self.request_of("WO-97002")
        used = self.use(70011, "WO-97002", 3)
        self.assertEqual(used.state, "done", used.error_message)
        self.assertEqual(self.on_hand(), 3)
        # The technician brings one filter back: the CMMS's RETURN carries a positive quantity.
        returned = self.use(70012, "WO-97002", 1, issuetype="RETURN")
        self.assertEqual(returned.state, "done", returned.error_message)
        move = returned.record_ref
        self.assertEqual((move.product_uom_qty, move.location_dest_id, move.state), (1, self.store, "done"))
        self.assertEqual(move.location_id, used.record_ref.location_dest_id, "from where the issue took it")
        self.assertEqual(move.hc_maintenance_request_id, request)
        self.assertEqual(self.on_hand(), 4)
        # A quantity whose sign contradicts its type (an issue booked positive) is refused, not guessed.
        wrong = self.use(70013, "WO-97002", 1, quantity=1)
        self.assertEqual(wrong.state, "exception")
        self.assertIn("positive quantity", wrong.error_message)
        self.assertEqual(self.on_hand(), 4)

    def test_a_work_order_odoo_does_not_know_stops_the_usage_naming_it(self):
        stopped = self.use(70003, "WO-97999", 1)
        self.assertEqual((stopped.state, stopped.error_category), ("exception", "mapping"))
        self.assertIn("work order WO-97999 is unknown", stopped.error_message)
        self.assertEqual(self.on_hand(), 6, "nothing moved")
        # The work order arrives; the steward retries the usage: applied once, on its request.
        message, _jobs = self.post(self.event(wonum="WO-97999"))
        self.attempt(message)
        self.retry(stopped)
        self.assertEqual(stopped.state, "done", stopped.error_message)
        self.assertEqual(stopped.record_ref.hc_maintenance_request_id, self.request_of("WO-97999"))
        self.assertEqual(self.on_hand(), 5)

    def test_usage_without_a_work_order_is_plain_consumption(self):
        used = self.use(70004, None, 1)
        self.assertEqual(used.state, "done", used.error_message)
        self.assertFalse(used.record_ref.hc_maintenance_request_id)
        self.assertEqual(self.on_hand(), 5)
