import logging

from psycopg2 import IntegrityError

from odoo import api, models

_logger = logging.getLogger(__name__)

INTEGRATION_USER = "hc_integration_base.user_integration"


class ResCompany(models.Model):
    _inherit = "res.company"

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        user = self.env.ref(INTEGRATION_USER, raise_if_not_found=False)
        if user:
            user.sudo().company_ids = [(4, company.id) for company in companies]
        return companies

    def _register_hook(self):
        """The default user integration jobs act as, created once the whole registry is loaded.

        Not in a data file: when the base addon is updated on an existing database, its data loads
        before addons it does not depend on (account), whose NOT NULL columns on res.partner would
        refuse the new user. No password: nobody logs in as it. Its rights are the jobs' group (each
        domain addon adds its business rights there); it may work in every company (each job runs in
        its backend's company, and shared records such as products name taxes of several)."""
        super()._register_hook()
        env = self.env(su=True)
        if env.ref(INTEGRATION_USER, raise_if_not_found=False) or "hc.backend" not in env:
            return
        try:
            with env.cr.savepoint():
                user = env["res.users"].with_context(no_reset_password=True, tracking_disable=True).create({
                    "name": "Integration jobs",
                    "login": "hc_integration_jobs",
                    "group_ids": [(6, 0, [env.ref("hc_integration_base.group_hc_job").id])],
                    "company_ids": [(6, 0, env["res.company"].search([]).ids)],
                })
                env["ir.model.data"].create({
                    "module": "hc_integration_base", "name": "user_integration", "model": "res.users",
                    "res_id": user.id, "noupdate": True,
                })
        except IntegrityError:  # another process created it meanwhile
            _logger.info("The integration jobs user was created by another process")
