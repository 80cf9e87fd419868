import json

from odoo import api, fields, models
from odoo.exceptions import ValidationError

# Models no flow may ever write, whatever the allow-list says: users, groups and access rights
# (writing them is a privilege escalation), Odoo's technical models, the job queue and the
# integration's own configuration (a flow rewriting its backend, mappings or allow-list).
FORBIDDEN_PREFIXES = ("ir.", "res.users", "res.groups", "hc.", "queue.", "base.", "bus.", "auth.", "res.device")
FORBIDDEN_MODELS = frozenset({"res.company", "res.config.settings", "change.password.wizard",
                              "change.password.user", "change.password.own"})


def is_forbidden_model(name):
    """Whether no flow may write records of model ``name`` (nor link them through a field)."""
    return not name or name in FORBIDDEN_MODELS or name.startswith(FORBIDDEN_PREFIXES)


class HcAllowedModel(models.Model):
    """One Odoo model that integration flows may create and update records of.

    Administrators manage the list; consultants pick a flow's model from it and cannot widen it.
    A flow's mapping can only write fields of that model (and lines of its one2many fields), and
    never a field linking to a forbidden model (users, groups, access rights, ``ir.*``,
    the integration's configuration).
    """

    _name = "hc.allowed.model"
    _description = "Integration: model flows may write"
    _order = "model_name"
    _rec_name = "model_id"

    model_id = fields.Many2one("ir.model", string="Model", required=True, ondelete="cascade", index=True)
    model_name = fields.Char(related="model_id.model", store=True, string="Technical name")
    note = fields.Char(help="Why flows may write this model (e.g. the addon or flow that needs it).")

    _model_uniq = models.Constraint("unique(model_id)", "This model is already allowed.")

    @api.constrains("model_id")
    def _check_model(self):
        for allowed in self:
            if is_forbidden_model(allowed.model_id.model):
                raise ValidationError(self.env._(
                    "%(model)s (%(name)s) can never be written by an integration flow: users, groups, "
                    "access rights, technical models and the integration's own configuration stay out of reach.",
                    model=allowed.model_id.name, name=allowed.model_id.model,
                ))

    @api.model
    def _is_allowed(self, model_name):
        return not is_forbidden_model(model_name) and bool(
            self.sudo().search_count([("model_name", "=", model_name)], limit=1)
        )


class IrModel(models.Model):
    _inherit = "ir.model"

    hc_allowed_ids = fields.One2many("hc.allowed.model", "model_id", string="Allowed for integration flows")


class HcFlow(models.Model):
    _inherit = "hc.flow"

    model_id = fields.Many2one(
        domain="[('hc_allowed_ids', '!=', False)]",
        help="Odoo model the flow's records are applied to; only models an administrator allowed "
        "(Integrations > Configuration > Allowed models) can be chosen.",
    )

    @api.constrains("model_id")
    def _check_model_allowed(self):
        Allowed = self.env["hc.allowed.model"]
        for flow in self.filtered("model_id"):
            if not Allowed._is_allowed(flow.model_id.model):
                raise ValidationError(flow._model_refusal())

    def _model_refusal(self):
        self.ensure_one()
        return self.env._(
            "Flow %(flow)s cannot write %(model)s (%(name)s): it is not on the administrators' list of "
            "models integration flows may write.",
            flow=self.name, model=self.sudo().model_id.name, name=self.model_name,
        )


class HcMappingLine(models.Model):
    _inherit = "hc.mapping.line"

    @api.constrains("target", "params", "mapping_id")
    def _check_target_reach(self):
        for line in self.filtered("target_model"):
            line._check_reach(self.env[line.target_model], line.target, json.loads(line.params or "{}"))

    def _check_reach(self, model, target, params):
        """Refuse a target linking to a forbidden model, also inside one2many sub-lines."""
        field = model._fields.get(target)
        if field is None or not field.relational:
            return
        if is_forbidden_model(field.comodel_name):
            raise ValidationError(self.env._(
                "Line %(seq)s writes %(field)s, which links to %(comodel)s: integration flows can never "
                "write users, groups, access rights or technical records.",
                seq=self.sequence, field=f"{model._name}.{target}", comodel=field.comodel_name,
            ))
        for sub in params.get("lines") or []:
            if isinstance(sub, dict) and sub.get("target"):
                self._check_reach(self.env[field.comodel_name], sub["target"], sub.get("params") or {})
