from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models


class HcBackend(models.Model):
    """Alert thresholds and secret rotation reminders of a backend."""

    _inherit = "hc.backend"

    # --- alerts -------------------------------------------------------------------------------------
    def _alert_findings(self):
        """Sentences for each threshold this backend crosses now (empty when healthy)."""
        self.ensure_one()
        Message = self.env["hc.message"].sudo()
        now = fields.Datetime.now()
        findings = []
        finished = Message.search_count([
            ("backend_id", "=", self.id), ("done_at", ">=", now - timedelta(hours=1)),
            ("state", "in", ("done", "exception")),
        ])
        failed = Message.search_count([
            ("backend_id", "=", self.id), ("done_at", ">=", now - timedelta(hours=1)), ("state", "=", "exception"),
        ])
        if finished and self.alert_error_rate and 100.0 * failed / finished > self.alert_error_rate:
            findings.append(self.env._(
                "Error rate %(rate).0f%% over the last hour (%(failed)s of %(total)s messages), above %(limit).0f%%.",
                rate=100.0 * failed / finished, failed=failed, total=finished, limit=self.alert_error_rate,
            ))
        pending_domain = [("backend_id", "=", self.id), ("state", "in", ("new", "queued", "processing",
                                                                          "failed_retrying"))]
        backlog = Message.search_count(pending_domain)
        if self.alert_backlog and backlog > self.alert_backlog:
            findings.append(self.env._(
                "%(count)s messages wait to be processed, above %(limit)s.", count=backlog, limit=self.alert_backlog
            ))
        oldest = Message.search(pending_domain, order="received_at", limit=1)
        if oldest and self.alert_oldest_minutes:
            age = (now - oldest.received_at).total_seconds() / 60
            if age > self.alert_oldest_minutes:
                findings.append(self.env._(
                    "The oldest pending message has waited %(age).0f minutes, above %(limit)s.",
                    age=age, limit=self.alert_oldest_minutes,
                ))
        return findings

    @api.model
    def _cron_check_alerts(self):
        """Raise an activity and send a mail when a backend crosses a threshold (once per episode)."""
        for backend in self.search([]):
            findings = backend._alert_findings()
            text = "\n".join(findings)
            if text == (backend.alert_state or ""):
                continue
            backend.sudo().alert_state = text or False
            if not findings:
                backend.message_post(body=self.env._("Back to normal: no alert threshold is crossed."))
                continue
            users = backend.responsible_user_id or backend.responsible_group_id.user_ids
            body = Markup("<p>%s</p><ul>%s</ul>") % (
                self.env._("Integration alert for %s:", backend.name),
                Markup("").join(Markup("<li>%s</li>") % f for f in findings),
            )
            backend.message_post(
                body=body, partner_ids=users.partner_id.ids, message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
            for user in users[:5]:
                backend.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self.env._("Integration alert: %s", findings[0][:80]),
                    note=body,
                    user_id=user.id,
                )

    # --- secrets rotation -----------------------------------------------------------------------------
    @api.model
    def _cron_check_secret_rotation(self):
        """Schedule one activity per backend whose secrets must be rotated soon."""
        today = fields.Date.context_today(self)
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        for backend in self.search([("secret_rotate_by", "!=", False)]):
            if backend.secret_rotate_by > today + timedelta(days=backend.secret_warning_days):
                continue
            user = backend.responsible_user_id or self.env.user
            summary = self.env._("Rotate the credentials of %s", backend.name)
            if backend.activity_ids.filtered(lambda a, s=summary: a.summary == s):
                continue
            backend.activity_schedule(
                activity_type_id=activity_type.id,
                summary=summary,
                note=self.env._(
                    "The secrets of this backend must be rotated by %s.",
                    backend.secret_rotate_by,
                ),
                date_deadline=backend.secret_rotate_by,
                user_id=user.id,
            )
