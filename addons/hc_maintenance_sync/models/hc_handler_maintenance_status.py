from odoo import api, fields, models

from odoo.addons.hc_integration_base.exceptions import PermanentError

from .maintenance import PUSHED_STATUSES


class HcHandlerMaintenanceStatus(models.AbstractModel):
    """Status changes of requests that came from a legacy CMMS, pushed back to it
    (schemas/maintenance_status.v1.json): in progress, done (with the hours worked), cancelled.

    Exactly once per request and status, on two levels: the message's idempotency key names the
    request, its status and its resync revision (``_status_key``), so a request moved into a stage
    whose status was queued already gets a *duplicate* message that sends nothing; and the document
    carries the wire key ``<work order>:<status>``, the same at every sending, that the CMMS records
    once — a retry after a timeout (the CMMS recorded the change, its answer got lost) is answered
    with the first answer. The flow's outbound mapping writes the CMMS's request, its response
    mapping reads the answer; a rejection is noted on the request and lands in the exception queue.
    Queued by the flow's sending rule (base_automation on a change of stage).
    """

    _name = "hc.handler.maintenance_status"
    _inherit = "hc.handler.push"
    _description = "Integration Handler: maintenance status"
    _document_schema = "hc_maintenance_sync/schemas/maintenance_status.v1.json"
    _record_model = "maintenance.request"
    _status_push = True

    @api.model
    def _status(self, request):
        status = request.stage_id.hc_status
        return status if status in PUSHED_STATUSES else None

    @api.model
    def _status_key(self, flow, request):
        """The message key of this request's current status (None: nothing to send)."""
        status = self._status(request)
        if not status or not request.hc_work_order:
            return None
        return f"maintenance_status:{status}:r{request.hc_push_revision}"

    @api.model
    def _duration(self, request):
        if request.duration:
            return round(request.duration, 2)
        if request.hc_started_at:
            return round((fields.Datetime.now() - request.hc_started_at).total_seconds() / 3600, 2)
        return None

    @api.model
    def _prepare_payload(self, flow, request):
        status = self._status(request)
        if not status or not request.hc_work_order:
            raise PermanentError(self.env._(
                "Request %s came from no CMMS work order or is in a stage with no status to send.",
                request.display_name), category="mapping")
        return {
            "reference": request.hc_work_order,
            "status": status,
            "changed_at": fields.Datetime.now().strftime("%Y-%m-%dT%H:%M:%S"),
            "duration_hours": self._duration(request) if status == "done" else None,
            "technician": request.user_id.name or None,
            "team": request.maintenance_team_id.name or None,
            "note": request.stage_id.name or None,
            "idempotency_key": f"{request.hc_work_order}:{status}",
        }

    @api.model
    def _record_answer(self, message, request, ack):
        request.sudo().with_context(hc_sync_apply=True).write({
            "hc_remote_state": ack["status"], "hc_remote_reason": ack.get("reason") or False})

    @api.model
    def _rejection_text(self, message, request, ack):
        return self.env._("%(backend)s refused the status of %(request)s: %(reason)s",
                          backend=message.backend_id.name, request=request.display_name, reason=ack.get("reason"))
