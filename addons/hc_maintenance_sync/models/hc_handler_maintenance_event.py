from odoo import api, fields, models

from odoo.addons.hc_integration_base.exceptions import PermanentError
from odoo.addons.hc_integration_base.models.hc_binding import content_hash

# Canonical priority -> Odoo's request priority.
PRIORITY = {"low": "1", "normal": "2", "high": "3", "urgent": "3"}
HIGH = "3"


class HcHandlerMaintenanceEvent(models.AbstractModel):
    """Maintenance events of a legacy CMMS (schemas/maintenance_event.v1.json) -> maintenance
    requests, one per work order reference.

    A new request is routed to a team by the routing rules (hc.maintenance.route: first match on
    event type, site, location, equipment category, priority, criticality), else the flow's default
    team, else the company's first team; its technician is the equipment's, else its category's.
    A breakdown of critical equipment is urgent: its message runs on the backend's urgent channel
    (priority 0) and the request gets the high priority. A later event of the same work order
    updates subject, description, priority and schedule, never the team, technician or stage a
    planner may have changed; an unchanged one writes nothing.
    """

    _name = "hc.handler.maintenance_event"
    _inherit = "hc.handler.document"
    _description = "Integration Handler: maintenance event"
    _document_schema = "hc_maintenance_sync/schemas/maintenance_event.v1.json"
    _document_key = "reference"
    _record_model = "maintenance.request"

    # --- urgency (decided when the message is queued) ---------------------------------------------
    @api.model
    def _is_urgent(self, message):
        if message.flow_id.urgent:
            return True
        for document in self._documents_or_none(message):
            if document.get("event_type") == "breakdown" and self._equipment(message, document).hc_critical:
                return True
        return False

    # --- references --------------------------------------------------------------------------------
    @api.model
    def _code(self, value):
        return str(value).strip() if value not in (None, "") else None

    @api.model
    def _equipment(self, message, document):
        code = self._code(document.get("equipment_code"))
        Equipment = self.env["maintenance.equipment"].with_context(active_test=False)
        if not code:
            return Equipment
        return self._applied(message, "maintenance.equipment", code) or Equipment.search(
            [("hc_code", "=", code)], limit=1)

    @api.model
    def _required_equipment(self, message, document):
        equipment = self._equipment(message, document)
        code = self._code(document.get("equipment_code"))
        if code and not equipment:
            flows = self.env["hc.flow"].sudo().search([
                ("backend_id", "=", message.backend_id.id), ("object_type", "=", "equipment"),
                ("direction", "in", ("pull", "inbound"))])
            self._missing_reference(message, flows, self.env._(
                "Maintenance event %(reference)s: unknown equipment %(code)s (not received from %(backend)s yet).",
                reference=document.get("reference"), code=code, backend=message.backend_id.name))
        return equipment

    # --- routing -----------------------------------------------------------------------------------
    @api.model
    def _facts(self, document, equipment, priority):
        return {
            "event_type": document["event_type"],
            "site": document.get("site") or equipment.hc_site,
            "location": document.get("location") or equipment.hc_location,
            "category": equipment.category_id,
            "priority": priority,
            "critical": equipment.hc_critical,
        }

    @api.model
    def _team(self, message, facts):
        """``(team, rule)``: the first matching rule's team, else the flow's default, else the company's."""
        route = self.env["hc.maintenance.route"]._route(facts, message.backend_id.company_id)
        if route:
            return route.team_id, route
        company = message.backend_id.company_id
        team = message.flow_id.sudo().hc_maintenance_team_id or self.env["maintenance.team"].search(
            [("company_id", "in", [company.id, False])], order="company_id, id", limit=1)
        if not team:
            raise PermanentError(self.env._(
                "Maintenance event %s: no routing rule matches and there is no maintenance team to fall back on: "
                "create a team, or name the default team on the flow.", facts.get("reference") or ""),
                category="mapping")
        return team, route

    # --- applying -----------------------------------------------------------------------------------
    @api.model
    def _datetime(self, document, key):
        value = document.get(key)
        if not value:
            return False
        try:
            return fields.Datetime.to_datetime(str(value).replace("T", " ")[:19])
        except ValueError as exc:
            raise PermanentError(self.env._(
                "Maintenance event %(reference)s: %(key)s %(value)s is not a date-time (YYYY-MM-DDTHH:MM:SS).",
                reference=document.get("reference"), key=key, value=value), category="validation") from exc

    @api.model
    def _apply_document(self, message, document):
        reference = self._code(document.get("reference"))
        if not reference:
            raise PermanentError(self.env._("The maintenance event names no work order reference."),
                                 category="mapping")
        Request = self.env["maintenance.request"].with_context(hc_sync_apply=True)
        request = self._applied(message, "maintenance.request", reference)
        binding = self.env["hc.binding"].sudo()._lookup(message.backend_id, "maintenance.request", reference)
        digest = content_hash(document)
        if request and binding.content_hash == digest:
            return request, "unchanged"
        equipment = self._required_equipment(message, document)
        event_type = document["event_type"]
        urgent = event_type == "breakdown" and equipment.hc_critical
        priority = HIGH if urgent else PRIORITY.get(document.get("priority") or "normal", "2")
        reported = self._datetime(document, "reported_at")
        values = {
            "name": (document.get("title") or "").strip() or self.env._(
                "%(type)s: %(equipment)s", type=dict(self.env["maintenance.request"]._fields[
                    "hc_event_type"]._description_selection(self.env))[event_type],
                equipment=equipment.display_name or reference),
            "description": document.get("description") or False,
            "priority": priority,
            "schedule_date": self._datetime(document, "scheduled_at"),
            "hc_urgent": urgent,
        }
        if request:
            request = request.with_context(hc_sync_apply=True)
            changed = {k: v for k, v in values.items() if (request[k] or False) != (v or False)}
            if changed:
                request.write(changed)
            effect = "updated"
        else:
            facts = self._facts(document, equipment, priority)
            team, route = self._team(message, {**facts, "reference": reference})
            request = Request.with_context(mail_create_nolog=True).create({
                **values,
                "hc_work_order": reference,
                "hc_event_type": event_type,
                "hc_site": facts["site"] or False,
                "hc_location": facts["location"] or False,
                "maintenance_type": "preventive" if event_type == "preventive" else "corrective",
                "equipment_id": equipment.id or False,
                "maintenance_team_id": team.id,
                "hc_route_id": route.id or False,
                "user_id": (equipment.technician_user_id or equipment.category_id.technician_user_id).id or False,
                "request_date": reported.date() if reported else fields.Date.context_today(self),
                "company_id": message.backend_id.company_id.id,
            })
            effect = "created"
        self._bind(message, request, reference).write({"content_hash": digest, "last_sync": fields.Datetime.now()})
        return request, effect
