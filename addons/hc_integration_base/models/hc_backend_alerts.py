from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models

from ..lifecycle import EXCEPTION, PENDING, PROCESSED


class HcBackend(models.Model):
    """Alert thresholds of a backend: rules crossing them are announced once when they open and close."""

    _inherit = "hc.backend"

    # --- alerts -------------------------------------------------------------------------------------
    # An alert is a rule crossing its threshold: it is announced when it opens and when it closes,
    # never while it stays open, whatever its figures do meanwhile (a growing backlog, an ageing
    # message). The open rules are kept by key, the sentences only for display.
    alert_open_rules = fields.Char(
        readonly=True, copy=False,
        help="Keys of the alert rules crossed at the last check (error_rate, backlog, oldest:<flow id>), "
        "space-separated: a rule already open is not announced again.",
    )

    def _alert_findings(self):
        """``{rule key: sentence}`` for each threshold this backend crosses now (empty when healthy).

        Rules: ``error_rate`` and ``backlog`` per backend; ``oldest:<flow id>`` per flow (``oldest:0``
        for messages without a flow), whose age limit follows the flow's latency class and criticality.
        """
        self.ensure_one()
        Message = self.env["hc.message"].sudo()
        now = fields.Datetime.now()
        findings = {}
        finished = Message.search_count([
            ("backend_id", "=", self.id), ("done_at", ">=", now - timedelta(hours=1)),
            ("state", "in", PROCESSED),
        ])
        failed = Message.search_count([
            ("backend_id", "=", self.id), ("done_at", ">=", now - timedelta(hours=1)), ("state", "=", EXCEPTION),
        ])
        if finished and self.alert_error_rate and 100.0 * failed / finished > self.alert_error_rate:
            findings["error_rate"] = self.env._(
                "Error rate %(rate).0f%% over the last hour (%(failed)s of %(total)s messages), above %(limit).0f%%.",
                rate=100.0 * failed / finished, failed=failed, total=finished, limit=self.alert_error_rate,
            )
        pending_domain = [("backend_id", "=", self.id), ("state", "in", PENDING)]
        # One grouped query: the backlog and the oldest pending message of each flow.
        groups = Message._read_group(pending_domain, ["flow_id"], ["__count", "received_at:min"])
        backlog = sum(count for _flow, count, _oldest in groups)
        if self.alert_backlog and backlog > self.alert_backlog:
            findings["backlog"] = self.env._(
                "%(count)s messages wait to be processed, above %(limit)s.", count=backlog, limit=self.alert_backlog
            )
        if self.alert_oldest_minutes:
            for flow, _count, oldest in sorted(groups, key=lambda g: g[0].id):
                if not oldest:
                    continue
                limit = flow._alert_oldest_minutes() if flow else self.alert_oldest_minutes
                age = (now - oldest).total_seconds() / 60
                if age <= limit:
                    continue
                if flow:
                    findings[f"oldest:{flow.id}"] = self.env._(
                        "The oldest pending message of %(flow)s has waited %(age).0f minutes, above %(limit)s.",
                        flow=flow.name, age=age, limit=limit,
                    )
                else:
                    findings["oldest:0"] = self.env._(
                        "The oldest pending message has waited %(age).0f minutes, above %(limit)s.",
                        age=age, limit=limit,
                    )
        return findings

    def _alert_rule_label(self, key):
        """What a rule watches, for the message announcing that it is back to normal."""
        self.ensure_one()
        if key == "error_rate":
            return self.env._("error rate")
        if key == "backlog":
            return self.env._("backlog")
        flow_id = int(key.partition(":")[2] or 0) if key.startswith("oldest:") else 0
        flow = self.env["hc.flow"].sudo().with_context(active_test=False).browse(flow_id).exists()
        if flow:
            return self.env._("age of the oldest pending message of %s", flow.name)
        return self.env._("age of the oldest pending message")

    @api.model
    def _cron_check_alerts(self):
        """Announce each rule once when it crosses its threshold (a post, an activity for the
        responsible people) and once when it is back under it (a post)."""
        for backend in self.search([]):
            findings = backend._alert_findings()
            was_open = set((backend.alert_open_rules or "").split())
            opened = [key for key in findings if key not in was_open]
            closed = sorted(was_open - set(findings))
            values = {}
            text = "\n".join(findings.values()) or False
            if text != (backend.alert_state or False):
                values["alert_state"] = text
            keys = " ".join(sorted(findings)) or False
            if keys != (backend.alert_open_rules or False):
                values["alert_open_rules"] = keys
            if values:
                backend.sudo().write(values)
            if closed:
                labels = ", ".join(backend._alert_rule_label(key) for key in closed)
                body = self.env._("Back to normal: %s.", labels)
                if not findings:
                    body = self.env._("Back to normal: %s. No alert threshold is crossed.", labels)
                backend.message_post(body=body)
            if opened:
                backend._alert_announce([findings[key] for key in opened])

    def _alert_announce(self, sentences):
        """A post naming the responsible people and an activity for each of them (at most five)."""
        self.ensure_one()
        users = self.responsible_user_id or self.responsible_group_id.user_ids
        body = Markup("<p>%s</p><ul>%s</ul>") % (
            self.env._("Integration alert for %s:", self.name),
            Markup("").join(Markup("<li>%s</li>") % sentence for sentence in sentences),
        )
        self.message_post(
            body=body, partner_ids=users.partner_id.ids, message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        for user in users[:5]:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("Integration alert: %s", sentences[0][:80]),
                note=body,
                user_id=user.id,
            )
