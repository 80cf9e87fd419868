"""Outbound messages against the REST simulator: transient failures retried, permanent ones in
exception, an open circuit waited out without spending attempts."""

from odoo.tests import tagged

from odoo.addons.queue_job.exception import RetryableJobError

from .common import MessageCase


@tagged("post_install", "-at_install")
class TestMessageTransportRetries(MessageCase):
    """Outbound messages against the real REST simulator: retry, then exception."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_simulators()
        cls.backend.write({"base_url": cls.sims.rest_url, "auth_type": "api_key", "api_key": "sim-api-key",
                           "breaker_threshold": 100})
        cls.push_flow = cls.create_flow(
            "outcomes", cls.backend, name="Bill outcomes", object_type="generic", direction="push",
            system_of_record="odoo", remote_resource="/api/v1/bill-outcomes", max_attempts=3)

    def send(self, key):
        partner = self.env["res.partner"].create({"name": f"Vendor {key}"})
        payload = {"po_reference": key, "outcome": "matched", "amount": 10.0}
        message = self.receive(self.push_flow, payload, jobs=None, direction="outbound", idempotency_key=key,
                               record=partner)
        job = self.env["queue.job"].search([("uuid", "=", message.job_uuid)])
        self.assertEqual(len(job), 1)
        return message, job

    def test_transient_errors_retry_then_exception(self):
        self.sims.set_faults("rest", error_rate=1.0, status_code=503, retry_after=0)
        message, job = self.send("OUT-1")
        for attempt in (1, 2):
            _result, raised = self.run_job(message, job)
            self.assertIsInstance(raised, RetryableJobError)
            message.invalidate_recordset()
            self.assertEqual(message.state, "failed_retrying")
            self.assertEqual(message.attempt_count, attempt)
            self.assertEqual(message.error_category, "transport")
            self.assertIn("HTTP 503", message.error_message)
        reason, raised = self.run_job(message, job)
        self.assertIsNone(raised)
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.attempt_count, 3)
        self.assertIn("Gave up after 3 attempts", reason)
        self.assertEqual(message.error_category, "transport")
        self.assertTrue(message.activity_ids, "a person is told")

    def test_success_after_transient_failure_sends_once(self):
        self.sims.set_faults("rest", error_rate=1.0, status_code=503, retry_after=0)
        message, job = self.send("OUT-2")
        _result, raised = self.run_job(message, job)
        self.assertIsInstance(raised, RetryableJobError)
        self.sims.reset()
        result, raised = self.run_job(message, job)
        self.assertIsNone(raised, result)
        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempt_count, 2)
        stored = [o for o in self.sims.state.outcomes if o.get("po_reference") == "OUT-2"]
        self.assertEqual(len(stored), 1, "the simulator received the outcome exactly once")
        self.assertEqual(stored[0]["idempotency_key"], "OUT-2")

    def test_open_circuit_waits_without_spending_attempts(self):
        self.backend.write({"breaker_threshold": 1, "breaker_cooldown": 60})
        self.sims.set_faults("rest", error_rate=1.0, status_code=503, retry_after=0)
        first, first_job = self.send("OUT-4")
        _result, raised = self.run_job(first, first_job)  # a real failure: it opens the circuit
        self.assertFalse(raised.ignore_retry)
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.breaker_state, "open", "the form shows it although the job rolled back")
        second, second_job = self.send("OUT-5")
        for _ in range(4):  # more checks than its 3 attempts: the call never leaves while open
            _result, raised = self.run_job(second, second_job)
            self.assertIsInstance(raised, RetryableJobError)
            self.assertTrue(raised.ignore_retry, "a call refused by the open circuit is not an attempt")
            second.invalidate_recordset()
            self.assertEqual(second.state, "failed_retrying")
            self.assertIn("Circuit open", second.error_message)
            self.assertIn("Circuit open", second.wait_reason, "a wait like any other")
        self.assertFalse([o for o in self.sims.state.outcomes if o.get("po_reference") == "OUT-5"])
        self.backend._breaker().record_success()  # the remote system is back (a probe succeeded)
        self.backend.invalidate_recordset()
        self.backend._sync_breaker_state()  # ...and the probing process wrote it on the record
        self.sims.reset()
        _result, raised = self.run_job(second, second_job)
        self.assertIsNone(raised)
        self.assertEqual(second.state, "done")
        self.assertFalse(second.wait_reason, "cleared once it ran")

    def test_client_error_is_permanent(self):
        message, job = self.send("OUT-3")
        self.push_flow.remote_resource = "/api/v1/forbidden"
        reason, raised = self.run_job(message, job)
        self.assertIsNone(raised)
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.error_category, "authentication")
        self.assertIn("403", reason)
