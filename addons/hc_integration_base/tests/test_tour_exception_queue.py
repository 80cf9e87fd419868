from odoo.tests import new_test_user, tagged

from .common import DISCARD_URL, HcIntegrationHttpCase


@tagged("post_install", "-at_install")
class TestExceptionQueueTour(HcIntegrationHttpCase):
    def test_operator_replays_failed_message(self):
        operator = new_test_user(
            self.env,
            login="hc_tour_operator",
            groups="base.group_user,hc_integration_base.group_hc_operator",
        )
        backend = self.create_backend(name="Tour PAS", code="tour_pas", base_url=DISCARD_URL)
        flow = self.create_flow("tour_contacts", backend, name="Tour contacts")
        Message = self.env["hc.message"]
        failed = self.receive(flow, {"id": "TOUR-1", "patient_name": "Tour Patient"}, external_id="TOUR-1")
        failed._job_process()
        self.assertEqual(failed.state, "exception")

        self.start_tour(
            "/odoo/action-hc_integration_base.hc_message_exception_action",
            "hc_exception_queue_replay",
            login=operator.login,
        )
        replay = Message.search([("replay_of_id", "=", failed.id)])
        self.assertEqual(len(replay), 1)
        self.assertEqual(replay.state, "queued")
        # The job runner's part: process what the replay enqueued.
        replay._job_process()
        self.assertEqual(replay.state, "done")
        self.assertEqual(failed.state, "exception", "the original message stays unchanged")
        self.start_tour(
            f"/odoo/action-hc_integration_base.hc_message_action/{replay.id}",
            "hc_exception_queue_replay_done",
            login=operator.login,
        )
