import json
import urllib.parse
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from ..transports.rest import RestClient
from .common import HcIntegrationCase, data, json_answer


@tagged("post_install", "-at_install")
class TestBatchRun(HcIntegrationCase):
    """Paged pulls from the REST simulator: one job per page, resumable, unchanged skipped."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_simulators()  # 10 suppliers
        cls.backend = cls.create_backend(
            code="master", base_url=cls.sims.rest_url, auth_type="api_key", api_key="sim-api-key"
        )
        cls.flow = cls.create_flow("suppliers", cls.backend, name="Supplier master", direction="pull", mode="batch",
                                   remote_resource="/api/v1/suppliers", external_id_path="code", page_size=4)

    def partners(self):
        bindings = self.env["hc.binding"].search([("backend_id", "=", self.backend.id)])
        return self.env["res.partner"].browse(bindings.mapped("res_id"))

    def test_pull_creates_then_skips_unchanged(self):
        run = self.pull(self.flow)
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

        second = self.pull(self.flow)
        self.assertEqual((second.count_created, second.count_updated, second.count_unchanged), (0, 0, 10))
        self.assertEqual(len(self.partners()), 10)
        self.assertEqual(first.write_date, write_date, "an unchanged pull writes nothing")

    def test_changed_record_updated(self):
        self.pull(self.flow)
        self.sims.state.item_overrides.clear()
        binding = self.env["hc.binding"].search([("external_id", "=", "SUP-0002")])
        partner = self.env["res.partner"].browse(binding.res_id)
        partner.email = "changed-in-odoo@example.com"
        binding.content_hash = "stale"
        run = self.pull(self.flow)
        self.assertEqual((run.count_updated, run.count_unchanged), (1, 9))
        self.assertEqual(partner.email, "orders2@supplier.example")

    def test_cancel_and_resume_from_checkpoint(self):
        with trap_jobs() as trap:
            action = self.flow.action_pull_now()
            run = self.env["hc.batch.run"].browse(action["res_id"])
            fetch = trap.enqueued_jobs.pop(0)
            fetch.perform()  # page 1 stored with its processing job; the next fetch is queued
            self.assertEqual(run.pages_fetched, 1)
            self.assertEqual(json.loads(run.checkpoint)["page"], 2)
            run.action_cancel()
            self.run_jobs(trap)  # page 1 is applied; the queued fetch sees the cancel
        self.assertEqual((run.state, run.pages_fetched, run.count_created), ("cancelled", 1, 4))
        self.assertTrue(run.can_resume, "the form offers Resume while pages remain")
        with trap_jobs() as trap:
            run.action_resume()
            trap.assert_jobs_count(1)
            self.assertEqual(trap.enqueued_jobs[0].args, (run.checkpoint,))
            self.run_jobs(trap)
        self.assertEqual((run.state, run.pages_fetched, run.count_created), ("done", 3, 10))
        self.assertFalse(run.can_resume)
        with self.assertRaises(UserError):
            run.action_resume()
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
            run = self.pull(self.flow)
        finally:
            self.sims.bring_up("rest")
        self.assertEqual(run.state, "failed")
        self.assertIn("refused", run.error_message)
        self.assertTrue(run.can_resume, "a failed run with pages left offers Resume")

    def test_form_status_bar_shows_the_happy_path(self):
        arch = self.env["hc.batch.run"].get_view(view_type="form")["arch"]
        self.assertIn('statusbar_visible="running,done"', arch)


class Materiales:
    """A materials system written for these tests, paging its own way: ``pagina``/``tamano``,
    every page capped at 25 records whatever the size asked, the records under
    ``resultado.filas`` and the total under ``meta.totalFilas``. Unknown parameters are ignored,
    as such systems do (``page_size=100`` gets the first 25). ``queries`` keeps what was asked."""

    CAP = 25

    def __init__(self, rows):
        self.rows = rows
        self.queries = []

    def __call__(self, request, body):
        query = {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(request.path).query).items()}
        self.queries.append(query)
        page = max(int(query.get("pagina", 1)), 1)
        size = min(int(query.get("tamano", self.CAP)), self.CAP)
        rows = self.rows[(page - 1) * size:page * size]
        return json_answer(200, {"resultado": {"filas": rows}, "meta": {"totalFilas": len(self.rows)}})


@tagged("post_install", "-at_install")
class TestPageContractPull(HcIntegrationCase):
    """Pulls through the flow's page contract: own parameter names, capped pages, nested records,
    a watermark for incremental pulls, and runs that end failed instead of staying running."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.materiales = Materiales([{"ref": f"MAT-{i:03d}", "name": f"Material {i}"} for i in range(60)])
        cls.backend = cls.create_backend(code="materiales", base_url=cls.start_server(cls.materiales).url)
        cls.flow = cls.create_flow(
            "materiales", cls.backend, name="Materiales", direction="pull", mode="batch",
            remote_resource="/materiales", external_id_path="ref", page_size=100, paging_page_param="pagina",
            paging_size_param="tamano", paging_records_path="resultado.filas", paging_next_path=False,
            paging_total_path="meta.totalFilas")

    def setUp(self):
        super().setUp()
        self.materiales.queries.clear()

    def bound_refs(self):
        bindings = self.env["hc.binding"].search([("backend_id", "=", self.backend.id)])
        return sorted(self.env["res.partner"].browse(bindings.mapped("res_id")).mapped("ref"))

    def test_capped_pages_with_own_parameter_names_all_recorded(self):
        run = self.pull(self.flow)
        self.assertEqual(run.state, "done", run.error_message)
        self.assertEqual((run.pages_fetched, run.pages_total, run.pages_done), (3, 3, 3))
        self.assertEqual(run.count_created, 60)
        self.assertEqual(self.bound_refs(), [f"MAT-{i:03d}" for i in range(60)])
        self.assertEqual([(q.get("pagina"), q.get("tamano")) for q in self.materiales.queries],
                         [("1", "100"), ("2", "100"), ("3", "100")])
        self.assertEqual(run.progress, 100.0)

    def test_changed_since_watermark_sent_only_after_a_completed_run(self):
        self.flow.changed_since_param = "modificado_desde"
        with trap_jobs() as trap:  # a first run stopped after one page: not complete
            action = self.flow.action_pull_now()
            first = self.env["hc.batch.run"].browse(action["res_id"])
            trap.enqueued_jobs.pop(0).perform()
            first.action_cancel()
            self.run_jobs(trap)
        self.assertEqual(first.state, "cancelled")
        self.assertFalse(self.flow.changed_since_watermark, "an unfinished run never moves the watermark")

        second = self.pull(self.flow)
        self.assertEqual(second.state, "done", second.error_message)
        self.assertTrue(all("modificado_desde" not in q for q in self.materiales.queries), self.materiales.queries)
        self.assertEqual(self.flow.changed_since_watermark, second.started_at)

        self.materiales.queries.clear()
        third = self.pull(self.flow)
        expected = second.started_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.assertEqual(third.changed_since, expected)
        self.assertEqual([q.get("modificado_desde") for q in self.materiales.queries], [expected] * 3)
        self.assertEqual(self.flow.changed_since_watermark, third.started_at)

    def test_failed_run_keeps_the_watermark(self):
        self.flow.write({"changed_since_param": "modificado_desde",
                         "changed_since_watermark": fields.Datetime.to_datetime("2025-01-31 22:00:00")})
        self.flow.paging_records_path = "resultado.rows"
        run = self.pull(self.flow)
        self.assertEqual(run.state, "failed")
        self.assertIn("no records at path 'resultado.rows'", run.error_message)
        self.assertEqual(self.materiales.queries[0]["modificado_desde"], "2025-01-31T22:00:00Z")
        self.assertEqual(fields.Datetime.to_string(self.flow.changed_since_watermark), "2025-01-31 22:00:00")

    def test_soap_backend_without_list_operation_fails_and_pull_again_possible(self):
        self.start_simulators()
        soap = self.create_backend(code="gateway", protocol="soap", wsdl_url=f"{self.sims.soap_url}/procurement?wsdl")
        flow = self.flow.copy({"code": "soap_items", "backend_id": soap.id, "remote_resource": "ListItems"})
        run = self.pull(flow)
        self.assertEqual(run.state, "failed")
        self.assertIn("no list operation 'ListItems'", run.error_message)
        self.assertIn("SubmitPurchaseOrder", run.error_message)  # what the WSDL offers instead
        again = self.pull(flow)  # the failed run does not block the next one
        self.assertNotEqual(again, run)
        self.assertEqual(again.state, "failed")

    def test_unexpected_error_while_fetching_fails_the_run_with_the_reason(self):
        with patch.object(RestClient, "fetch_page", side_effect=KeyError("resultado")), \
                self.assertLogs("odoo.addons.hc_integration_base.models.hc_batch_run", "ERROR") as logs:
            run = self.pull(self.flow)
        self.assertIn("Traceback", logs.output[0])  # the traceback stays in the server log
        self.assertEqual(run.state, "failed")
        self.assertIn("KeyError", run.error_message)
        self.assertIn("resultado", run.error_message)
        self.assertEqual(self.pull(self.flow).state, "done")

    def test_transport_that_cannot_page_fails_the_run_clearly(self):
        with patch.object(self.env.registry["hc.backend"], "_get_client", return_value=object()):
            run = self.pull(self.flow)
        self.assertEqual(run.state, "failed")
        self.assertIn("cannot list records page by page", run.error_message)
        self.assertIn(self.backend.display_name, run.error_message)

    def test_contract_that_cannot_page_is_refused_on_the_flow(self):
        with self.assertRaisesRegex(ValidationError, "needs the name of the page number parameter"):
            self.flow.paging_page_param = False
