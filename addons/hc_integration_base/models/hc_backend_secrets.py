"""The backend's secrets and the rules around them: which fields are secrets (readable only by
Settings administrators, wiped by ``data/neutralize.sql``), the inbound API key, the jobs' user
never being an administrator, and reminders to rotate the credentials.
"""

import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

# The backend's secrets, declared once. Each is a field readable only by Settings administrators
# (groups=SECRET_GROUP, checked by a test against this list), never copied, exported or tracked;
# data/neutralize.sql wipes every column restricted to that group on the integration's models.
SECRET_GROUP = "base.group_system"
SECRET_FIELDS = (
    "auth_password",
    "api_key",
    "bearer_token",
    "oauth_client_secret",
    "tls_client_key",
    "inbound_api_key",
    "inbound_hmac_secret",
    "default_headers",
)

SECRET_COLUMNS_PARAM = "hc_integration_base.secret_columns"
# Data that can be a secret; a restricted link (the jobs' user) is a setting, not a secret.
SECRET_TYPES = ("char", "text", "binary", "html")


def secret_columns(env):
    """``table.column`` of every stored field of an ``hc.*`` model restricted to SECRET_GROUP."""
    return sorted(
        f"{model._table}.{name}"
        for model in (env[name] for name in env.registry if name.startswith("hc."))
        if not model._abstract and not model._transient
        for name, field in model._fields.items()
        if field.store and field.type in SECRET_TYPES and field.groups == SECRET_GROUP
    )


class HcBackend(models.Model):
    _inherit = "hc.backend"

    secret_rotate_by = fields.Date(
        "Rotate secrets by",
        tracking=True,
        help="The responsible user gets an activity when this date is near.",
    )
    secret_warning_days = fields.Integer(
        "Warn days before", default=14
    )

    def init(self):
        """Record the secret columns of the integration's models for data/neutralize.sql."""
        res = super().init()
        self.env["ir.config_parameter"].sudo().set_param(SECRET_COLUMNS_PARAM, ",".join(secret_columns(self.env)))
        return res

    @api.constrains("integration_user_id")
    def _check_integration_user(self):
        for backend in self.sudo():
            user = backend.integration_user_id
            if user and (user._is_superuser() or user.has_group(SECRET_GROUP)):
                raise ValidationError(self.env._(
                    "%(user)s is a Settings administrator: jobs of %(backend)s must act with an integration "
                    "user's rights only (for example Integration jobs).", user=user.name, backend=backend.name,
                ))

    def action_generate_inbound_key(self):
        """Replace the inbound API key by a random one, shown once in a notification to copy."""
        self.ensure_one()
        if not self.env.user.has_group(SECRET_GROUP):
            raise AccessError(self.env._("Only Settings administrators set inbound credentials."))
        key = secrets.token_urlsafe(32)
        self.sudo().inbound_api_key = key
        self.message_post(body=self.env._("A new inbound API key was generated; the previous one no longer works."))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("New inbound API key of %s", self.display_name),
                "message": self.env._("Copy it now and give it to the legacy system; it is not shown again: %s", key),
                "type": "warning",
                "sticky": True,
            },
        }

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
