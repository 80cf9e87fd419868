"""Figures of each backend and flow: throughput, error rate, oldest open message, p95 duration.

One grouped SQL query serves a whole recordset (a dashboard of every backend, the flows of a
backend form): nothing is computed record by record. The state sets come from
``lifecycle`` and reach SQL as parameters.

Windows: throughput, error rate and p95 duration cover the messages that ended in the last
``FIGURES_WINDOW_HOURS`` hours (by their end time); the oldest open message and the counts of
pending and failed messages are about now, whatever their age.
"""

from datetime import timedelta

from odoo import fields, models
from odoo.tools import SQL

from ..lifecycle import ENDED, NEEDS_PERSON, OPEN, PENDING

FIGURES_WINDOW_HOURS = 24


def message_figures(env, column, ids):
    """``{id: figures}`` for the backends or flows ``ids`` (``column``: ``backend_id`` or ``flow_id``)."""
    if not ids:
        return {}
    return _figures(env, SQL("hc_message.%s", SQL.identifier(column)), SQL(),
                    SQL("hc_message.%s = ANY(%s)", SQL.identifier(column), list(ids)))


def grouped_figures(env, flows_by_key):
    """``{key: figures}`` over the messages of each group of flows (``{key: [flow id, ...]}``): one
    query for every group, a flow may be in several."""
    pairs = [(key, flow) for key, flows in flows_by_key.items() for flow in flows]
    if not pairs:
        return {}
    keys, flows = zip(*pairs, strict=True)
    join = SQL("JOIN unnest(%s::int[], %s::int[]) AS grp(key, flow) ON grp.flow = hc_message.flow_id",
               list(keys), list(flows))
    return _figures(env, SQL("grp.key"), join, SQL("TRUE"))


def _figures(env, key, join, where):
    env["hc.message"].flush_model(["backend_id", "flow_id", "state", "done_at", "received_at", "duration_ms"])
    now = fields.Datetime.now()
    since = now - timedelta(hours=FIGURES_WINDOW_HOURS)
    in_window = SQL("(hc_message.state = ANY(%s) AND hc_message.done_at >= %s)", list(ENDED), since)
    rows = env.execute_query(SQL(
        """SELECT %(key)s,
                  count(*) FILTER (WHERE %(win)s),
                  count(*) FILTER (WHERE %(win)s AND hc_message.state = ANY(%(failed)s)),
                  percentile_disc(0.95) WITHIN GROUP (ORDER BY hc_message.duration_ms) FILTER (WHERE %(win)s),
                  count(*) FILTER (WHERE hc_message.state = ANY(%(blocking)s)),
                  count(*) FILTER (WHERE hc_message.state = ANY(%(failed)s)),
                  min(hc_message.received_at) FILTER (WHERE hc_message.state = ANY(%(open)s))
             FROM hc_message %(join)s
            WHERE %(where)s AND (hc_message.state = ANY(%(open)s) OR %(win)s)
         GROUP BY %(key)s""",
        key=key, join=join, where=where, win=in_window, failed=list(NEEDS_PERSON), blocking=list(PENDING),
        open=list(OPEN),
    ))
    figures = {}
    for key_value, ended, failed, p95, pending, exceptions, oldest in rows:
        figures[key_value] = {
            "fig_per_hour": ended / FIGURES_WINDOW_HOURS,
            "fig_error_rate": 100.0 * failed / ended if ended else 0.0,
            "fig_p95_ms": p95 or 0,
            "fig_pending": pending,
            "fig_exceptions": exceptions,
            "fig_oldest_minutes": (now - oldest).total_seconds() / 60 if oldest else 0.0,
        }
    return figures


def age_label(env, minutes):
    if not minutes:
        return env._("none open")
    if minutes < 1:
        return env._("under a minute")
    if minutes < 120:
        return env._("%(m)d min", m=minutes)
    if minutes < 48 * 60:
        return env._("%(h)d h %(m)02d min", h=minutes // 60, m=minutes % 60)
    return env._("%(d)d days", d=minutes // 1440)


class HcFiguresMixin(models.AbstractModel):
    """Figure fields shared by backends and flows (computed from one grouped query)."""

    _name = "hc.figures.mixin"
    _description = "Integration figures"
    _figures_column = None

    fig_per_hour = fields.Float(
        "Messages per hour", compute="_compute_figures", digits=(16, 1),
        help=f"Messages that ended (done, ignored or in exception) over the last {FIGURES_WINDOW_HOURS} hours, "
        "per hour.",
    )
    fig_error_rate = fields.Float(
        "Error rate (%)", compute="_compute_figures", digits=(16, 1),
        help=f"Share of the messages ended in the last {FIGURES_WINDOW_HOURS} hours that are in exception.",
    )
    fig_p95_ms = fields.Integer(
        "p95 duration (ms)", compute="_compute_figures",
        help=f"95th percentile of the processing time of the messages ended in the last {FIGURES_WINDOW_HOURS} "
        "hours.",
    )
    fig_pending = fields.Integer(
        "Pending", compute="_compute_figures", help="Messages waiting for the job runner now.")
    fig_exceptions = fields.Integer(
        "In exception", compute="_compute_figures", help="Messages waiting for a person now.")
    fig_oldest_minutes = fields.Float(
        "Oldest open (min)", compute="_compute_figures", digits=(16, 0),
        help="Age of the oldest message not yet through: pending, or in exception.",
    )
    fig_oldest_label = fields.Char("Oldest open message", compute="_compute_figures")

    def _figures_by_id(self, ids):
        return message_figures(self.env, self._figures_column, ids)

    def action_view_exceptions(self):
        """The exception queue of this backend or flow (from the dashboard and its form)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("hc_integration_base.hc_message_exception_action")
        action["domain"] = [(self._figures_column, "=", self.id)]
        action["context"] = {"search_default_exception": 1}
        action["name"] = self.env._("Exceptions of %s", self.name)
        return action

    def _compute_figures(self):
        figures = self._figures_by_id([i for i in self.ids if isinstance(i, int)])
        empty = dict.fromkeys(
            ("fig_per_hour", "fig_error_rate", "fig_p95_ms", "fig_pending", "fig_exceptions", "fig_oldest_minutes"),
            0,
        )
        for record in self:
            values = figures.get(record.id, empty)
            record.update(values)
            record.fig_oldest_label = age_label(self.env, int(values["fig_oldest_minutes"]))


class HcBackend(models.Model):
    _name = "hc.backend"
    _inherit = ["hc.backend", "hc.figures.mixin"]
    _figures_column = "backend_id"


class HcFlow(models.Model):
    _name = "hc.flow"
    _inherit = ["hc.flow", "hc.figures.mixin"]
    _figures_column = "flow_id"
