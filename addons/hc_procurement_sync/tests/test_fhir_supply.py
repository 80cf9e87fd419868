"""A FHIR R4 server's SupplyRequests pulled as demand, configured only with records: the search
paged through the Bundle's next links, the requisition number and the item read from coded
lists by their system, an incremental pull with _lastUpdated=gt…, the patient reference kept out
of the stored payload."""

from datetime import UTC, timedelta

from odoo.tests import tagged

from odoo.addons.hc_integration_base.tests.common import HcIntegrationCase
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
        cls.create_code_table("fhir_priority", {"routine": "normal", "asap": "urgent", "stat": "urgent"},
                              name="FHIR priority")
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
            line(3, "priority", "urgency", "value_map", table="fhir_priority"),
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
