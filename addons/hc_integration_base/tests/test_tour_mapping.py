from odoo.tests import new_test_user, tagged

from .common import HcIntegrationHttpCase, data


@tagged("post_install", "-at_install")
class TestMappingTour(HcIntegrationHttpCase):
    def test_consultant_changes_mapping_and_next_pull_uses_it(self):
        self.start_simulators()
        consultant = new_test_user(
            self.env, login="hc_tour_consultant", groups="base.group_user,hc_integration_base.group_hc_consultant"
        )
        backend = self.create_backend(name="Tour master data", code="tour_master", base_url=self.sims.rest_url,
                                      auth_type="api_key", api_key="sim-api-key", read_timeout=10)
        flow = self.create_flow("suppliers", backend, name="Tour suppliers", direction="pull",
                                remote_resource="/api/v1/suppliers", external_id_path="code", page_size=10)
        terms = self.create_code_table("tour_terms", {str(d): f"Net {d}" for d in (30, 45, 60)},
                                       name="Tour payment terms")
        mapping = self.create_mapping(flow, [
            {"source": "code", "target": "ref"},
            {"source": "name", "target": "name"},
            {"source": "email", "target": "email", "params": '{"case": "upper"}'},
            {"source": "payment_terms_days", "target": "comment", "transform": "value_map",
             "params": '{"table": "tour_terms"}'},
        ])

        self.start_tour(f"/odoo/action-hc_integration_base.hc_value_map_action/{terms.id}",
                        "hc_mapping_code_table", login=consultant.login)
        self.start_tour(f"/odoo/action-hc_integration_base.hc_mapping_action/{mapping.id}",
                        "hc_mapping_new_version", login=consultant.login)

        self.assertEqual(mapping.state, "archived")
        active = flow.active_mapping_id
        self.assertEqual(active.version, 2)
        self.pull(flow)
        self.assertIn(30, [data.supplier(self.sims.state.seed, i)["payment_terms_days"] for i in range(10)])
        for index in range(10):
            supplier = data.supplier(self.sims.state.seed, index)
            partner = self.env["res.partner"].search([("ref", "=", supplier["code"])])
            self.assertEqual(partner.email, supplier["email"].lower())
            days = supplier["payment_terms_days"]
            self.assertIn("Net thirty days" if days == 30 else f"Net {days}", str(partner.comment))
