import json

from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from odoo.addons.hc_integration_base.tests.common import SimulatorMixin
from odoo.addons.queue_job.tests.common import trap_jobs


def line(seq, source, target, transform="direct", **params):
    return (0, 0, {"sequence": seq, "source": source, "target": target, "transform": transform,
                   "params": json.dumps(params) if params else False})


class MappedFlowCase(SimulatorMixin, TransactionCase):
    """Flows of a system that speaks another dialect than the demo simulators (Dutch and German
    keys, nesting, dd.mm.yyyy dates, decimal commas, its own codes), connected by records only:
    a flow, an inbound mapping into the canonical document, code tables; items named by the
    system's own codes, bound to products whose internal references differ."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.backend = cls.env["hc.backend"].create({
            "name": "MMS (other dialect)", "code": "mms_other", "protocol": "rest",
            "base_url": "http://127.0.0.1:9", "auth_type": "none",
        })
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

    def flow(self, code, object_type, lines, model=None, direction="inbound", **extra):
        values = {"name": code, "code": code, "backend_id": self.backend.id, "object_type": object_type,
                  "direction": direction, **extra}
        if model:
            values["model_id"] = self.env["ir.model"]._get_id(model)
        flow = self.env["hc.flow"].create(values)
        if lines:
            mapping = self.env["hc.mapping"].create({"flow_id": flow.id, "direction": "inbound", "line_ids": lines})
            mapping.action_activate()
        return flow

    def table(self, code, entries):
        return self.env["hc.value.map"].create({
            "name": code, "code": code,
            "entry_ids": [(0, 0, {"legacy_code": k, "value": v}) for k, v in entries.items()],
        })

    def receive(self, flow, payload):
        with trap_jobs() as trap:
            message = self.env["hc.message"]._receive_post(flow.backend_id, flow, payload)
            while trap.enqueued_jobs:
                trap.perform_enqueued_jobs()
        return message


@tagged("post_install", "-at_install")
class TestDemandMapped(MappedFlowCase):
    def demand_flow(self):
        self.table("mms_urgency", {"JA": "urgent", "NEE": "normal", "LATER": "someday"})
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
        message = self.receive(flow, {
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
        message = self.receive(flow, {"aanvraag": {"nummer": "AV-2", "spoed": "LATER"},
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
            self.env["hc.mapping"].create({"flow_id": flow.id, "line_ids": [line(1, "x", "deadline")]})


@tagged("post_install", "-at_install")
class TestReceiptMapped(MappedFlowCase):
    def test_goods_receipt_in_another_dialect_validates_the_receipt(self):
        order = self.env["purchase.order"].create({
            "partner_id": self.vendor.id,
            "order_line": [(0, 0, {"product_id": p.id, "product_qty": 10, "price_unit": 1.0})
                           for p in (self.gloves, self.reagent)],
        })
        with trap_jobs():
            order.button_confirm()
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
        message = self.receive(flow, {
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
        bad = self.receive(flow, {"wareneingang": {"bestellung": order.name}, "positionen": []})
        self.assertEqual((bad.state, bad.error_category), ("exception", "validation"))
        self.assertIn("'reference' is a required property", bad.error_message)


@tagged("post_install", "-at_install")
class TestSupplierItemDocuments(MappedFlowCase):
    def test_supplier_document_is_checked_against_its_schema(self):
        flow = self.flow("suppliers_nl", "supplier", [
            line(1, "code", "ref"), line(2, "naam", "name"), line(3, "bedrijf", "is_company"),
        ], model="res.partner", external_id_path="code")
        message = self.receive(flow, {"code": "LEV-1", "naam": "Leverancier", "bedrijf": "ja"})
        self.assertEqual((message.state, message.error_category), ("exception", "validation"))
        self.assertIn("/is_company: 'ja' is not of type 'boolean'", message.error_message)
        self.assertFalse(self.env["res.partner"].search([("ref", "=", "LEV-1")]))


@tagged("post_install", "-at_install")
class TestBillOutcomeMapped(SimulatorMixin, TransactionCase):
    """The bill outcome document goes out through the flow's outbound mapping; the answer is read
    through its response mapping (the system's own status vocabulary in a code table)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.start_simulators()
        cls.env.ref("hc_integration_base.demo_backend_rest").write({"base_url": cls.sims.rest_url})
        cls.flow = cls.env.ref("hc_procurement_sync.demo_flow_bill_outcome")
        cls.vendor = cls.env["res.partner"].create({"name": "Billing vendor (mapped)", "ref": "SUP-0009"})
        cls.product = cls.env["product.product"].create(
            {"name": "Reagent", "default_code": "ITM-BM1", "purchase_method": "purchase"})
        cls.env["hc.value.map"].create({"name": "answers", "code": "bill_answer", "entry_ids": [
            (0, 0, {"legacy_code": "received", "value": "accepted"})]})
        # A code table maps the system's codes to Odoo's values; the outbound line reads it the other way.
        cls.env["hc.value.map"].create({"name": "outcomes", "code": "bill_result", "entry_ids": [
            (0, 0, {"legacy_code": "OK", "value": "matched"}), (0, 0, {"legacy_code": "BEZAHLT", "value": "paid"}),
            (0, 0, {"legacy_code": "PREIS", "value": "price_difference"})]})
        Mapping = cls.env["hc.mapping"]
        Mapping.create({"flow_id": cls.flow.id, "direction": "outbound", "line_ids": [
            line(1, "bill_reference", "Rechnung.Nummer"), line(2, "po_reference", "Rechnung.Bestellung"),
            line(3, "outcome", "Rechnung.Ergebnis", "value_map", table="bill_result"),
            line(4, "amount", "Rechnung.Betrag"),
        ]}).action_activate()
        Mapping.create({"flow_id": cls.flow.id, "direction": "response", "line_ids": [
            line(1, "status", "status", "value_map", table="bill_answer"),
        ]}).action_activate()

    def setUp(self):
        super().setUp()
        self.sims.reset()
        self.registry_enter_test_mode()

    def test_outcome_is_sent_in_the_systems_dialect(self):
        order = self.env["purchase.order"].create({
            "partner_id": self.vendor.id,
            "order_line": [(0, 0, {"product_id": self.product.id, "product_qty": 3, "price_unit": 10.0})],
        })
        with trap_jobs():
            order.button_confirm()
        order.action_create_invoice()
        bill = order.invoice_ids
        bill.invoice_date = bill.invoice_date or "2026-11-24"
        with trap_jobs():
            bill.action_post()
        message = self.env["hc.message"].search([("res_model", "=", "account.move"), ("res_id", "=", bill.id)])
        self.assertEqual(json.loads(message.payload)["outcome"], "matched", "the payload is the canonical document")
        message._job_process()
        self.assertEqual(message.state, "done", message.error_message)
        sent = self.sims.state.outcomes[-1]
        self.assertEqual(sent["Rechnung"]["Nummer"], bill.name)
        self.assertEqual((sent["Rechnung"]["Bestellung"], sent["Rechnung"]["Ergebnis"]), (order.name, "OK"))
        self.assertNotIn("outcome", sent)
