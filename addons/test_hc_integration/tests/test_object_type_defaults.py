from odoo.tests import Form, tagged

from odoo.addons.hc_integration_base.tests.common import DISCARD_URL, HcIntegrationCase

MODEL = "test.hc.synced.record"
# The test schema's sensitive key, as paths of one event and of each record of a page.
PATHS = ["insurance_number", "[*].insurance_number"]


@tagged("post_install", "-at_install")
class TestObjectTypeDefaults(HcIntegrationCase):
    """What an object type gives its flows, for any domain addon: the model of its handler's
    records and the keys its schema marks sensitive as sensitive paths, wherever the flow has
    none; whatever the consultant chose wins."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.create_backend(name="Ward system", code="ward_defaults", base_url=DISCARD_URL)

    def paths(self, flow):
        return (flow.sensitive_paths or "").split()

    def test_a_new_flow_takes_its_object_types_model_and_sensitive_paths(self):
        flow = self.create_flow("ward_1", self.backend, model=None, object_type="test_record")
        self.assertEqual(flow.model_name, MODEL)
        self.assertEqual(self.paths(flow), PATHS)

    def test_what_a_new_flow_is_given_wins(self):
        flow = self.create_flow("ward_2", self.backend, model="res.partner", object_type="test_record",
                                sensitive_paths="email")
        self.assertEqual((flow.model_name, flow.sensitive_paths), ("res.partner", "email"))
        cleared = self.create_flow("ward_3", self.backend, model=None, object_type="test_record",
                                   sensitive_paths=False)
        self.assertEqual(cleared.model_name, MODEL)
        self.assertFalse(cleared.sensitive_paths, "paths given empty stay empty")

    def test_the_generic_record_gives_nothing(self):
        flow = self.create_flow("ward_4", self.backend, model="res.partner")
        self.assertEqual((flow.model_name, flow.sensitive_paths), ("res.partner", False))

    def test_picking_the_object_type_in_the_form_fills_model_and_paths(self):
        form = Form(self.env["hc.flow"])
        form.name, form.code, form.backend_id = "Ward records", "ward_5", self.backend
        form.object_type = "test_record"
        self.assertEqual(form.model_id.model, MODEL)
        self.assertEqual(form.sensitive_paths.split(), PATHS)
        flow = form.save()
        self.assertEqual((flow.model_name, self.paths(flow)), (MODEL, PATHS))

    def test_a_model_chosen_before_the_object_type_stays(self):
        form = Form(self.env["hc.flow"])
        form.name, form.code, form.backend_id = "Ward partners", "ward_6", self.backend
        form.model_id = self.env["ir.model"]._get("res.partner")
        form.sensitive_paths = "email"
        form.object_type = "test_record"
        self.assertEqual((form.model_id.model, form.sensitive_paths), ("res.partner", "email"))

    def test_changing_a_flows_object_type_fills_what_it_lacks(self):
        flow = self.create_flow("ward_7", self.backend, model="res.partner")
        flow.object_type = "test_record"
        self.assertEqual(flow.model_name, "res.partner", "the flow's model is kept")
        self.assertEqual(self.paths(flow), PATHS)
