"""The demo MLLP backend's OMS^O05 flow: a stock requisition of the materials-management system
becomes the demand document, then one draft RFQ per vendor booked on the department's cost centre."""

from odoo.tests import tagged

from odoo.addons.hc_integration_base.payload import hl7v2
from odoo.addons.hc_integration_base.transports.mllp import MllpListener
from odoo.addons.hc_procurement_sync.tests.common import MmisHl7Case
from odoo.addons.queue_job.tests.common import trap_jobs

from legacy_sim import hl7_peer  # noqa: I001 - the repository root, put on sys.path by the base's tests


@tagged("post_install", "-at_install")
class TestHl7Requisition(MmisHl7Case):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.flow = cls.env.ref("hc_procurement_sync.demo_flow_hl7_requisitions")
        cls.cost_centre = cls.env.ref("hc_procurement_sync.demo_analytic_icu")
        cls.icu_receipts = cls.env.ref("hc_procurement_sync.demo_picking_type_icu_receipts")
        cls.medline, cls.bd = cls.env["res.partner"].create([
            {"name": "Medline", "ref": "V-MEDLINE", "is_company": True},
            {"name": "Becton Dickinson", "ref": "V-BD", "is_company": True},
        ])
        cls.gauze, cls.syringe = cls.env["product.product"].create([
            {"name": "Gauze swab", "default_code": "GZ-1010", "is_storable": True, "purchase_ok": True,
             "seller_ids": [(0, 0, {"partner_id": cls.medline.id, "price": 12.5})]},
            {"name": "Syringe 5 ml", "default_code": "SY-0005", "is_storable": True, "purchase_ok": True,
             "seller_ids": [(0, 0, {"partner_id": cls.bd.id, "price": 96.0})]},
        ])

    def rfqs(self, reference):
        return self.env["purchase.order"].search([("origin", "=", reference)])

    def test_oms_o05_makes_one_rfq_per_vendor_booked_on_the_cost_centre(self):
        text = hl7_peer.oms_o05("OMS-T1", needed="20261215")
        result = self.hl7(text)
        self.assertEqual(result["code"], "AA")
        [message] = result["messages"]
        self.assertEqual((message.flow_id, message.state), (self.flow, "done"), message.error_message)
        self.assertEqual(self.jobs[0].channel, "root.hc.mmis_hl7", "a routine requisition: the normal channel")
        orders = self.rfqs("REQ-OMS-T1")  # ORC-4, the placer group number
        self.assertEqual(set(orders.mapped("partner_id")), {self.medline, self.bd})
        self.assertEqual(set(orders.mapped("state")), {"draft"})
        quantities = {line.product_id: line.product_qty for line in orders.order_line}
        self.assertEqual(quantities, {self.gauze: 20.0, self.syringe: 2.0})  # RQD-5
        for line in orders.order_line:
            self.assertEqual(line.analytic_distribution, {str(self.cost_centre.id): 100}, "RQD-7 CC-ICU")
            self.assertEqual(str(line.date_planned.date()), "2026-12-15", "RQD-10")
        self.assertEqual(set(orders.mapped("priority")), {"0"})
        self.assertEqual(orders.picking_type_id, self.icu_receipts, "RQD-9 ICU-STORE: the RFQs' Deliver To")
        # The sender lost the ACK and sends the same message again: AA, nothing new.
        again = self.hl7(text)
        self.assertEqual((again["code"], again["duplicate"], self.jobs), ("AA", True, []))
        self.assertEqual(self.rfqs("REQ-OMS-T1"), orders)
        self.assertEqual(len(orders.order_line), 2)

    def test_a_stat_requisition_runs_on_the_urgent_channel(self):
        self.hl7(hl7_peer.oms_o05("OMS-T2", priority="S", lines=[{"code": "GZ-1010", "qty": 5, "unit": "BX"}]))
        self.assertEqual((self.jobs[0].channel, self.jobs[0].priority), ("root.hc.mmis_hl7.urgent", 0))
        self.assertEqual(self.rfqs("REQ-OMS-T2").priority, "1")

    def test_a_line_without_quantity_stops_the_requisition_in_the_exception_queue(self):
        text = hl7_peer.oms_o05("OMS-T3", lines=[{"code": "GZ-1010", "qty": 5, "unit": "BX"},
                                                 {"code": "SY-0005", "qty": "", "unit": "CS"}])
        [message] = self.hl7(text)["messages"]
        self.assertEqual((message.state, message.error_category), ("exception", "mapping"))
        self.assertIn("RQD-5", message.error_message)
        self.assertFalse(self.rfqs("REQ-OMS-T3"), "nothing of it is applied")

    def test_lines_for_two_places_make_one_rfq_per_vendor_and_place_received_there(self):
        dock = self.env.ref("stock.warehouse0").in_type_id
        self.env.ref("hc_procurement_sync.map_deliver_to").entry_ids = [(0, 0, {"legacy_code": "DOCK",
                                                                                  "res_id": dock.id})]
        text = hl7_peer.oms_o05("OMS-T5", lines=[
            {"code": "GZ-1010", "qty": 5, "unit": "BX"},
            {"code": "GZ-1010", "qty": 7, "unit": "BX", "deliver_to": "DOCK^Receiving dock"},
            {"code": "GZ-1010", "qty": 1, "unit": "BX"}])
        [message] = self.hl7(text)["messages"]
        self.assertEqual(message.state, "done", message.error_message)
        orders = self.rfqs("REQ-OMS-T5")
        self.assertEqual({(o.partner_id, o.picking_type_id): o.order_line.product_qty for o in orders},
                         {(self.medline, self.icu_receipts): 6.0, (self.medline, dock): 7.0})
        icu_order = orders.filtered(lambda o: o.picking_type_id == self.icu_receipts)
        icu_order.button_confirm()
        store_room = self.env.ref("hc_procurement_sync.demo_location_icu_store")
        self.assertEqual(icu_order.picking_ids.location_dest_id, store_room, "the goods go to the ICU store room")

    def test_an_unmapped_deliver_to_stops_the_requisition_until_it_is_mapped(self):
        text = hl7_peer.oms_o05("OMS-T6", deliver_to="OR-STORE^Theatre store")
        [message] = self.hl7(text)["messages"]
        self.assertEqual((message.state, message.error_category), ("exception", "mapping"))
        self.assertIn("deliver-to OR-STORE", message.error_message)
        self.assertIn("deliver_to", message.error_message, "the message names the code table to fix")
        self.assertFalse(self.rfqs("REQ-OMS-T6"), "no RFQ received in the wrong place")
        # A code mapped to something other than a receipt type is no better.
        table = self.env.ref("hc_procurement_sync.map_deliver_to")
        entry = self.env["hc.value.map.entry"].create({
            "map_id": table.id, "legacy_code": "OR-STORE", "res_id": self.env.ref("stock.warehouse0").out_type_id.id})
        self.retry(message)
        self.assertEqual(message.state, "exception")
        self.assertFalse(self.rfqs("REQ-OMS-T6"))
        entry.res_id = self.icu_receipts
        self.retry(message)
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(self.rfqs("REQ-OMS-T6").picking_type_id, self.icu_receipts)

    def retry(self, message):
        """The operator's Retry, its job run."""
        with trap_jobs() as trap:
            message.action_retry()
            self.run_jobs(trap)

    def test_a_message_without_version_is_refused_and_kept(self):
        listener = MllpListener(
            lambda message: (lambda r: (r["code"] == "AA", r["reason"], r["code"], r["error_code"]))(
                self.backend._hl7_receive(message)),
            port=0, on_refused=lambda data, error: self.backend._hl7_record_refusal(data, error))
        self.addCleanup(listener._server.server_close)
        text = hl7_peer.oms_o05("OMS-T4").replace("|P|2.6|", "|P||", 1)  # no MSH-12
        with trap_jobs() as trap:
            ack = hl7v2.parse_ack(listener.handle_frame(text.encode()).to_er7())
            trap.assert_jobs_count(0)
        self.assertEqual((ack.code, ack.control_id, ack.error_code), ("AR", "OMS-T4", "101"))
        message = self.env["hc.message"].search([("backend_id", "=", self.backend.id), ("external_id", "=", "OMS-T4")])
        self.assertEqual(message.state, "exception")
        self.assertIn("MSH-12", message.error_message)
        self.assertFalse(self.rfqs("REQ-OMS-T4"))


