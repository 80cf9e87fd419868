"""The equipment master read from a FHIR R4 server's Device resources, configured only with records
(the demo's Devices flow): Bundle pages followed by their next links, the asset tag, name and type
picked from coded lists by system, the category by code, inactive devices archived, a second pull
changing nothing."""

from odoo.tests import tagged

from odoo.addons.hc_integration_base.tests.common import HcIntegrationCase

from legacy_sim.fhir import start_fhir_server


@tagged("post_install", "-at_install")
class TestFhirDevices(HcIntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fhir = start_fhir_server(devices=9, max_count=4)
        cls.addClassCleanup(cls.fhir.stop)
        cls.backend = cls.env.ref("hc_integration_base.demo_backend_fhir")
        cls.backend.base_url = cls.fhir.url
        cls.flow = cls.env.ref("hc_maintenance_sync.demo_flow_fhir_devices")

    def test_devices_become_equipment_once(self):
        run = self.pull(self.flow)
        self.assertEqual((run.state, run.count_created, run.count_failed), ("done", 9, 0), run.error_message)
        self.assertEqual(len(run.page_message_ids), 3, "4 + 4 + 1 devices: the server caps _count at 4")
        Equipment = self.env["maintenance.equipment"].with_context(active_test=False)
        equipment = Equipment.search([("hc_code", "=like", "AST-F%")], order="hc_code")
        self.assertEqual(equipment.mapped("hc_code"), [f"AST-F{n:04d}" for n in range(1, 10)])
        ventilator = equipment[0]
        self.assertEqual((ventilator.name, ventilator.category_id, ventilator.hc_critical, ventilator.hc_location),
                         ("Ventilator 1", self.env.ref("hc_maintenance_sync.demo_category_ventilators"), True, "LAB"))
        self.assertTrue(ventilator.serial_no.startswith("SN"))
        self.assertEqual(equipment[1].category_id, self.env.ref("hc_maintenance_sync.demo_category_infusion"))
        self.assertFalse(equipment[1].hc_critical)
        self.assertEqual(equipment.filtered(lambda e: not e.active).mapped("hc_code"), ["AST-F0007"],
                         "an inactive device is archived")
        binding = self.env["hc.binding"]._remote_of(self.backend, ventilator)
        self.assertEqual((binding.external_id, binding.external_version), ("dev-1", "1"))

        self.flow.changed_since_watermark = False
        again = self.pull(self.flow)
        self.assertEqual((again.count_created, again.count_updated, again.count_unchanged), (0, 0, 9))
        self.assertEqual(Equipment.search_count([("hc_code", "=like", "AST-F%")]), 9)
