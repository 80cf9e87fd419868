from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import budget_states as states
from .crossovered_budget import POLICY_RANK
from .crossovered_budget_lines import distribution_accounts, distribution_share


class PurchaseOrder(models.Model):
    """Confirming an order checks the budgets of its cost centres (the analytic accounts of its lines'
    distributions) for the order's date: an order that would take a cost centre past its remaining
    amount follows the strictest policy of the budgets it overruns.

    - *warn*: confirmed (and pushed to the gateway as any order), with a message on the order and a
      notification to the buyer;
    - *hold*: the order goes to Odoo's *To Approve* (two-step approval) whatever the buyer's rights,
      with an activity for each budget owner; only an owner's *Approve over budget* confirms it, and
      the integration pushes it then, once (hc_procurement_sync pushes on approval);
    - *block*: the confirmation fails, naming the cost centre, the budget and its amounts.
    """

    _inherit = "purchase.order"

    hc_budget_state = fields.Selection(
        states.STATES, string="Budget check", readonly=True, copy=False,
        help="What the budgets of the order's cost centres said when it was confirmed (empty: no budget "
        "funds its cost centres).")
    # budget_states.OVER as a flag, for views and filters (which never spell a set of states out).
    hc_budget_over = fields.Boolean(
        "Over budget", compute="_compute_hc_budget_over", search="_search_hc_budget_over",
        help="The order goes past a budget's remaining amount: confirmed with a warning, held or approved so.")
    hc_budget_note = fields.Text("Budget overrun", readonly=True, copy=False)
    hc_budget_ids = fields.Many2many(
        "crossovered.budget", "hc_purchase_order_budget_rel", "order_id", "budget_id", string="Budgets overrun",
        readonly=True, copy=False)
    hc_budget_owner_ids = fields.Many2many(
        "res.users", compute="_compute_hc_budget_owner_ids", string="Budget owners",
        help="Who may approve this order over budget.")
    hc_budget_can_approve = fields.Boolean(compute="_compute_hc_budget_owner_ids")

    @api.depends("hc_budget_state")
    def _compute_hc_budget_over(self):
        for order in self:
            order.hc_budget_over = order.hc_budget_state in states.OVER

    def _search_hc_budget_over(self, operator, value):
        # Odoo gives boolean searches as ``in`` / ``not in`` ``[True]``.
        if operator not in ("in", "not in"):
            return NotImplemented
        return [("hc_budget_state", operator, states.OVER)]

    @api.depends_context("uid")
    @api.depends("hc_budget_ids.creating_user_id", "hc_budget_state")
    def _compute_hc_budget_owner_ids(self):
        for order in self:
            order.hc_budget_owner_ids = order.sudo().hc_budget_ids.creating_user_id
            order.hc_budget_can_approve = order.hc_budget_state == states.HELD and order._hc_may_approve_budget()

    # --- the check -----------------------------------------------------------------------------------
    def _hc_budget_overruns(self):
        """``(checked, [(budget line, committed, remaining, order amount)])``: whether a budget funds the
        order's cost centres, and the budget lines this order would take past their remaining amount."""
        self.ensure_one()
        lines = self.order_line.filtered(lambda ln: not ln.display_type and ln.analytic_distribution)
        day = fields.Date.context_today(self, self.date_order) if self.date_order else fields.Date.context_today(self)
        BudgetLine = self.env["crossovered.budget.lines"]
        overruns, checked = [], False
        for account in self.env["account.analytic.account"].sudo().browse(
                sorted(distribution_accounts(lines.mapped("analytic_distribution")))).exists():
            amount = sum(ln._hc_amount() * distribution_share(ln.analytic_distribution, account.id) for ln in lines)
            if amount <= 0:
                continue
            for budget_line in BudgetLine._hc_checked_lines(self.company_id, account, day):
                checked = True
                open_orders, actual = budget_line._hc_spend()[budget_line.id]
                committed = open_orders + actual
                remaining = budget_line.planned_amount - committed
                if self.company_id.currency_id.compare_amounts(amount, remaining) > 0:
                    overruns.append((budget_line, committed, remaining, amount))
        return checked, overruns

    def _hc_overrun_text(self, overruns):
        currency = self.company_id.currency_id

        def money(value):
            return f"{currency.symbol} {value:,.2f}" if currency.position == "before" \
                else f"{value:,.2f} {currency.symbol}"

        return "\n".join(self.env._(
            "Cost centre %(centre)s, budget %(budget)s: budget %(planned)s, committed %(committed)s, remaining "
            "%(remaining)s; this order %(amount)s.",
            centre=line.analytic_account_id.display_name, budget=line.crossovered_budget_id.display_name,
            planned=money(line.planned_amount), committed=money(committed), remaining=money(remaining),
            amount=money(amount),
        ) for line, committed, remaining, amount in overruns)

    def button_confirm(self):
        checked = {}
        for order in self.filtered(lambda o: o.state in ("draft", "sent")):
            funded, overruns = order._hc_budget_overruns()
            if not funded:
                continue
            policy = max((line.crossovered_budget_id.hc_policy for line, *_rest in overruns),
                         key=POLICY_RANK.get, default=None)
            if policy == "block":
                raise UserError(self.env._(
                    "%(order)s cannot be confirmed: it exceeds its budget.\n%(details)s",
                    order=order.name, details=order._hc_overrun_text(
                        [o for o in overruns if o[0].crossovered_budget_id.hc_policy == "block"])))
            checked[order] = (policy, overruns)
        for order, (policy, overruns) in checked.items():
            order.sudo().write({
                "hc_budget_state": states.BY_POLICY.get(policy, states.WITHIN),
                "hc_budget_note": order._hc_overrun_text(overruns) if overruns else False,
                "hc_budget_ids": [(6, 0, [line.crossovered_budget_id.id for line, *_rest in overruns])],
            })
        result = super().button_confirm()
        for order in checked:
            if order.hc_budget_state == states.WARNED:
                order._hc_budget_warn()
            elif order.hc_budget_state == states.HELD:
                order._hc_budget_hold()
        return result

    def _hc_budget_warn(self):
        headline = self.env._("Confirmed over budget.") if self.state == "purchase" \
            else self.env._("Over budget: warned.")
        self.message_post(
            body=Markup("<p>%s</p><p>%s</p>") % (headline,
                                                  escape(self.hc_budget_note).replace("\n", Markup("<br/>"))),
            message_type="comment", subtype_xmlid="mail.mt_note")
        self.env.user._bus_send("simple_notification", {
            "type": "warning", "sticky": True, "title": self.env._("%s is over budget", self.name),
            "message": self.hc_budget_note,
        })

    def _hc_budget_hold(self):
        note = escape(self.hc_budget_note).replace("\n", Markup("<br/>"))
        self.message_post(
            body=Markup("<p>%s</p><p>%s</p>") % (self.env._("Held for the budget owner's approval."), note),
            message_type="comment", subtype_xmlid="mail.mt_note")
        budgets = self.sudo().hc_budget_ids
        owners = budgets.creating_user_id
        if any(not budget.creating_user_id for budget in budgets):
            owners |= self.env.ref("account.group_account_manager").sudo().all_user_ids.filtered("active")[:1]
        for owner in owners:
            self.sudo().activity_schedule(
                "hc_budget_sync.mail_activity_budget_approval", user_id=owner.id,
                summary=self.env._("Approve %s over budget", self.name), note=note)

    # --- approval ------------------------------------------------------------------------------------
    def _hc_may_approve_budget(self):
        """The owners of the budgets it overran; for a budget without owner, the accounting managers."""
        self.ensure_one()
        budgets = self.sudo().hc_budget_ids
        if self.env.user in budgets.creating_user_id:
            return True
        return any(not budget.creating_user_id for budget in budgets) \
            and self.env.user.has_group("account.group_account_manager")

    def _approval_allowed(self):
        """An order held for budget is approved by its budget owner only (action_hc_budget_approve)."""
        allowed = super()._approval_allowed()
        if self.hc_budget_state == states.HELD:
            return False
        return allowed

    def button_approve(self, force=False):
        held = self.filtered(lambda o: o.hc_budget_state == states.HELD and o.state == "to approve")
        if held:
            raise UserError(self.env._(
                "%(orders)s is held for budget: only the budget owner (%(owners)s) approves it, with Approve over "
                "budget.\n%(details)s", orders=", ".join(held.mapped("name")),
                owners=", ".join(held.sudo().hc_budget_ids.creating_user_id.mapped("name")) or "-",
                details="\n".join(held.mapped("hc_budget_note"))))
        return super().button_approve(force=force)

    def action_hc_budget_approve(self):
        """The budget owner's approval of an order held for budget: it is confirmed (and pushed) now,
        unless Odoo's own two-step approval still wants a purchase manager."""
        self.ensure_one()
        if self.hc_budget_state != states.HELD or self.state != "to approve":
            raise UserError(self.env._("%s is not held for budget.", self.name))
        if not self._hc_may_approve_budget():
            raise UserError(self.env._(
                "Only the budget owner (%(owners)s) approves %(order)s over budget.", order=self.name,
                owners=", ".join(self.sudo().hc_budget_ids.creating_user_id.mapped("name")) or "-"))
        self.sudo().write({"hc_budget_state": states.APPROVED})
        activity_type = self.env.ref("hc_budget_sync.mail_activity_budget_approval")
        self.sudo().activity_ids.filtered(lambda a: a.activity_type_id == activity_type).action_feedback(
            feedback=self.env._("Approved over budget by %s.", self.env.user.name))
        self.message_post(body=self.env._("Approved over budget by %s.", self.env.user.name),
                          message_type="comment", subtype_xmlid="mail.mt_note")
        # The owner needs no purchase manager's rights to lift the hold; Odoo's own approval rule still applies.
        return self.sudo().button_approve()

    def button_cancel(self):
        result = super().button_cancel()
        activity_type = self.env.ref("hc_budget_sync.mail_activity_budget_approval")
        self.filtered(lambda o: o.state == "cancel").sudo().activity_ids.filtered(
            lambda a: a.activity_type_id == activity_type).unlink()
        return result

    def button_draft(self):
        result = super().button_draft()
        self.sudo().write({"hc_budget_state": False, "hc_budget_note": False, "hc_budget_ids": [(5,)]})
        return result

    # --- budgets follow the order's state -------------------------------------------------------------
    def write(self, vals):
        result = super().write(vals)
        if {"state", "date_order", "currency_id", "company_id"} & set(vals):
            accounts = distribution_accounts(self.order_line.mapped("analytic_distribution"))
            self.env["crossovered.budget.lines"]._hc_refresh(accounts)
        return result
