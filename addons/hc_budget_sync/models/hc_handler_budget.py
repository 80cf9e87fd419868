from psycopg2 import IntegrityError

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.hc_integration_base.exceptions import PermanentError, ReferenceWait
from odoo.addons.hc_integration_base.lifecycle.locks import BUSY, STALE, try_claim
from odoo.addons.hc_integration_base.models.hc_binding import content_hash

BUDGET = "crossovered.budget"
LINE = "crossovered.budget.lines"
# The finance system's budget states as OCA's budget states.
BUDGET_STATES = {"approved": "validate", "closed": "done"}


class HcHandlerBudget(models.AbstractModel):
    """Approved budgets of the legacy finance system (schemas/budget.v1.json), one document per
    cost centre and period: one ``crossovered.budget`` per budget reference, one line per line
    reference, on the cost centre's analytic account.

    - The finance system owns amounts, periods and names; the policy and the owner are set in Odoo
      unless the document names them (a mapping may translate the system's control codes).
    - A document whose content hashes as at its last apply is *unchanged*: nothing is written, not
      even the budget it belongs to.
    - A cost centre not received yet waits while a cost-centre flow (of any backend of the company:
      the HR system brings them, not the finance one) may still bring it, then fails naming the code.
    """

    _name = "hc.handler.budget"
    _inherit = "hc.handler.document"
    _description = "Integration Handler: budget line"
    _document_schema = "hc_budget_sync/schemas/budget.v1.json"
    _document_key = "reference"
    _record_model = LINE

    @api.model
    def _apply_document(self, message, document):
        reference = str(document["reference"]).strip()
        digest = content_hash(document)
        line = self._applied(message, LINE, reference)
        binding = self.env["hc.binding"].sudo()._lookup(message.backend_id, LINE, reference)
        if line and binding.content_hash == digest:
            return line, "unchanged"
        company = message.backend_id.company_id or self.env.company
        date_from, date_to = self._period(document)
        self._check_currency(document, company)
        centre = self._cost_centre(message, document)
        budget = self._budget(message, document, company, date_from, date_to)
        values = {
            "crossovered_budget_id": budget.id,
            "analytic_account_id": centre.id,
            "general_budget_id": self._budget_post(message, company).id,
            "date_from": date_from,
            "date_to": date_to,
            "planned_amount": document["amount"],
        }
        if line:
            changed = {key: value for key, value in values.items()
                       if (line[key].id if isinstance(line[key], models.BaseModel) else line[key]) != value}
            if changed:
                line.write(changed)
            effect = "updated"
        else:
            line = self.env[LINE].create(values)
            effect = "created"
        self._bind(message, line, reference).write({"content_hash": digest, "last_sync": fields.Datetime.now()})
        return line, effect

    # --- the document's parts ------------------------------------------------------------------------
    @api.model
    def _period(self, document):
        try:
            date_from, date_to = fields.Date.to_date(document["date_from"]), fields.Date.to_date(document["date_to"])
        except ValueError as exc:
            raise PermanentError(self.env._("Budget line %(ref)s: its period is not two dates (YYYY-MM-DD).",
                                            ref=document["reference"]), category="validation") from exc
        if date_to < date_from:
            raise PermanentError(self.env._("Budget line %(ref)s: its period ends (%(end)s) before it starts "
                                            "(%(start)s).", ref=document["reference"], end=date_to, start=date_from),
                                 category="validation")
        return date_from, date_to

    @api.model
    def _check_currency(self, document, company):
        currency = document.get("currency")
        if currency and currency != company.currency_id.name:
            raise PermanentError(self.env._(
                "Budget line %(ref)s is in %(currency)s; budgets of %(company)s are kept in %(own)s.",
                ref=document["reference"], currency=currency, company=company.name, own=company.currency_id.name,
            ), category="validation")

    @api.model
    def _cost_centre(self, message, document):
        code = str(document["cost_centre_code"]).strip()
        plan = message.flow_id.sudo().hc_analytic_plan_id
        domain = [("code", "=", code)] + ([("plan_id", "=", plan.id)] if plan else [])
        centre = self.env["account.analytic.account"].with_context(active_test=False).search(domain, limit=1)
        if not centre:
            flows = self.env["hc.flow"].sudo().search([
                ("object_type", "=", "cost_centre"), ("direction", "in", ("pull", "inbound")),
                ("company_id", "in", [False, *(message.backend_id.company_id.ids)]),
            ])
            self._missing_reference(message, flows, self.env._(
                "Budget line %(ref)s: unknown cost centre %(code)s (no analytic account with that code%(plan)s).",
                ref=document["reference"], code=code, plan=self.env._(" in plan %s", plan.name) if plan else ""))
        return centre

    @api.model
    def _owner(self, message, document):
        email = (document.get("owner_email") or "").strip()
        if not email:
            return self.env["res.users"]
        return self.env["res.users"].sudo().search(
            ["|", ("login", "=ilike", email), ("email", "=ilike", email)], limit=1)

    @api.model
    def _budget(self, message, document, company, date_from, date_to):
        reference = str(document["budget_reference"]).strip()
        budget = self._applied(message, BUDGET, reference)
        owner = self._owner(message, document)
        values = {"name": document.get("budget_name") or reference}
        if document.get("policy"):
            values["hc_policy"] = document["policy"]
        if owner:
            values["creating_user_id"] = owner.id
        if document.get("state"):
            values["state"] = BUDGET_STATES[document["state"]]
        if not budget:
            return self._create_budget(message, reference, values, company, date_from, date_to)
        if date_from < budget.date_from:
            values["date_from"] = date_from
        if date_to > budget.date_to:
            values["date_to"] = date_to
        changed = {key: value for key, value in values.items()
                   if (budget[key].id if isinstance(budget[key], models.BaseModel) else budget[key]) != value}
        if changed:
            budget.write(changed)
        return budget

    @api.model
    def _create_budget(self, message, reference, values, company, date_from, date_to):
        """A new budget for ``reference``, once: the pages of one pull run side by side and several
        carry lines of the same budget. The page that takes the budget's lock creates it; another
        waits (no attempt spent) and finds it on its next run, also when its snapshot was taken before
        the first one committed (the claim tells; the binding's unique index would refuse a second
        budget all the same)."""
        claim = try_claim(self.env.cr, f"hc.budget:{message.backend_id.id}:{reference}")
        if claim == BUSY:
            raise ReferenceWait(self.env._("Budget %s is being created by another page of the pull.", reference))
        if claim == STALE:
            raise ReferenceWait(self.env._("Budget %s was just created by another page of the pull.", reference))
        try:
            with self.env.cr.savepoint():
                flow = message.flow_id.sudo()
                owner = flow.hc_budget_owner_id or message.backend_id.responsible_user_id
                budget = self.env[BUDGET].with_context(mail_create_nolog=True, mail_create_nosubscribe=True).create({
                    "hc_policy": flow.hc_budget_policy or "warn",
                    "creating_user_id": owner.id or False,
                    "state": "validate",
                    "company_id": company.id,
                    "date_from": date_from,
                    "date_to": date_to,
                    "hc_reference": reference,
                    **values,
                })
                self._bind(message, budget, reference)
                return budget
        except IntegrityError as exc:
            raise ReferenceWait(self.env._("Budget %s was just created by another page of the pull.",
                                           reference)) from exc

    @api.model
    def _budget_post(self, message, company):
        post = message.flow_id.sudo().hc_budget_post_id
        if post:
            return post
        try:
            return self.env[BUDGET]._hc_purchases_post(company)
        except UserError as exc:
            raise PermanentError(str(exc), category="mapping") from exc
