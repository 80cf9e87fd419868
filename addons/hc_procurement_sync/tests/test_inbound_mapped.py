import json

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.hc_integration_base.tests.common import DISCARD_URL
from odoo.addons.hc_integration_base.tests.common import mapping_line as line

from .common import ProcurementCase


class MappedFlowCase(ProcurementCase):
    """Flows of a system that speaks another dialect than the demo simulators (Dutch and German
    keys, nesting, dd.mm.yyyy dates, decimal commas, its own codes), connected by records only:
    a flow, an inbound mapping into the canonical document, code tables; items named by the
    system's own codes, bound to products whose internal references differ."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.create_backend(name="MMS (other dialect)", code="mms_other", base_url=DISCARD_URL,
                                         auth_type="none")
        cls.vendor = cls.env["res.partner"].create({"name": "Mapped vendor"})
        cls.gloves = cls.env["product.product"].create({
            "name": "Gloves (mapped)", "default_code": "ODOO-GLV", "is_storable": True,
            "seller_ids": [(0, 0, {"partner_id": cls.vendor.id, "price": 2.0})]})
        cls.reagent = cls.env["product.product"].create({
            "name": "Reagent (mapped)", "default_code": "ODOO-RGT", "is_storable": True, "tracking": "lot",
            "seller_ids": [(0, 0, {"partner_id": cls.vendor.id, "price": 9.0})]})
        # The item pull of this backend bound the system's codes (template and variant bindings).
        Binding = cls.env["hc.binding"]
        Binding._bind(cls.backend, cls.gloves.product_tmpl_id, "MMS-100")
        Binding._bind(cls.backend, cls.reagent, "MMS-200")

    def flow(self, code, object_type, lines, model=None, **values):
        """A flow of the system for ``object_type``, with its inbound mapping made of ``lines``."""
        flow = self.create_flow(code, self.backend, model=model, object_type=object_type, **values)
        self.create_mapping(flow, lines)
        return flow

    def apply(self, flow, payload):
        return self.receive(flow, payload, jobs="run")


@tagged("post_install", "-at_install")
class TestDemandMapped(MappedFlowCase):
    def demand_flow(self):
        self.create_code_table("mms_urgency", {"JA": "urgent", "NEE": "normal", "LATER": "someday"})
        return self.flow("demand_nl", "demand", [
            line(1, "aanvraag.nummer", "reference"),
            line(2, "aanvraag.afdeling", "department_code"),
            line(3, "aanvraag.spoed", "urgency", "value_map", table="mms_urgency"),
            line(4, "aanvraag.nodig_op", "needed_by", "date", format="%d.%m.%Y"),
            line(5, "regels", "lines", "one2many", lines=[
                {"source": "artikel", "target": "item_code"},
                {"source": "aantal", "target": "quantity", "transform": "number", "params": {"decimal_separator": ","}},
            ]),
        ], model="purchase.order")

    def test_requisition_in_another_dialect_becomes_rfqs(self):
        flow = self.demand_flow()
        message = self.apply(flow, {
            "aanvraag": {"nummer": "AV-1", "afdeling": "LAB", "spoed": "JA", "nodig_op": "10.12.2026"},
            "regels": [{"artikel": "MMS-100", "aantal": "2,5"}, {"artikel": "MMS-200", "aantal": "1,0"},
                       {"artikel": "MMS-100", "aantal": "0,5"}],
        })
        self.assertEqual(message.state, "done", message.error_message)
        rfq = self.env["purchase.order"].search([("origin", "=", "AV-1")])
        self.assertEqual(message.record_ref, rfq)
        self.assertEqual((rfq.partner_id, rfq.priority), (self.vendor, "1"))
        self.assertEqual(sorted((ln.product_id.default_code, ln.product_qty) for ln in rfq.order_line),
                         [("ODOO-GLV", 3.0), ("ODOO-RGT", 1.0)], "items found through the backend's bindings")
        self.assertEqual(str(rfq.order_line[0].date_planned.date()), "2026-12-10")

    def test_a_document_that_does_not_fit_its_schema_is_a_validation_error(self):
        flow = self.demand_flow()
        message = self.apply(flow, {"aanvraag": {"nummer": "AV-2", "spoed": "LATER"},
                                      "regels": [{"artikel": "MMS-100", "aantal": "1"}]})
        self.assertEqual((message.state, message.error_category), ("exception", "validation"))
        self.assertIn("/urgency", message.error_message)
        self.assertIn("'someday' is not one of", message.error_message)
        self.assertFalse(self.env["purchase.order"].search([("origin", "=", "AV-2")]))

    def test_mapping_lines_fill_the_canonical_document(self):
        flow = self.demand_flow()
        self.assertIn("needed_by", flow.canonical_document)
        self.assertIn("lines[*].item_code", flow.canonical_document)
        with self.assertRaisesRegex(ValidationError, "document has no field deadline"):
            self.create_mapping(flow, [line(1, "x", "deadline")], activate=False)


@tagged("post_install", "-at_install")
class TestReceiptMapped(MappedFlowCase):
    def test_goods_receipt_in_another_dialect_validates_the_receipt(self):
        order = self.confirm(self.create_order(self.vendor, [(self.gloves, 10, 1.0), (self.reagent, 10, 1.0)]))
        flow = self.flow("receipts_de", "receipt", [
            line(1, "wareneingang.nr", "reference"),
            line(2, "wareneingang.bestellung", "po_reference"),
            line(3, "positionen", "lines", "one2many", lines=[
                {"source": "artikel", "target": "item_code"},
                {"source": "menge", "target": "quantity", "transform": "number", "params": {"decimal_separator": ","}},
                {"source": "charge", "target": "lot"},
                {"source": "verfall", "target": "expiry_date", "transform": "date", "params": {"format": "%d.%m.%Y"}},
            ]),
        ], model="stock.picking")
        message = self.apply(flow, {
            "wareneingang": {"nr": "WE-1", "bestellung": order.name},
            "positionen": [{"artikel": "MMS-100", "menge": "4,0"},
                           {"artikel": "MMS-200", "menge": "3,0", "charge": "CH-7", "verfall": "31.05.2027"}],
        })
        self.assertEqual(message.state, "done", message.error_message)
        done = order.picking_ids.filtered(lambda p: p.state == "done")
        self.assertEqual(message.record_ref, done)
        self.assertEqual(sorted((ln.product_id.default_code, ln.qty_received) for ln in order.order_line),
                         [("ODOO-GLV", 4.0), ("ODOO-RGT", 3.0)])
        self.assertEqual(done.move_line_ids.lot_id.mapped("name"), ["CH-7"])
        self.assertTrue(order.picking_ids - done, "the rest is a backorder")
        bad = self.apply(flow, {"wareneingang": {"bestellung": order.name}, "positionen": []})
        self.assertEqual((bad.state, bad.error_category), ("exception", "validation"))
        self.assertIn("'reference' is a required property", bad.error_message)


@tagged("post_install", "-at_install")
class TestSupplierItemDocuments(MappedFlowCase):
    def test_supplier_document_is_checked_against_its_schema(self):
        flow = self.flow("suppliers_nl", "supplier", [
            line(1, "code", "ref"), line(2, "naam", "name"), line(3, "bedrijf", "is_company"),
        ], model="res.partner", external_id_path="code")
        message = self.apply(flow, {"code": "LEV-1", "naam": "Leverancier", "bedrijf": "ja"})
        self.assertEqual((message.state, message.error_category), ("exception", "validation"))
        self.assertIn("/is_company: 'ja' is not of type 'boolean'", message.error_message)
        self.assertFalse(self.env["res.partner"].search([("ref", "=", "LEV-1")]))


@tagged("post_install", "-at_install")
class TestBillOutcomeMapped(ProcurementCase):
    """The bill outcome document goes out through the flow's outbound mapping; the answer is read
    through its response mapping (the system's own status vocabulary in a code table)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.use_demo_backends()
        cls.flow = cls.env.ref("hc_procurement_sync.demo_flow_bill_outcome")
        cls.vendor = cls.env["res.partner"].create({"name": "Billing vendor (mapped)", "ref": "SUP-0009"})
        cls.product = cls.env["product.product"].create(
            {"name": "Reagent", "default_code": "ITM-BM1", "purchase_method": "purchase"})
        cls.create_code_table("bill_answer", {"received": "accepted"}, name="answers")
        # A code table maps the system's codes to Odoo's values; the outbound line reads it the other way.
        cls.create_code_table("bill_result", {"OK": "matched", "BEZAHLT": "paid", "PREIS": "price_difference"},
                              name="outcomes")
        cls.create_mapping(cls.flow, [
            line(1, "bill_reference", "Rechnung.Nummer"), line(2, "po_reference", "Rechnung.Bestellung"),
            line(3, "outcome", "Rechnung.Ergebnis", "value_map", table="bill_result"),
            line(4, "amount", "Rechnung.Betrag"),
        ], direction="outbound")
        cls.create_mapping(cls.flow, [line(1, "status", "status", "value_map", table="bill_answer")],
                           direction="response")

    def test_outcome_is_sent_in_the_systems_dialect(self):
        order = self.confirm(self.create_order(self.vendor, [(self.product, 3, 10.0)]))
        bill, message = self.post_bill(order)
        self.assertEqual(json.loads(message.payload)["outcome"], "matched", "the payload is the canonical document")
        message._job_process()
        self.assertEqual(message.state, "done", message.error_message)
        sent = self.sims.state.outcomes[-1]
        self.assertEqual(sent["Rechnung"]["Nummer"], bill.name)
        self.assertEqual((sent["Rechnung"]["Bestellung"], sent["Rechnung"]["Ergebnis"]), (order.name, "OK"))
        self.assertNotIn("outcome", sent)
