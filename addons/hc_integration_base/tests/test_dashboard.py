from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import DISCARD_URL, HcIntegrationCase


@tagged("post_install", "-at_install")
class TestDashboardFigures(HcIntegrationCase):
    """Per-backend and per-flow figures: messages per hour, error rate, oldest open message, p95."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lab = cls.create_backend(name="Figures lab", code="fig_lab", base_url=DISCARD_URL)
        cls.quiet = cls.create_backend(name="Figures quiet", code="fig_quiet", base_url=DISCARD_URL)
        cls.good = cls.create_flow("fig_good", cls.lab, name="Good")
        cls.bad = cls.create_flow("fig_bad", cls.lab, name="Bad")

    def message(self, flow, state, minutes_ago, duration_ms=0):
        now = fields.Datetime.now()
        message = self.receive(flow, {"name": "x"})
        message.flush_recordset()  # queued when stored: written before the SQL below rewrites it
        self.env.cr.execute(
            "UPDATE hc_message SET state = %s, received_at = %s, done_at = %s, duration_ms = %s WHERE id = %s",
            (state, now - timedelta(minutes=minutes_ago + 1), now - timedelta(minutes=minutes_ago)
             if state in ("done", "exception", "ignored") else None, duration_ms, message.id))
        self.env.invalidate_all()
        return message

    def test_figures_per_backend_and_flow(self):
        for i in range(18):
            self.message(self.good, "done", 10, duration_ms=100 + i)
        self.message(self.good, "done", 10, duration_ms=5000)  # the slow one sits above the 95th percentile
        self.message(self.good, "done", 10, duration_ms=9000)
        self.message(self.good, "done", 60 * 30, duration_ms=99999)  # older than 24 h: out of the window
        self.message(self.bad, "exception", 45, duration_ms=200)
        self.message(self.bad, "exception", 20, duration_ms=200)
        self.message(self.good, "queued", 0)
        backends = self.lab | self.quiet
        with self.assertQueryCount(1):
            # One grouped query for every backend on the screen, whatever their number.
            figures = backends.read(["fig_per_hour", "fig_error_rate", "fig_p95_ms", "fig_pending",
                                     "fig_exceptions", "fig_oldest_minutes", "fig_oldest_label"])
        lab, quiet = figures
        self.assertAlmostEqual(lab["fig_per_hour"], 22 / 24, places=1)
        self.assertAlmostEqual(lab["fig_error_rate"], 100.0 * 2 / 22, places=1)
        self.assertEqual(lab["fig_p95_ms"], 5000)
        self.assertEqual((lab["fig_pending"], lab["fig_exceptions"]), (1, 2))
        # The oldest open message is the first exception (46 minutes ago): waiting for a person.
        self.assertAlmostEqual(lab["fig_oldest_minutes"], 46, delta=1)
        self.assertEqual(lab["fig_oldest_label"], "46 min")
        self.assertEqual((quiet["fig_per_hour"], quiet["fig_error_rate"], quiet["fig_oldest_label"]),
                         (0, 0, "none open"))
        flows = self.good | self.bad
        with self.assertQueryCount(1):
            good, bad = flows.read(["fig_error_rate", "fig_exceptions", "fig_oldest_minutes"])
        self.assertEqual((good["fig_error_rate"], bad["fig_error_rate"]), (0, 100))
        self.assertEqual(bad["fig_exceptions"], 2)
        self.assertAlmostEqual(good["fig_oldest_minutes"], 1, delta=1)

    def test_exception_queue_of_a_backend(self):
        failed = self.message(self.bad, "exception", 5)
        self.message(self.create_flow("fig_other", self.quiet, name="Other"), "exception", 5)
        action = self.lab.action_view_exceptions()
        self.assertEqual(self.env["hc.message"].search(action["domain"] + [("state", "=", "exception")]), failed)

    def test_workflow_card_sums_the_flows_of_its_object_types(self):
        for i in range(4):
            self.message(self.good, "done", 10, duration_ms=100 + i)
        failed = self.message(self.bad, "exception", 45, duration_ms=200)
        self.message(self.good, "queued", 0)
        Workflow = self.env["hc.workflow"]
        generic = Workflow.create({"name": "Generic records", "object_types": "generic"})
        nothing = Workflow.create({"name": "Nothing yet", "object_types": "no_such_type"})
        self.assertLessEqual(self.good | self.bad, generic.flow_ids)
        self.assertFalse(nothing.flow_ids)
        workflows = generic | nothing
        workflows.invalidate_recordset()
        # The cards, the flows of all of them, one grouped query for their figures: whatever their number.
        with self.assertQueryCount(3):
            card, empty = workflows.read(["fig_per_hour", "fig_pending", "fig_exceptions", "fig_oldest_minutes"])
        flows = generic.flow_ids.read(["fig_per_hour", "fig_pending", "fig_exceptions", "fig_oldest_minutes"])
        self.assertEqual(card["fig_exceptions"], sum(f["fig_exceptions"] for f in flows))
        self.assertEqual(card["fig_pending"], sum(f["fig_pending"] for f in flows))
        self.assertAlmostEqual(card["fig_per_hour"], sum(f["fig_per_hour"] for f in flows), places=3)
        self.assertAlmostEqual(card["fig_oldest_minutes"], max(f["fig_oldest_minutes"] for f in flows), places=3)
        self.assertGreaterEqual((card["fig_exceptions"], card["fig_pending"]), (1, 1))
        self.assertEqual((empty["fig_per_hour"], empty["fig_exceptions"]), (0, 0))
        # A flow a consultant adds with one of the card's types joins it; its exception queue is the card's.
        later = self.create_flow("fig_later", self.quiet, name="Later")
        generic.invalidate_recordset()
        self.assertIn(later, generic.flow_ids)
        action = generic.action_view_exceptions()
        self.assertIn(failed, self.env["hc.message"].search(action["domain"]))
        self.assertFalse(self.env["hc.message"].search(nothing.action_view_exceptions()["domain"]))

    def test_workflow_cards_are_read_by_every_role_and_changed_by_administrators_only(self):
        self.setup_users()
        card = self.env["hc.workflow"].create({"name": "Generic records", "object_types": "generic"})
        for role in ("viewer", "operator", "consultant"):
            user = self.users[role]
            self.assertEqual(card.with_user(user).read(["name"])[0]["name"], "Generic records", role)
            with self.assertRaises(AccessError, msg=role):
                card.with_user(user).write({"object_types": "generic other"})
            with self.assertRaises(AccessError, msg=role):
                self.env["hc.workflow"].with_user(user).create({"name": "Mine", "object_types": "generic"})
        card.with_user(self.users["admin"]).write({"object_types": "generic other"})
        self.assertEqual(card.object_types, "generic other")
