import psycopg2

from odoo import sql_db
from odoo.tests import tagged

from odoo.addons.queue_job.jobrunner.runner import PG_ADVISORY_LOCK_ID

from .common import HcIntegrationHttpCase


@tagged("post_install", "-at_install")
class TestHealth(HcIntegrationHttpCase):
    """/hc/health gives one precise answer per situation of the job runner."""

    def setUp(self):
        super().setUp()
        # Jobs left ready by the install (demo pulls) would make every answer "stalled".
        self.env.cr.execute("UPDATE queue_job SET state = 'done' WHERE state IN ('pending', 'enqueued')")
        self.env["ir.config_parameter"].sudo().set_param("hc_integration_base.runner_stale_seconds", 300)

    def runner(self):
        """Stand in for queue_job's runner: it holds the master lock on a connection of its own."""
        _name, info = sql_db.connection_info_for(self.env.cr.dbname)
        conn = psycopg2.connect(**info)
        self.addCleanup(conn.close)  # closing the session releases the lock
        with conn.cursor() as cr:
            cr.execute("SELECT pg_try_advisory_lock(%s)", (PG_ADVISORY_LOCK_ID,))
            self.assertTrue(cr.fetchone()[0], "no other queue_job runner may serve the test database")

    def ready_job(self, seconds):
        job = self.env["res.partner"].with_delay(channel="root.hc", description="health probe").exists()
        self.env.cr.execute(
            "UPDATE queue_job SET date_created = now() at time zone 'utc' - make_interval(secs => %s) "
            "WHERE uuid = %s",
            (seconds, job.uuid),
        )

    def health(self):
        response = self.url_open("/hc/health")
        body = response.json()
        self.assertEqual(body["database"], "ok")
        return response.status_code, body["job_runner"], body["status"]

    def test_no_runner_is_down_even_with_nothing_ready(self):
        self.assertEqual(self.health(), (503, "down", "degraded"))
        self.ready_job(5)
        self.assertEqual(self.health(), (503, "down", "degraded"))

    def test_runner_with_nothing_ready_is_alive(self):
        self.runner()
        self.assertEqual(self.health(), (200, "alive", "ok"))

    def test_runner_with_fresh_ready_jobs_is_alive(self):
        self.runner()
        self.ready_job(5)
        self.ready_job(30)
        status = self.health()
        self.assertEqual(status, (200, "alive", "ok"))
        backlog = self.url_open("/hc/health").json()["backlog"]
        self.assertEqual(backlog["root.hc"]["ready"], 2)
        self.assertGreaterEqual(backlog["root.hc"]["oldest_seconds"], 30)

    def test_runner_with_a_job_ready_too_long_is_stalled(self):
        self.runner()
        self.ready_job(600)
        self.assertEqual(self.health(), (503, "stalled", "degraded"))
        self.env["ir.config_parameter"].sudo().set_param("hc_integration_base.runner_stale_seconds", 900)
        self.assertEqual(self.health(), (200, "alive", "ok"))
