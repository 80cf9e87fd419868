from odoo import api, models

# Age limit (minutes) of the oldest pending message per latency class, from the backend's limit
# (its "Alert: oldest pending" field, the limit of a "minutes" flow): a real-time flow alerts after
# five minutes at most, an overnight one after twelve hours at least.
REALTIME_MAX_MINUTES = 5
OVERNIGHT_MIN_MINUTES = 12 * 60
# Criticality scales the limit: critical flows alert sooner, low ones later.
CRITICALITY_FACTOR = {"low": 2.0, "normal": 1.0, "high": 0.75, "critical": 0.5}


class HcFlow(models.Model):
    """What a flow's latency class and criticality drive: its channel and its age alert."""

    _inherit = "hc.flow"

    @api.depends("backend_id.code", "urgent", "latency_class")
    def _compute_channel(self):
        for flow in self:
            flow.channel = flow.backend_id._channel_name(urgent=flow.urgent or flow.latency_class == "realtime")

    def _alert_oldest_minutes(self):
        """Minutes a message of this flow may wait before its backend alerts (0: never)."""
        self.ensure_one()
        base = self.backend_id.alert_oldest_minutes
        if not base:
            return 0
        if self.latency_class == "realtime":
            base = min(base, REALTIME_MAX_MINUTES)
        elif self.latency_class == "daily":
            base = max(base, OVERNIGHT_MIN_MINUTES)
        return max(1, round(base * CRITICALITY_FACTOR.get(self.criticality, 1.0)))
