from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import SimulatorMixin, data


@tagged("post_install", "-at_install")
class TestMappingTour(SimulatorMixin, HttpCase):
    def test_consultant_changes_mapping_and_next_pull_uses_it(self):
        self.start_simulators()
        consultant = new_test_user(
            self.env, login="hc_tour_consultant", groups="base.group_user,hc_integration_base.group_hc_consultant"
        )
        backend = self.env["hc.backend"].create({
            "name": "Tour master data", "code": "tour_master", "base_url": self.sims.rest_url,
            "auth_type": "api_key", "api_key": "sim-api-key",
        })
        flow = self.env["hc.flow"].create({
            "name": "Tour suppliers", "code": "suppliers", "backend_id": backend.id,
            "model_id": self.env.ref("base.model_res_partner").id, "direction": "pull",
            "remote_resource": "/api/v1/suppliers", "external_id_path": "code", "page_size": 10,
        })
        terms = self.env["hc.value.map"].create({
            "name": "Tour payment terms", "code": "tour_terms",
            "entry_ids": [(0, 0, {"legacy_code": str(d), "value": f"Net {d}"}) for d in (30, 45, 60)],
        })
        mapping = self.env["hc.mapping"].create({
            "flow_id": flow.id,
            "line_ids": [
                (0, 0, {"sequence": 1, "source": "code", "target": "ref"}),
                (0, 0, {"sequence": 2, "source": "name", "target": "name"}),
                (0, 0, {"sequence": 3, "source": "email", "target": "email", "params": '{"case": "upper"}'}),
                (0, 0, {"sequence": 4, "source": "payment_terms_days", "target": "comment",
                        "transform": "value_map", "params": '{"table": "tour_terms"}'}),
            ],
        })
        mapping.action_activate()

        self.start_tour(f"/odoo/action-hc_integration_base.hc_value_map_action/{terms.id}",
                        "hc_mapping_code_table", login=consultant.login)
        self.start_tour(f"/odoo/action-hc_integration_base.hc_mapping_action/{mapping.id}",
                        "hc_mapping_new_version", login=consultant.login)

        self.assertEqual(mapping.state, "archived")
        active = flow.active_mapping_id
        self.assertEqual(active.version, 2)
        with trap_jobs() as trap:
            flow.action_pull_now()
            while trap.enqueued_jobs:
                trap.perform_enqueued_jobs()
        self.assertIn(30, [data.supplier(self.sims.state.seed, i)["payment_terms_days"] for i in range(10)])
        for index in range(10):
            supplier = data.supplier(self.sims.state.seed, index)
            partner = self.env["res.partner"].search([("ref", "=", supplier["code"])])
            self.assertEqual(partner.email, supplier["email"].lower())
            days = supplier["payment_terms_days"]
            self.assertIn("Net thirty days" if days == 30 else f"Net {days}", str(partner.comment))
