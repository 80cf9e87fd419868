from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.queue_job.tests.common import trap_jobs


@tagged("post_install", "-at_install")
class TestDashboardTour(HttpCase):
    def test_operator_retries_from_the_dashboard_and_sees_the_figures_fall(self):
        operator = new_test_user(
            self.env, login="hc_dash_operator", groups="base.group_user,hc_integration_base.group_hc_operator")
        backend = self.env["hc.backend"].create({"name": "Tour Lab", "code": "tour_lab", "base_url": "http://127.0.0.1:9"})
        flow = self.env["hc.flow"].create({
            "name": "Tour patients", "code": "tour_patients", "backend_id": backend.id,
            "model_id": self.env.ref("base.model_res_partner").id,
        })
        Message = self.env["hc.message"]
        with trap_jobs():
            ok = Message._receive_post(backend, flow, {"id": "DASH-0", "name": "Fine patient"}, external_id="DASH-0")
            failed = Message._receive_post(backend, flow, {"id": "DASH-1", "patient_name": "Tour Patient"},
                                      external_id="DASH-1")
        ok._job_process()
        failed._job_process()
        self.assertEqual((ok.state, failed.state), ("done", "exception"))
        # The failed message arrived an hour and a half ago.
        self.env.cr.execute("UPDATE hc_message SET received_at = %s WHERE id = %s",
                            (fields.Datetime.now() - timedelta(minutes=90, seconds=20), failed.id))
        # The consultant fixes the cause: a mapping that knows the legacy field.
        mapping = self.env["hc.mapping"].create({"flow_id": flow.id, "line_ids": [
            (0, 0, {"sequence": 1, "source": "id", "target": "ref", "required": True}),
            (0, 0, {"sequence": 2, "source": "patient_name", "target": "name", "required": True}),
        ]})
        mapping.action_activate()
        self.env.invalidate_all()

        self.start_tour("/odoo/action-hc_integration_base.hc_dashboard_action", "hc_dashboard_retry",
                        login=operator.login)
        failed.invalidate_recordset()
        self.assertEqual(failed.state, "queued")
        failed._job_process()  # the job runner's part
        self.assertEqual(failed.state, "done", failed.error_message)
        self.start_tour("/odoo/action-hc_integration_base.hc_dashboard_action", "hc_dashboard_after_job",
                        login=operator.login)
