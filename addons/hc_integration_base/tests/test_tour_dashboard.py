from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user, tagged

from .common import DISCARD_URL, HcIntegrationHttpCase


@tagged("post_install", "-at_install")
class TestDashboardTour(HcIntegrationHttpCase):
    def test_operator_retries_from_the_dashboard_and_sees_the_figures_fall(self):
        operator = new_test_user(
            self.env, login="hc_dash_operator", groups="base.group_user,hc_integration_base.group_hc_operator")
        backend = self.create_backend(name="Tour Lab", code="tour_lab", base_url=DISCARD_URL)
        flow = self.create_flow("tour_patients", backend, name="Tour patients")
        ok = self.receive(flow, {"id": "DASH-0", "name": "Fine patient"}, external_id="DASH-0")
        failed = self.receive(flow, {"id": "DASH-1", "patient_name": "Tour Patient"}, external_id="DASH-1")
        ok._job_process()
        failed._job_process()
        self.assertEqual((ok.state, failed.state), ("done", "exception"))
        # The failed message arrived an hour and a half ago.
        self.env.cr.execute("UPDATE hc_message SET received_at = %s WHERE id = %s",
                            (fields.Datetime.now() - timedelta(minutes=90, seconds=20), failed.id))
        # The consultant fixes the cause: a mapping that knows the legacy field.
        self.create_mapping(flow, [{"source": "id", "target": "ref", "required": True},
                                   {"source": "patient_name", "target": "name", "required": True}])
        self.env.invalidate_all()

        self.start_tour("/odoo/action-hc_integration_base.hc_dashboard_action", "hc_dashboard_retry",
                        login=operator.login)
        failed.invalidate_recordset()
        self.assertEqual(failed.state, "queued")
        failed._job_process()  # the job runner's part
        self.assertEqual(failed.state, "done", failed.error_message)
        self.start_tour("/odoo/action-hc_integration_base.hc_dashboard_action", "hc_dashboard_after_job",
                        login=operator.login)
