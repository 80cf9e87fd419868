import json

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import BackendMixin, SimulatorMixin, data


@tagged("post_install", "-at_install")
class TestBatchRun(SimulatorMixin, BackendMixin, TransactionCase):
    """Paged pulls from the REST simulator: one job per page, resumable, unchanged skipped."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.start_simulators()  # 10 suppliers
        cls.backend = cls.create_backend(
            code="master", base_url=cls.sims.rest_url, auth_type="api_key", api_key="sim-api-key"
        )
        cls.flow = cls.env["hc.flow"].create(
            {
                "name": "Supplier master",
                "code": "suppliers",
                "backend_id": cls.backend.id,
                "model_id": cls.env.ref("base.model_res_partner").id,
                "direction": "pull",
                "mode": "batch",
                "remote_resource": "/api/v1/suppliers",
                "external_id_path": "code",
                "page_size": 4,
            }
        )

    def setUp(self):
        super().setUp()
        self.sims.reset()
        self.registry_enter_test_mode()

    def pull(self, trap, run=None):
        """Start (or continue) a pull and run every job it enqueues, as the runner would."""
        if run is None:
            action = self.flow.action_pull_now()
            run = self.env["hc.batch.run"].browse(action["res_id"])
        while trap.enqueued_jobs:
            trap.perform_enqueued_jobs()
        return run

    def partners(self):
        bindings = self.env["hc.binding"].search([("backend_id", "=", self.backend.id)])
        return self.env["res.partner"].browse(bindings.mapped("res_id"))

    def test_pull_creates_then_skips_unchanged(self):
        with trap_jobs() as trap:
            run = self.pull(trap)
        self.assertEqual(run.state, "done")
        self.assertEqual((run.pages_fetched, run.pages_total, run.pages_done), (3, 3, 3))
        self.assertEqual((run.count_created, run.count_updated, run.count_unchanged), (10, 0, 0))
        self.assertEqual(run.progress, 100.0)
        partners = self.partners()
        self.assertEqual(len(partners), 10)
        expected = [data.supplier(self.sims.state.seed, i) for i in range(10)]
        self.assertEqual(sorted(partners.mapped("name")), sorted(s["name"] for s in expected))
        self.assertEqual(sorted(partners.mapped("email")), sorted(s["email"] for s in expected))
        first = partners.sorted("id")[0]
        write_date = first.write_date

        with trap_jobs() as trap:
            second = self.pull(trap)
        self.assertEqual((second.count_created, second.count_updated, second.count_unchanged), (0, 0, 10))
        self.assertEqual(len(self.partners()), 10)
        self.assertEqual(first.write_date, write_date, "an unchanged pull writes nothing")

    def test_changed_record_updated(self):
        with trap_jobs() as trap:
            self.pull(trap)
        self.sims.state.item_overrides.clear()
        binding = self.env["hc.binding"].search([("external_id", "=", "SUP-0002")])
        partner = self.env["res.partner"].browse(binding.res_id)
        partner.email = "changed-in-odoo@example.com"
        binding.content_hash = "stale"
        with trap_jobs() as trap:
            run = self.pull(trap)
        self.assertEqual((run.count_updated, run.count_unchanged), (1, 9))
        self.assertEqual(partner.email, "orders2@supplier.example")

    def test_cancel_and_resume_from_checkpoint(self):
        with trap_jobs() as trap:
            action = self.flow.action_pull_now()
            run = self.env["hc.batch.run"].browse(action["res_id"])
            fetch = trap.enqueued_jobs.pop(0)
            fetch.perform()  # page 1 stored with its processing job; the next fetch is queued
            self.assertEqual(run.pages_fetched, 1)
            self.assertEqual(json.loads(run.checkpoint), 2)
            run.action_cancel()
            while trap.enqueued_jobs:
                trap.perform_enqueued_jobs()  # page 1 is applied; the queued fetch sees the cancel
        self.assertEqual((run.state, run.pages_fetched, run.count_created), ("cancelled", 1, 4))
        with trap_jobs() as trap:
            run.action_resume()
            trap.assert_jobs_count(1)
            self.assertEqual(trap.enqueued_jobs[0].args, (run.checkpoint,))
            self.pull(trap, run)
        self.assertEqual((run.state, run.pages_fetched, run.count_created), ("done", 3, 10))
        self.assertEqual(sorted(run.page_message_ids.mapped("page_number")), [1, 2, 3])
        self.assertEqual(len(self.partners()), 10)

    def test_cancel_stops_fetching_and_stale_jobs_do_nothing(self):
        with trap_jobs() as trap:
            action = self.flow.action_pull_now()
            run = self.env["hc.batch.run"].browse(action["res_id"])
            run.action_cancel()
            trap.perform_enqueued_jobs()
            trap.assert_jobs_count(0)
        self.assertEqual(run.pages_fetched, 0)
        with self.assertRaises(UserError):
            run.flow_id.copy({"code": "pushy", "direction": "push"}).action_pull_now()

    def test_remote_down_fails_the_run_visibly(self):
        self.flow.max_attempts = 1
        self.sims.take_down("rest")
        try:
            with trap_jobs() as trap:
                run = self.pull(trap)
        finally:
            self.sims.bring_up("rest")
        self.assertEqual(run.state, "failed")
        self.assertIn("refused", run.error_message)
