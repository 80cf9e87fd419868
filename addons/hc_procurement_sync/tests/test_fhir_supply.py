"""A FHIR R4 server's SupplyRequests pulled as demand, configured only with records: the search
paged through the Bundle's next links, the requisition number and the item read from coded
lists by their system, an incremental pull with _lastUpdated=gt…, the patient reference kept out
of the stored payload."""

from datetime import UTC, timedelta

from odoo.tests import tagged

from odoo.addons.hc_integration_base.tests.common import HcIntegrationCase, trap_jobs
from odoo.addons.hc_integration_base.tests.common import mapping_line as line

from legacy_sim.fhir import FHIR_TOKEN, ITEM_SYSTEM, REQUISITION_SYSTEM, start_fhir_server


@tagged("post_install", "-at_install")
class TestFhirSupplyRequests(HcIntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fhir = start_fhir_server(supply_requests=10, items=3, max_count=4)
        cls.addClassCleanup(cls.fhir.stop)
        cls.vendor = cls.env["res.partner"].create({"name": "FHIR vendor"})
        cls.env["product.product"].create([
            {"name": f"Item {n}", "default_code": f"ITM-{n:06d}",
             "seller_ids": [(0, 0, {"partner_id": cls.vendor.id, "price": 2.0})]} for n in (1, 2, 3)])
        backend = cls.create_backend(name="Ward FHIR server", code="ward_fhir", base_url=cls.fhir.url,
                                     health_path="/metadata", auth_type="bearer", bearer_token=FHIR_TOKEN,
                                     read_timeout=10)
        cls.create_code_table("ward_fhir_priority", {"routine": "normal", "asap": "urgent", "stat": "urgent"},
                              name="Ward FHIR priority")
        cls.flow = cls.create_flow(
            "fhir_supply_requests", backend, model="purchase.order", name="Supply requests", object_type="demand",
            direction="pull", mode="batch", remote_resource="/SupplyRequest", external_id_path="id",
            paging_style="link", page_size=4, paging_size_param="_count", paging_records_path="entry[*].resource",
            paging_next_path="link[?relation=next].url", paging_total_path="total",
            changed_since_param="_lastUpdated", changed_since_template="gt{since}",
            sensitive_paths="reasonReference[*].reference")
        cls.create_mapping(cls.flow, [
            line(1, f"identifier[?system={REQUISITION_SYSTEM}].value", "reference"),
            line(2, "deliverTo.reference", "department_code", "expression", expression="value.split('/')[-1]"),
            line(3, "priority", "urgency", "value_map", table="ward_fhir_priority"),
            line(4, "occurrenceDateTime", "needed_by", "date", format="%Y-%m-%dT%H:%M:%SZ"),
            line(5, "status", "approved", "expression", expression="value == 'active'"),
            line(6, "$", "lines", "one2many", lines=[
                {"source": f"itemCodeableConcept.coding[?system={ITEM_SYSTEM}].code", "target": "item_code"},
                {"source": "quantity.value", "target": "quantity"},
            ]),
        ])

    def setUp(self):
        super().setUp()
        self.fhir.reset()

    def test_three_bundle_pages_become_rfqs_then_only_changes_are_asked(self):
        run = self.pull(self.flow)
        self.assertEqual((run.state, run.count_created, run.count_failed), ("done", 10, 0), run.error_message)
        self.assertEqual(len(run.page_message_ids), 3, "4 + 4 + 2 resources: the server caps _count at 4")
        orders = self.env["purchase.order"].search([("origin", "=like", "FR-%")])
        self.assertEqual(sorted(orders.mapped("origin")), [f"FR-{n:05d}" for n in range(1, 11)])
        urgent = orders.filtered(lambda o: o.origin == "FR-00004")  # sr-4 is stat
        self.assertEqual((urgent.priority, urgent.order_line.product_id.default_code), ("1", "ITM-000001"))
        self.assertEqual(orders.filtered(lambda o: o.origin == "FR-00001").priority, "0")
        stored = " ".join(run.page_message_ids.mapped("payload"))
        self.assertNotIn("Patient/pt-", stored, "the patient reference is masked in the stored pages")
        self.assertIn("SupplyRequest", stored)

        watermark = self.flow.changed_since_watermark
        self.assertTrue(watermark, "a completed pull keeps when it started")
        # Changed on the ward a minute after that pull started.
        self.fhir.state.touch("SupplyRequest", "sr-2", at=watermark.replace(tzinfo=UTC) + timedelta(minutes=1))
        again = self.pull(self.flow)
        self.assertEqual((again.state, len(again.page_message_ids)), ("done", 1))
        self.assertEqual(again.count_unchanged, 1, "a requisition already ordered is not ordered twice")
        self.assertEqual(len(self.env["purchase.order"].search([("origin", "=like", "FR-%")])), 10)


@tagged("post_install", "-at_install")
class TestFhirDemoFlows(HcIntegrationCase):
    """The demo's FHIR flows (hc_integration_base.demo_backend_fhir): supply requests pulled as RFQs,
    their status sent back as a JSON Patch (PATCH, nothing else of the resource lost) with If-Match
    naming the version the RFQ's binding holds, the new ETag kept for the next update, a stale version
    refused (412) into the exception queue; deliveries against the requests validating the receipts of
    their confirmed orders."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fhir = start_fhir_server(supply_requests=6, supply_deliveries=3, items=3, max_count=4)
        cls.addClassCleanup(cls.fhir.stop)
        cls.backend = cls.env.ref("hc_integration_base.demo_backend_fhir")
        cls.backend.write({"base_url": cls.fhir.url})
        cls.vendor = cls.env["res.partner"].create({"name": "FHIR demo vendor"})
        cls.env["product.product"].create([
            {"name": f"Ward item {n}", "default_code": f"ITM-{n:06d}", "is_storable": True,
             "seller_ids": [(0, 0, {"partner_id": cls.vendor.id, "price": 3.0})]} for n in (1, 2, 3)])
        cls.requests_flow = cls.env.ref("hc_procurement_sync.demo_flow_fhir_supply_requests")
        cls.status_flow = cls.env.ref("hc_procurement_sync.demo_flow_fhir_supply_request_status")
        cls.deliveries_flow = cls.env.ref("hc_procurement_sync.demo_flow_fhir_supply_deliveries")
        # Confirmed orders would also go to the demo's SOAP gateway: not this test's business.
        cls.env.ref("hc_procurement_sync.demo_flow_po_push").active = False

    def setUp(self):
        super().setUp()
        self.fhir.reset()

    def order(self, requisition):
        return self.env["purchase.order"].search([("origin", "=", requisition)])

    def status_messages(self, order):
        return self.env["hc.message"].search([("flow_id", "=", self.status_flow.id), ("res_id", "=", order.id)],
                                             order="id")

    def act(self, order, action):
        """Confirm or cancel ``order`` as a buyer does: the flow's sending rule queues its status, the
        jobs run; the messages of this change are returned."""
        before = self.status_messages(order)
        with trap_jobs() as trap:
            getattr(order, action)()
            self.run_jobs(trap)
        return self.status_messages(order) - before

    def remote_version(self, order):
        return self.env["hc.binding"]._remote_of(self.backend, order).external_version

    def test_status_patch_with_if_match_then_the_new_etag_then_a_conflict(self):
        run = self.pull(self.requests_flow)
        self.assertEqual((run.state, run.count_created), ("done", 6), run.error_message)
        first, second = self.order("FR-00001"), self.order("FR-00002")
        binding = self.env["hc.binding"]._remote_of(self.backend, first)
        self.assertEqual((binding.external_id, binding.external_version), ("sr-1", "1"))

        before = self.fhir.state.resource("SupplyRequest", "sr-1")
        [message] = self.act(first, "button_confirm")
        self.assertEqual(message.state, "done", message.error_message)
        # A JSON Patch of the status alone: everything else the ward wrote is still on the server.
        self.assertEqual(self.fhir.state.patches,
                         [("SupplyRequest", "sr-1", [{"op": "replace", "path": "/status", "value": "active"}])])
        after = self.fhir.state.resource("SupplyRequest", "sr-1")
        self.assertEqual(after["status"], "active", "ordered: FHIR has no such status, the request stays active")
        for kept in ("deliverTo", "requester", "reasonReference", "identifier", "itemCodeableConcept", "quantity",
                     "priority", "occurrenceDateTime"):
            self.assertEqual(after[kept], before[kept], f"{kept} is kept by the status update")
        [update] = self.fhir.state.updates
        self.assertEqual((update["id"], update["status"]), ("sr-1", "active"))
        self.assertIn("reasonReference", message.response, "the answer is the whole resource")
        self.assertNotIn("Patient/pt-", message.response, "its patient reference masked")
        self.assertEqual(self.fhir.state.resource("SupplyRequest", "sr-1")["meta"]["versionId"], "2")
        self.assertEqual(self.remote_version(first), "2", "the answer's ETag is the next update's version")
        with trap_jobs() as trap:
            again = self.status_flow._push_from_rule(first)
            self.run_jobs(trap)
        self.assertFalse(again, "one status is sent once: the rule queues nothing more for it")
        self.assertEqual(len(self.fhir.state.updates), 1)

        # Cancelled: sent with If-Match: W/"2" (the stored ETag); W/"1" would be refused.
        [cancel] = self.act(first, "button_cancel")
        self.assertEqual(cancel.state, "done", cancel.error_message)
        self.assertEqual([u["status"] for u in self.fhir.state.updates], ["active", "cancelled"])
        self.assertEqual(self.remote_version(first), "3")

        # The ward changed sr-2 after the pull: the update names a stale version and is refused.
        self.fhir.state.touch("SupplyRequest", "sr-2")
        [conflict] = self.act(second, "button_confirm")
        self.assertEqual(conflict.state, "exception")
        self.assertIn("Version conflict (HTTP 412", conflict.error_message)
        self.assertIn('If-Match: W/"1"', conflict.error_message)
        self.assertIn("is not the current one (2)", conflict.error_message, "the server's own words")
        self.assertEqual(len(self.fhir.state.updates), 2, "nothing changed on the server")
        self.assertEqual(self.remote_version(second), "1")

        # The next pull brings version 2; the operator's retry then goes through.
        self.requests_flow.changed_since_watermark = False
        self.pull(self.requests_flow)
        self.assertEqual(self.remote_version(second), "2")
        with trap_jobs() as trap:
            conflict.action_retry()
            self.run_jobs(trap)
        self.assertEqual(conflict.state, "done", conflict.error_message)
        self.assertEqual(self.fhir.state.updates[-1]["id"], "sr-2")

    def test_orders_from_no_requisition_of_the_server_send_nothing(self):
        order = self.env["purchase.order"].create({"partner_id": self.vendor.id, "origin": "FR-00001", "order_line": [
            (0, 0, {"product_id": self.env["product.product"].search([("default_code", "=", "ITM-000001")]).id,
                    "product_qty": 1})]})
        self.assertFalse(self.act(order, "button_confirm"), "no binding at the FHIR server: nothing to report")
        self.assertFalse(self.fhir.state.updates)

    def test_deliveries_validate_the_receipts_of_their_orders_once(self):
        self.pull(self.requests_flow)
        orders = self.order("FR-00001") | self.order("FR-00002") | self.order("FR-00003")
        for order in orders:
            self.act(order, "button_confirm")
        run = self.pull(self.deliveries_flow)
        self.assertEqual((run.state, run.count_created, run.count_failed), ("done", 3, 0), run.error_message)
        for order in orders:
            picking = order.picking_ids
            self.assertEqual(picking.state, "done", order.origin)
            self.assertEqual(picking.move_ids.quantity, order.order_line.product_qty)
        stored = " ".join(run.page_message_ids.mapped("payload"))
        self.assertIn("SupplyDelivery", stored)
        self.assertNotIn("Patient/pt-", stored, "the patient of a delivery is masked in the stored pages")
        # Every line received: the ward's requests are completed, each once, after the order's "active".
        statuses = {}
        for update in self.fhir.state.updates:
            statuses.setdefault(update["id"], []).append(update["status"])
        self.assertEqual(statuses, {"sr-1": ["active", "completed"], "sr-2": ["active", "completed"],
                                    "sr-3": ["active", "completed"]})
        self.deliveries_flow.changed_since_watermark = False
        again = self.pull(self.deliveries_flow)
        self.assertEqual((again.count_created, again.count_unchanged), (0, 3), "a delivery is received once")
        self.assertEqual(len(self.fhir.state.updates), 6, "and its request completed once")
