import hmac
import json

from odoo import fields, http
from odoo.http import request
from odoo.tools import SQL

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


class MonitoringController(http.Controller):
    @http.route("/hc/openapi.json", type="http", auth="none", methods=["GET"], save_session=False)
    def openapi(self, **_params):
        """OpenAPI 3 description of the inbound API, generated from the configured flows."""
        env = request.env(su=True)
        flows = env["hc.flow"].search([("direction", "=", "inbound"), ("backend_id.active", "=", True)])
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
        """For monitors: database reachable, job runner alive, backlog per channel."""
        env = request.env(su=True)
        env.cr.execute("SELECT 1")
        env.cr.execute(
            SQL(
                "SELECT channel, count(*), EXTRACT(EPOCH FROM now() at time zone 'utc' - "
                "min(coalesce(eta, date_created))) FROM queue_job WHERE state IN ('pending', 'enqueued') "
                "AND (eta IS NULL OR eta <= now() at time zone 'utc') GROUP BY channel"
            )
        )
        backlog = {
            channel: {"ready": count, "oldest_seconds": round(age or 0)}
            for channel, count, age in env.cr.fetchall()
        }
        stale = int(env["ir.config_parameter"].get_param("hc_integration_base.runner_stale_seconds", 300))
        runner_alive = all(item["oldest_seconds"] < stale for item in backlog.values())
        status = "ok" if runner_alive else "degraded"
        return _json(
            {"status": status, "database": "ok", "job_runner": "alive" if runner_alive else "stalled",
             "backlog": backlog, "time": fields.Datetime.to_string(fields.Datetime.now())},
            status=200 if runner_alive else 503,
        )

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
                "WHERE m.state IN ('new', 'queued', 'processing', 'failed_retrying') GROUP BY b.code ORDER BY 1"
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
