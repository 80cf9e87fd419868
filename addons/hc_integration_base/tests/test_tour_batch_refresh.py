from odoo.tests import new_test_user, tagged

from .common import DISCARD_URL, HcIntegrationHttpCase


@tagged("post_install", "-at_install")
class TestBatchRunRefreshTour(HcIntegrationHttpCase):
    """The batch run form reloads itself while the run is running (issue 17: it did not)."""

    def test_running_pull_form_follows_the_run(self):
        operator = new_test_user(
            self.env, login="hc_refresh_operator", groups="base.group_user,hc_integration_base.group_hc_operator")
        backend = self.create_backend(name="Refresh Lab", code="refresh_lab", base_url=DISCARD_URL)
        flow = self.create_flow("refresh_patients", backend, name="Refresh patients", direction="pull",
                                remote_resource="/patients")
        run = self.env["hc.batch.run"].create({"flow_id": flow.id, "pages_fetched": 1})
        self.assertEqual(run.state, "running")
        self.start_tour(f"/odoo/action-hc_integration_base.hc_batch_run_action/{run.id}", "hc_batch_run_refresh",
                        login=operator.login)
        self.assertEqual(run.pages_fetched, 3)
