from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import HcIntegrationCase, MessageCase


@tagged("post_install", "-at_install")
class TestAlertEpisodes(MessageCase):
    """An alert rule is announced once when it crosses its threshold and once when it clears,
    however its figures move in between (the cron runs every five minutes)."""

    BACKEND = {"code": "alerts", "alert_error_rate": 40, "alert_backlog": 2, "alert_oldest_minutes": 30}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Backend = cls.env["hc.backend"]

    def contacts(self, *ids):
        with trap_jobs():
            return self.Message.concat(*(self.contact({"id": i, "name": i}) for i in ids))

    def age(self, messages, minutes):
        self.env.cr.execute(
            "UPDATE hc_message SET received_at = %s WHERE id IN %s",
            (fields.Datetime.now() - timedelta(minutes=minutes), tuple(messages.ids)),
        )
        messages.invalidate_recordset(["received_at"])

    def posts(self, text):
        return self.backend.message_ids.filtered(lambda m: text in (m.body or ""))

    def alert_activities(self):
        return self.backend.activity_ids.filtered(lambda a: a.summary.startswith("Integration alert"))

    def test_growing_backlog_and_ageing_message_alert_once(self):
        self.Backend._cron_check_alerts()
        self.assertFalse(self.backend.alert_open_rules)
        self.assertFalse(self.posts("Integration alert"))
        first = self.contacts("A1", "A2", "A3")
        self.age(first, 40)
        self.Backend._cron_check_alerts()
        self.assertEqual(self.backend.alert_open_rules, f"backlog oldest:{self.flow.id}")
        self.assertIn("3 messages wait to be processed", self.backend.alert_state)
        self.assertIn("has waited 40 minutes", self.backend.alert_state)
        self.assertEqual(len(self.posts("Integration alert")), 1)
        self.assertEqual(self.alert_activities().user_id, self.users["operator"])

        # Five minutes later: two more messages wait and the oldest has aged.
        second = self.contacts("A4", "A5")
        self.age(first, 45)
        self.Backend._cron_check_alerts()
        self.assertIn("5 messages wait to be processed", self.backend.alert_state, "the figures stay current")
        self.assertIn("has waited 45 minutes", self.backend.alert_state)
        self.assertEqual(len(self.posts("Integration alert")), 1, "an open rule is not announced again")
        self.assertEqual(len(self.alert_activities()), 1, "nor does it schedule another activity")

        for message in first | second:
            message._job_process()
        self.Backend._cron_check_alerts()
        self.assertFalse(self.backend.alert_state)
        self.assertFalse(self.backend.alert_open_rules)
        [normal] = self.posts("Back to normal")
        self.assertIn("backlog", normal.body)
        self.assertIn("oldest pending message of Contacts", normal.body)
        self.assertIn("No alert threshold is crossed", normal.body)
        self.Backend._cron_check_alerts()
        self.assertEqual(len(self.posts("Back to normal")), 1, "back to normal is said once")
        self.assertEqual(len(self.posts("Integration alert")), 1)

    def test_each_rule_opens_and_closes_on_its_own(self):
        self.backend.alert_oldest_minutes = 0
        with trap_jobs():
            bad = self.contact({"id": "B0", "nope": 1})
        bad._job_process()
        self.assertEqual(bad.state, "exception")
        self.Backend._cron_check_alerts()
        self.assertEqual(self.backend.alert_open_rules, "error_rate")
        self.assertEqual(len(self.posts("Integration alert")), 1)
        pending = self.contacts("B1", "B2", "B3")
        self.Backend._cron_check_alerts()
        self.assertEqual(self.backend.alert_open_rules, "backlog error_rate")
        alerts = self.posts("Integration alert")
        self.assertEqual(len(alerts), 2, "the backlog crossing is a new alert")
        self.assertIn("3 messages wait", alerts[0].body)
        self.assertNotIn("Error rate", alerts[0].body, "the error rate, still open, is not repeated")
        self.assertEqual(len(self.alert_activities()), 2)
        for message in pending:
            message._job_process()
        # 1 of 4 finished messages failed: 25 %, still above a 20 % limit.
        self.backend.alert_error_rate = 20
        self.Backend._cron_check_alerts()
        self.assertEqual(self.backend.alert_open_rules, "error_rate")
        [normal] = self.posts("Back to normal")
        self.assertIn("Back to normal: backlog.", normal.body)
        self.assertNotIn("No alert threshold", normal.body)
        self.assertIn("Error rate 25%", self.backend.alert_state)
        self.assertEqual(len(self.posts("Integration alert")), 2)


