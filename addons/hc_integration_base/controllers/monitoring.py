import hmac
import json

from odoo import fields, http
from odoo.http import request
from odoo.tools import SQL

from odoo.addons.queue_job.job import ENQUEUED, PENDING
from odoo.addons.queue_job.jobrunner.runner import PG_ADVISORY_LOCK_ID

from .. import lifecycle
from .inbound import _json

ERROR_RESPONSES = {
    "400": "Malformed or schema-invalid body (details list the failing paths)",
    "401": "Missing or invalid credentials or signature",
    "403": "The API key may not post to this backend",
    "404": "Unknown backend or flow",
    "409": "Idempotency-Key reused with a different body",
    "413": "Body too large",
    "415": "Content type not JSON or XML",
    "429": "Rate limited; see Retry-After",
}


def runner_holds_lock(cr):
    """Whether a queue_job runner serves this database: the runner holds queue_job's master lock
    (a session advisory lock, ``PG_ADVISORY_LOCK_ID``) on its connection for as long as it runs."""
    key = PG_ADVISORY_LOCK_ID
    cr.execute(SQL(
        "SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.granted "
        "AND l.classid::bigint = %s AND l.objid::bigint = %s AND l.objsubid = 1 AND l.pid != pg_backend_pid()",
        (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF,
    ))
    return bool(cr.fetchone())


def health_report(env):
    """``(body, HTTP status)`` of /hc/health."""
    env.cr.execute("SELECT 1")
    env.cr.execute(
        SQL(
            "SELECT channel, count(*), EXTRACT(EPOCH FROM now() at time zone 'utc' - "
            "min(coalesce(eta, date_created))) FROM queue_job WHERE state IN %s "
            "AND (eta IS NULL OR eta <= now() at time zone 'utc') GROUP BY channel",
            (PENDING, ENQUEUED),
        )
    )
    backlog = {
        channel: {"ready": count, "oldest_seconds": round(age or 0)}
        for channel, count, age in env.cr.fetchall()
    }
    stale = int(env["ir.config_parameter"].get_param("hc_integration_base.runner_stale_seconds", 300))
    if not runner_holds_lock(env.cr):
        runner = "down"
    elif any(item["oldest_seconds"] >= stale for item in backlog.values()):
        runner = "stalled"
    else:
        runner = "alive"
    body = {
        "status": "ok" if runner == "alive" else "degraded", "database": "ok", "job_runner": runner,
        "stale_seconds": stale, "backlog": backlog, "time": fields.Datetime.to_string(fields.Datetime.now()),
    }
    return body, 200 if runner == "alive" else 503


def _openapi_flows():
    """The inbound flows the caller may post to or read, or None for an anonymous caller."""
    domain = [("direction", "=", "inbound"), ("backend_id.active", "=", True)]
    headers = request.httprequest.headers
    given = headers.get("X-API-Key") or headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if given:
        env = request.env(su=True)
        backends = env["hc.backend"].search([("inbound_api_key", "!=", False)]).filtered(
            lambda b: hmac.compare_digest(given.encode(), b.inbound_api_key.encode()))
        return env["hc.flow"].search(domain + [("backend_id", "in", backends.ids)]) if backends else None
    user = request.env.user
    if user._is_public() or not user.has_group("hc_integration_base.group_hc_viewer"):
        return None
    return request.env["hc.flow"].search(domain)


class MonitoringController(http.Controller):

    @http.route("/hc/openapi.json", type="http", auth="public", methods=["GET"], save_session=False)
    def openapi(self, **_params):
        """OpenAPI 3 description of the inbound API, generated from the configured flows.

        Only for authenticated callers, and only what they may use: a legacy system sending its
        backend's inbound API key sees that backend's flows; a signed-in integration user sees the
        flows they can read. Anyone else gets 401 (the codes of every backend and flow are a map
        of the hospital's systems).
        """
        flows = _openapi_flows()
        if flows is None:
            return _json({"error": {"code": "unauthenticated", "message": "Send a backend's inbound API key in "
                                    "X-API-Key, or sign in as an integration user."}}, status=401)
        error = {"$ref": "#/components/schemas/Error"}
        paths = {}
        for flow in flows:
            schema = {"type": "object"}
            if flow.inbound_schema:
                schema = json.loads(flow.inbound_schema)
            responses = {
                "202": {
                    "description": "Accepted: stored and queued for processing",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Accepted"}}},
                },
                "200": {
                    "description": "Repeated Idempotency-Key: the original answer",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Accepted"}}},
                },
            }
            responses.update(
                {code: {"description": text, "content": {"application/json": {"schema": error}}}
                 for code, text in ERROR_RESPONSES.items()}
            )
            paths[f"/hc/in/{flow.backend_id.code}/{flow.code}"] = {
                "post": {
                    "summary": f"{flow.backend_id.name}: {flow.name}",
                    "operationId": f"post_{flow.backend_id.code}_{flow.code}",
                    "parameters": [
                        {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}},
                        {"name": "X-Correlation-ID", "in": "header", "required": False, "schema": {"type": "string"}},
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": schema},
                            "application/xml": {"schema": {"type": "string"}},
                        },
                    },
                    "responses": responses,
                }
            }
        document = {
            "openapi": "3.0.3",
            "info": {"title": "Healthcare integration inbound API", "version": "1.0"},
            "paths": paths,
            "security": [{"apiKey": []}],
            "components": {
                "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
                "schemas": {
                    "Accepted": {
                        "type": "object",
                        "properties": {
                            "message_id": {"type": "integer"},
                            "correlation_id": {"type": "string"},
                            "state": {"type": "string"},
                            "duplicate": {"type": "boolean"},
                            "url": {"type": "string"},
                        },
                    },
                    "Error": {
                        "type": "object",
                        "properties": {
                            "error": {
                                "type": "object",
                                "properties": {
                                    "code": {"type": "string"},
                                    "message": {"type": "string"},
                                    "details": {"type": "array", "items": {"type": "object"}},
                                },
                            }
                        },
                    },
                },
            },
        }
        return _json(document)

    @http.route("/hc/health", type="http", auth="none", methods=["GET"], save_session=False)
    def health(self, **_params):
        """For monitors: database reachable, job runner state, backlog per channel.

        ``job_runner`` is ``down`` when no queue_job runner serves this database (none holds its
        master lock), ``stalled`` when one does but a ready job has waited longer than
        ``hc_integration_base.runner_stale_seconds`` (default 300), else ``alive``. Only ``alive``
        answers 200; the others answer 503.
        """
        return _json(*health_report(request.env(su=True)))
    @http.route("/hc/metrics", type="http", auth="none", methods=["GET"], save_session=False)
    def metrics(self, **_params):
        """Prometheus text format; needs the token set in hc_integration_base.metrics_token."""
        env = request.env(su=True)
        token = env["ir.config_parameter"].get_param("hc_integration_base.metrics_token")
        given = request.httprequest.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not token or not hmac.compare_digest(given.encode(), token.encode()):
            return request.make_response("unauthorized\n", status=401, headers=[("Content-Type", "text/plain")])
        lines = [
            "# HELP hc_messages Integration messages by backend and state.",
            "# TYPE hc_messages gauge",
        ]
        env.cr.execute(
            SQL(
                "SELECT b.code, m.state, count(*) FROM hc_message m JOIN hc_backend b ON b.id = m.backend_id "
                "GROUP BY b.code, m.state ORDER BY 1, 2"
            )
        )
        for code, state, count in env.cr.fetchall():
            lines.append(f'hc_messages{{backend="{code}",state="{state}"}} {count}')
        lines += [
            "# HELP hc_oldest_pending_seconds Age of the oldest unprocessed message per backend.",
            "# TYPE hc_oldest_pending_seconds gauge",
        ]
        env.cr.execute(
            SQL(
                "SELECT b.code, EXTRACT(EPOCH FROM now() at time zone 'utc' - min(m.received_at)) "
                "FROM hc_message m JOIN hc_backend b ON b.id = m.backend_id "
                "WHERE m.state = ANY(%s) GROUP BY b.code ORDER BY 1",
                list(lifecycle.PENDING),
            )
        )
        for code, age in env.cr.fetchall():
            lines.append(f'hc_oldest_pending_seconds{{backend="{code}"}} {round(age or 0, 1)}')
        lines += [
            "# HELP hc_circuit_open 1 when the backend's circuit breaker is open.",
            "# TYPE hc_circuit_open gauge",
        ]
        for backend in env["hc.backend"].search([], order="code"):
            lines.append(f'hc_circuit_open{{backend="{backend.code}"}} {int(backend.breaker_state == "open")}')
        return request.make_response(
            "\n".join(lines) + "\n", headers=[("Content-Type", "text/plain; version=0.0.4")]
        )
