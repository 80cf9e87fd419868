from odoo.tests import new_test_user, tagged

from odoo.addons.hc_integration_base.tests.common import HcIntegrationHttpCase
from odoo.addons.queue_job.tests.common import trap_jobs


@tagged("post_install", "-at_install")
class TestRoutingTour(HcIntegrationHttpCase):
    """A maintenance planner sees the requests made from CMMS work orders routed by team (Chromium)."""

    def test_planner_sees_requests_routed_by_team(self):
        env = self.env
        planner = new_test_user(env, login="hc_planner", groups="base.group_user,maintenance.group_equipment_manager")
        env["hc.maintenance.route"].search([]).active = False
        critical = env.ref("hc_maintenance_sync.demo_team_critical")
        env["hc.maintenance.route"].create({"name": "Tour: critical breakdowns", "sequence": 1,
                                            "event_type": "breakdown", "critical_only": True, "team_id": critical.id})
        flow = env.ref("hc_maintenance_sync.demo_flow_work_orders")
        Equipment = env["maintenance.equipment"]
        Equipment.create([
            {"name": "Ventilator (tour)", "hc_code": "AST-T1", "hc_critical": True,
             "category_id": env.ref("hc_maintenance_sync.demo_category_ventilators").id},
            {"name": "Pump (tour)", "hc_code": "AST-T2",
             "category_id": env.ref("hc_maintenance_sync.demo_category_infusion").id},
        ])
        messages = env["hc.message"]
        with trap_jobs():
            for wonum, asset, title in (("WO-T1", "AST-T1", "Ventilator down (tour)"),
                                        ("WO-T2", "AST-T2", "Pump occluded (tour)")):
                messages |= self.receive(flow, {
                    "wonum": wonum, "worktype": "EM", "assetnum": asset, "description": title, "wopriority": 2,
                }, jobs=None, external_id=wonum)
        for message in messages:
            message._job_process()  # the job runner's part
            self.assertEqual(message.state, "done", message.error_message)
        self.start_tour("/odoo/action-maintenance.hr_equipment_request_action?view_type=list",
                        "hc_maintenance_routed_by_team", login=planner.login)