@tagged("post_install", "-at_install")
class TestFlowLatencyClass(HcIntegrationCase):
    """A flow's latency class and criticality set its channel and its oldest-pending alert."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.create_backend(code="lat", alert_backlog=0, alert_error_rate=0, alert_oldest_minutes=30)
        cls.flows = {
            latency: cls.create_flow(latency, cls.backend, name=f"Flow {latency}", object_type="generic",
                                     latency_class=latency)
            for latency in ("realtime", "minutes", "daily")
        }

    def test_age_limits(self):
        limits = {}
        for latency, flow in self.flows.items():
            for criticality in ("low", "normal", "high", "critical"):
                flow.criticality = criticality
                limits[latency, criticality] = flow._alert_oldest_minutes()
        self.assertEqual(limits, {
            ("realtime", "low"): 10, ("realtime", "normal"): 5, ("realtime", "high"): 4, ("realtime", "critical"): 2,
            ("minutes", "low"): 60, ("minutes", "normal"): 30, ("minutes", "high"): 22, ("minutes", "critical"): 15,
            ("daily", "low"): 1440, ("daily", "normal"): 720, ("daily", "high"): 540, ("daily", "critical"): 360,
        })
        self.backend.alert_oldest_minutes = 3
        self.assertEqual(self.flows["realtime"]._alert_oldest_minutes(), 2, "never later than the backend")
        self.backend.alert_oldest_minutes = 0
        self.assertEqual(self.flows["daily"]._alert_oldest_minutes(), 0, "0 on the backend: no age alert")

    def test_realtime_flow_alerts_first(self):
        with trap_jobs():
            messages = {
                latency: self.receive(flow, {"id": latency}, jobs=None, external_id=latency)
                for latency, flow in self.flows.items()
            }
        self.env.cr.execute(
            "UPDATE hc_message SET received_at = %s WHERE id IN %s",
            (fields.Datetime.now() - timedelta(minutes=8), tuple(m.id for m in messages.values())),
        )
        self.env.invalidate_all()
        self.env["hc.backend"]._cron_check_alerts()
        self.assertEqual(self.backend.alert_open_rules, f"oldest:{self.flows['realtime'].id}",
                         "8 minutes is late for a real-time flow only")
        self.assertIn("Flow realtime has waited 8 minutes, above 5", self.backend.alert_state)
        self.flows["minutes"].criticality = "critical"
        self.env.cr.execute("UPDATE hc_message SET received_at = %s WHERE id = %s",
                            (fields.Datetime.now() - timedelta(minutes=20), messages["minutes"].id))
        self.env.invalidate_all()
        self.env["hc.backend"]._cron_check_alerts()
        self.assertIn(f"oldest:{self.flows['minutes'].id}", self.backend.alert_open_rules.split(),
                      "a critical minutes flow alerts after 15 minutes")

    def test_realtime_flow_runs_on_the_urgent_channel(self):
        self.assertEqual(self.flows["realtime"].channel, "root.hc.lat.urgent")
        self.assertEqual(self.flows["minutes"].channel, "root.hc.lat")
        with trap_jobs() as trap:
            message = self.receive(self.flows["realtime"], {"id": "R1"}, jobs=None, external_id="R1")
            trap.assert_enqueued_job(message._job_process, properties={"channel": "root.hc.lat.urgent"})
        self.flows["realtime"].latency_class = "minutes"
        self.assertEqual(self.flows["realtime"].channel, "root.hc.lat")


@tagged("post_install", "-at_install")
class TestBackendAlerts(MessageCase):
    def test_thresholds_raise_one_alert_per_episode(self):
        self.backend.write({"alert_error_rate": 40, "alert_backlog": 2, "alert_oldest_minutes": 0})
        Backend = self.env["hc.backend"]
        Backend._cron_check_alerts()
        self.assertFalse(self.backend.activity_ids, "healthy: no alert")
        with trap_jobs():
            pending = [self.contact({"id": f"A{i}", "name": "x"}) for i in range(3)]
        bad = self.contact({"id": "A9", "nope": 1})
        bad._job_process()
        Backend._cron_check_alerts()
        self.assertIn("3 messages wait to be processed", self.backend.alert_state)
        self.assertIn("Error rate 100%", self.backend.alert_state)
        alerts = self.backend.activity_ids.filtered(lambda a: a.summary.startswith("Integration alert"))
        self.assertEqual(len(alerts), 1)
        self.assertEqual(alerts.user_id, self.users["operator"])
        Backend._cron_check_alerts()
        alerts = self.backend.activity_ids.filtered(lambda a: a.summary.startswith("Integration alert"))
        self.assertEqual(len(alerts), 1, "the same episode alerts once")
        for message in pending:
            message._job_process()
        self.backend.alert_error_rate = 90
        Backend._cron_check_alerts()
        self.assertFalse(self.backend.alert_state, "25% errors is under 90%, nothing waits: back to normal")
        self.assertIn("Back to normal", self.backend.message_ids[0].body)
