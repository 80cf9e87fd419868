from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.hc_integration_base.tests.common import DISCARD_URL, HcIntegrationCase
from odoo.addons.hc_integration_base.transports.paging import Page
from odoo.addons.queue_job.tests.common import trap_jobs


@tagged("post_install", "-at_install")
class TestSyncStatusPages(HcIntegrationCase):
    """A record a paged pull could not apply says so; Resync works on any model with a flow."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.create_backend(name="Paged master", code="paged_master", base_url=DISCARD_URL)
        cls.flow = cls.create_flow("paged_suppliers", cls.backend, name="Paged suppliers", direction="pull",
                                   mode="batch", remote_resource="/api/v1/suppliers", external_id_path="code")
        cls.mapping = cls.create_mapping(cls.flow, [{"source": "code", "target": "ref", "required": True},
                                                    {"source": "name", "target": "name", "required": True}])

    def pull_pages(self, *pages):
        with self.fetched_pages(*pages):
            return self.pull(self.flow)

    def partner(self, code):
        return self.env["res.partner"].search([("ref", "=", code)])

    def test_a_record_a_page_could_not_apply_is_failed_until_resynced(self):
        self.pull_pages(Page(records=[{"code": "PG-1", "name": "First"}, {"code": "PG-2", "name": "Second"}],
                             next=None))
        first, second = self.partner("PG-1"), self.partner("PG-2")
        self.assertEqual((first.hc_sync_state, second.hc_sync_state), ("in_sync", "in_sync"))
        # The next pull brings PG-2 without its name: the page applies PG-1 and names PG-2 among its errors.
        run = self.pull_pages(Page(records=[{"code": "PG-1", "name": "First bis"}, {"code": "PG-2"}], next=None))
        self.assertEqual(run.page_message_ids.state, "done")
        self.assertEqual(run.count_failed, 1)
        (first | second).invalidate_recordset()
        self.assertEqual(first.hc_sync_state, "in_sync")
        self.assertEqual(second.hc_sync_state, "failed")
        self.assertIn("name", second.hc_sync_error)
        Partner = self.env["res.partner"]
        self.assertIn(second, Partner.search([("hc_sync_state", "=", "failed")]))
        self.assertNotIn(second, Partner.search([("hc_sync_state", "=", "in_sync")]))
        self.assertIn(first, Partner.search([("hc_sync_state", "=", "in_sync")]))
        self.assertIn(second, Partner.search([("hc_sync_state", "!=", "in_sync")]))
        # The consultant makes the name optional; Resync applies PG-2's item from that page, alone.
        self.create_mapping(self.flow, [{"source": "code", "target": "ref", "required": True},
                                        {"source": "name", "target": "name"}])
        with trap_jobs() as trap:
            result = second.action_hc_resync()
            self.assertIn("applied again", result["params"]["message"])
            trap.assert_jobs_count(1)
            trap.perform_enqueued_jobs()
        second.invalidate_recordset()
        self.assertEqual(second.hc_sync_state, "in_sync", second.hc_sync_error)
        self.assertNotIn(second, Partner.search([("hc_sync_state", "=", "failed")]))

    def test_resync_fetches_again_what_a_legacy_system_owns_or_says_why_not(self):
        self.pull_pages(Page(records=[{"code": "PG-3", "name": "Third"}], next=None))
        bound = self.partner("PG-3")
        with trap_jobs() as trap:
            result = bound.action_hc_resync()
            trap.assert_jobs_count(1)  # the first page of a new pull of the flow
        self.assertIn("Paged suppliers", result["params"]["message"])
        self.assertEqual(self.flow.batch_run_ids.filtered(lambda r: r.state == "running").trigger, "manual")
        stranger = self.env["res.partner"].create({"name": "Created in Odoo"})
        with self.assertRaisesRegex(UserError, "came from no legacy system"):
            stranger.action_hc_resync()
        self.env["hc.flow"].search([("model_name", "=", "product.template")]).active = False
        lonely = self.env["product.template"].create({"name": "No flow here"})
        with self.assertRaisesRegex(UserError, "no active flow sends"):
            lonely.action_hc_resync()