@tagged("post_install", "-at_install")
class TestHl7RequisitionStatus(MmisHl7Case):
    """Confirming or cancelling an RFQ made from an OMS^O05 tells the MMIS with one ORS^O06 per order and
    status, built by the demo flow's outbound HL7 v2 mapping and sent to the HL7 peer simulator."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.peer = hl7_peer.Hl7Peer()
        cls.addClassCleanup(cls.peer.stop)
        cls.backend.mllp_port = cls.peer.port
        cls.flow = cls.env.ref("hc_procurement_sync.demo_flow_hl7_requisition_status")
        cls.flow.max_attempts = 1
        # Confirmed orders also go to the SOAP gateway (po_push); this class is about the MMIS's news.
        cls.env.ref("hc_procurement_sync.demo_flow_po_push").active = False
        cls.medline, cls.bd = cls.env["res.partner"].create([
            {"name": "Medline", "ref": "V-MEDLINE", "is_company": True},
            {"name": "Becton Dickinson", "ref": "V-BD", "is_company": True},
        ])
        cls.env["product.product"].create([
            {"name": "Gauze swab", "default_code": "GZ-1010", "is_storable": True, "purchase_ok": True,
             "seller_ids": [(0, 0, {"partner_id": cls.medline.id, "price": 12.5})]},
            {"name": "Syringe 5 ml", "default_code": "SY-0005", "is_storable": True, "purchase_ok": True,
             "seller_ids": [(0, 0, {"partner_id": cls.bd.id, "price": 96.0})]},
        ])

    def setUp(self):
        super().setUp()
        self.peer.reset()

    def requisition(self, control_id):
        with trap_jobs() as trap:
            self.backend._hl7_receive(hl7v2.parse(hl7_peer.oms_o05(control_id)))
            self.run_jobs(trap)
        return self.env["purchase.order"].search([("origin", "=", f"REQ-{control_id}")])

    def act(self, action):
        """``action()`` (a buyer's click), then the status messages it queued, run as the job runner runs them."""
        with trap_jobs() as trap:
            action()
            self.env.flush_all()  # recomputed fields (the receipt status) run their rules, as at the commit
            self.run_jobs(trap)
        return self.env["hc.message"].search([("flow_id", "=", self.flow.id)], order="id")

    def test_confirming_an_rfq_sends_one_order_response_and_cancelling_another(self):
        orders = self.requisition("OMS-S1")
        medline = orders.filtered(lambda o: o.partner_id == self.medline)
        messages = self.act(medline.button_confirm)
        self.assertEqual(len(messages), 1, "one message for one order and status")
        self.assertEqual(messages.state, "done", messages.error_message)
        [text] = self.peer.received
        sent = hl7v2.parse(text)
        self.assertEqual((sent.message_type, sent.msh.value(9, component=3), sent.version),
                         ("ORS^O06", "ORS_O06", "2.5"))
        self.assertEqual((sent.get("MSA-1"), sent.get("MSA-2")), ("AA", "OMS-S1"), "answers the requisition's MSH-10")
        self.assertEqual([sent.get(p) for p in ("ORC-1", "ORC-3", "ORC-4", "ORC-5")],
                         ["OK", medline.name, "REQ-OMS-S1", "IP"])
        self.assertEqual((sent.get("RQD-2.1"), float(sent.get("RQD-5"))), ("GZ-1010", 20.0))
        self.assertEqual(len(sent.segments_named("ORC")), len(medline.order_line))
        # Queued again (a resync, a second rule), the same order and status sends nothing more.
        again = self.act(lambda: self.flow._push_records(medline)) - messages
        self.assertEqual(len(again), 1)
        self.assertNotEqual(again.state, "done", "a duplicate of the key, not sent")
        self.assertEqual(len(self.peer.received), 1)
        # The other order's cancellation is its own message.
        other = orders - medline
        messages = self.act(other.button_cancel)
        self.assertEqual(len(self.peer.received), 2, "the confirmation once, the cancellation once")
        self.assertEqual(messages[-1].state, "done", messages[-1].error_message)
        cancelled = hl7v2.parse(self.peer.received[-1])
        self.assertEqual([cancelled.get(p) for p in ("MSA-2", "ORC-1", "ORC-4", "ORC-5", "RQD-2.1")],
                         ["OMS-S1", "OC", "REQ-OMS-S1", "CA", "SY-0005"])
        self.assertNotEqual(cancelled.control_id, sent.control_id)

    def test_receiving_every_line_tells_the_mmis_the_order_is_complete(self):
        orders = self.requisition("OMS-S3")
        medline = orders.filtered(lambda o: o.partner_id == self.medline)
        self.act(medline.button_confirm)
        self.assertEqual(len(self.peer.received), 1)
        picking = medline.picking_ids
        # Part of the goods: still in process, nothing new to tell.
        picking.move_ids.quantity = 5
        picking.move_ids.picked = True
        self.act(lambda: picking.with_context(cancel_backorder=False)._action_done())
        self.assertEqual(medline.receipt_status, "partial")
        self.assertEqual(len(self.peer.received), 1, "a partial receipt changes no status")
        # The rest arrives on the backorder: every line received.
        backorder = medline.picking_ids - picking
        backorder.move_ids.picked = True
        messages = self.act(backorder._action_done)
        self.assertEqual(medline.receipt_status, "full")
        self.assertEqual(len(self.peer.received), 2)
        self.assertEqual(messages[-1].state, "done", messages[-1].error_message)
        completed = hl7v2.parse(self.peer.received[-1])
        self.assertEqual([completed.get(p) for p in ("MSA-2", "ORC-1", "ORC-3", "ORC-4", "ORC-5")],
                         ["OMS-S3", "SC", medline.name, "REQ-OMS-S3", "CM"])

    def test_a_refusal_of_the_mmis_lands_in_the_exception_queue_with_its_err_text(self):
        orders = self.requisition("OMS-S2")
        self.peer.set_faults(ack="AE", ack_text="requisition REQ-OMS-S2 is closed")
        [message] = self.act(orders[:1].button_confirm)
        self.assertEqual((message.state, message.error_category), ("exception", "remote"))
        self.assertIn("requisition REQ-OMS-S2 is closed", message.error_message)
        self.assertEqual(len(self.peer.received), 1)

    def test_an_order_made_from_no_requisition_sends_nothing(self):
        order = self.env["purchase.order"].create({
            "partner_id": self.medline.id, "order_line": [(0, 0, {
                "product_id": self.env["product.product"].search([("default_code", "=", "GZ-1010")]).id,
                "product_qty": 1})]})
        self.assertFalse(self.act(order.button_confirm))
        self.assertFalse(self.peer.received)
