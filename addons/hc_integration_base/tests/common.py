"""The suite's test fixture layer: one integration test case for every addon's tests.

:class:`HcIntegrationMixin` gives a test class what an integration test needs, set up once per
class: an environment without mail tracking, the registry in test mode (cursors opened by the
code under test wrap the test's own), loopback-only HTTP, the legacy simulators on free ports
(started on demand, reset before each test), the demo backends pointed at them, factories for
backends, flows, mappings and code tables, *the* helper that stores a message, and the helpers
that run the jobs queue_job would run. :class:`HcIntegrationCase` and
:class:`HcIntegrationHttpCase` are the mixin on Odoo's two test cases.
"""

import json
import socket
import sys
import threading
from contextlib import contextmanager, nullcontext
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from unittest.mock import patch
from urllib.parse import urlsplit

import requests

from odoo.tests import HttpCase, TransactionCase, new_test_user
from odoo.tests import common as odoo_test_common

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs

# The legacy simulators live at the root of the suite's repository (legacy_sim/).
_REPO = Path(__file__).resolve().parents[3]
if (_REPO / "legacy_sim").is_dir() and str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from legacy_sim import data, start_simulators  # noqa: E402, F401 - data: re-exported for the tests

GROUPS = {
    "viewer": "hc_integration_base.group_hc_viewer",
    "operator": "hc_integration_base.group_hc_operator",
    "consultant": "hc_integration_base.group_hc_consultant",
    "admin": "hc_integration_base.group_hc_admin",
}
DISCARD_URL = "http://127.0.0.1:9"  # the discard port: a base URL nothing answers

UNRESOLVABLE_SUFFIX = ".invalid"
_real_getaddrinfo = socket.getaddrinfo


def _getaddrinfo(host, *args, **kwargs):
    """Names under .invalid (RFC 2606) fail like an unknown host, without asking a DNS server."""
    if isinstance(host, str) and host.endswith(UNRESOLVABLE_SUFFIX):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return _real_getaddrinfo(host, *args, **kwargs)


def _loopback_send(session, prepared, **kwargs):
    """Odoo's test guard, minus its 10 s timeout floor (which would hide timeout behaviour)
    and its rejection of (connect, read) timeout tuples: only loopback hosts are reached."""
    host = urlsplit(prepared.url).hostname or ""
    if host in ("127.0.0.1", "localhost") or host.endswith(UNRESOLVABLE_SUFFIX):
        return odoo_test_common._super_send(session, prepared, **kwargs)
    raise odoo_test_common.BlockedRequest(f"Only loopback requests in tests (was {prepared.url})")


def postponed(case, run):
    """The RetryableJobError that ``run`` raises (a job postponed by queue_job). Not through
    assertRaises, whose rollback would also undo what was stored before the job: in production
    that was committed apart."""
    try:
        run()
    except RetryableJobError as exc:
        return exc
    return case.fail("the job was not postponed")


def mapping_line(sequence, source, target, transform="direct", **params):
    """One line of a mapping, as a create command; ``params`` become the line's JSON parameters."""
    return (0, 0, {"sequence": sequence, "source": source, "target": target, "transform": transform,
                   "params": json.dumps(params) if params else False})


class LoopbackServer:
    """An HTTP server on 127.0.0.1 (a free port) standing in for a legacy system a test writes
    itself. ``answer(request, body)`` returns ``(status, headers, body bytes)`` for every request
    (``request`` is the http.server handler: ``command``, ``path``, ``headers``); ``requests``
    records each as ``{"method", "path", "headers", "body"}``."""

    def __init__(self, answer):
        self.answer = answer
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                        "body": body})
                status, headers, answer = server.answer(self, body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def json_answer(status, document, headers=None):
    """An answer of a :class:`LoopbackServer`: ``document`` as JSON."""
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(document).encode()


class HcIntegrationMixin:
    """Fixtures shared by the suite's integration tests (see the module's docstring)."""

    sims = None  # the REST and SOAP simulators, once start_simulators() ran

    # --- environment ---------------------------------------------------------------------------
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.startClassPatcher(patch.object(requests.sessions.Session, "send", _loopback_send))
        cls.startClassPatcher(patch.object(socket, "getaddrinfo", _getaddrinfo))

    def setUp(self):
        super().setUp()
        if not type(self)._registry_patched:  # HttpCase has done it for the class
            # New cursors (a message's state written apart before a retry) wrap the test cursor,
            # as they would see committed data in production.
            self.registry_enter_test_mode()
        if self.sims:
            self.sims.reset()

    @classmethod
    def setup_users(cls):
        """``cls.users``: one internal user per integration role (viewer, operator, consultant, admin)."""
        cls.users = {
            role: new_test_user(cls.env, login=f"hc_{role}", groups=f"base.group_user,{group}")
            for role, group in GROUPS.items()
        }

    # --- simulators ----------------------------------------------------------------------------
    @classmethod
    def start_simulators(cls, **kwargs):
        """The REST and SOAP simulators (50 items, 10 suppliers) on free loopback ports, stopped
        with the class; reset before each test."""
        cls.sims = start_simulators(rest_port=0, soap_port=0, items=50, suppliers=10, **kwargs)
        cls.addClassCleanup(cls.sims.stop)
        return cls.sims

    @classmethod
    def start_server(cls, answer):
        """A :class:`LoopbackServer` answering with ``answer``, stopped with the class."""
        server = LoopbackServer(answer)
        cls.addClassCleanup(server.stop)
        return server

    @classmethod
    def use_demo_backends(cls, **soap_values):
        """The demo REST and SOAP backends, pointed at this class's simulators (started if they
        are not yet); ``soap_values`` are written on the SOAP one too (timeouts, breaker)."""
        sims = cls.sims or cls.start_simulators()
        rest = cls.env.ref("hc_integration_base.demo_backend_rest")
        soap = cls.env.ref("hc_integration_base.demo_backend_soap")
        rest.write({"base_url": sims.rest_url})
        soap.write({"wsdl_url": sims.wsdl_url, **soap_values})
        return rest, soap

    # --- configuration factories ---------------------------------------------------------------
    @classmethod
    def create_backend(cls, **values):
        """A REST backend with short timeouts (``values`` override any of it)."""
        return cls.env["hc.backend"].create({
            "name": "Test backend", "code": "test_backend", "protocol": "rest",
            "connect_timeout": 2, "read_timeout": 2, **values,
        })

    @classmethod
    def create_flow(cls, code, backend, model="res.partner", env=None, **values):
        """A flow of ``backend`` named by its code, inbound on ``model`` unless ``values`` say
        otherwise (``model=None`` for an object type that names its model)."""
        env = env or cls.env
        vals = {"name": code, "code": code, "backend_id": backend.id, "direction": "inbound"}
        if model:
            vals["model_id"] = env["ir.model"]._get_id(model)
        return env["hc.flow"].create({**vals, **values})

    @classmethod
    def create_mapping(cls, flow, lines=(), direction="inbound", activate=True, env=None, **values):
        """A mapping version of ``flow``, activated unless told otherwise. ``lines`` are line
        values (sequenced in their order) or create commands (:func:`mapping_line`)."""
        commands = [line if isinstance(line, tuple) else (0, 0, {"sequence": index, **line})
                    for index, line in enumerate(lines, 1)]
        mapping = (env or cls.env)["hc.mapping"].create(
            {"flow_id": flow.id, "direction": direction, "line_ids": commands, **values})
        if activate:
            mapping.action_activate()
        return mapping

    @classmethod
    def create_code_table(cls, code, entries, model=None, env=None, **values):
        """A code table: ``entries`` maps each legacy code to a value, or to a record of
        ``model`` when one is given. A table of that code the database already holds (addon or demo data, e.g.
        ``legacy_location``, ``department_analytic``) gets the entries instead, its own replaced."""
        env = env or cls.env
        vals = {"name": code, "code": code}
        if model:
            vals["model_id"] = env["ir.model"]._get_id(model)
        vals["entry_ids"] = [
            (0, 0, {"legacy_code": legacy, "res_id": target.id} if model else {"legacy_code": legacy, "value": target})
            for legacy, target in entries.items()
        ]
        existing = env["hc.value.map"].search([("code", "=", code)], limit=1)
        if existing:
            existing.write({**vals, **values, "entry_ids": [(5, 0, 0), *vals["entry_ids"]]})
            return existing
        return env["hc.value.map"].create({**vals, **values})

    # --- messages and jobs ---------------------------------------------------------------------
    def receive(self, flow, payload, jobs="trap", *, direction=None, record=None, batch_run=None,
                page_number=1, **kwargs):
        """Store one message of ``flow`` through the entry point the suite would use: the one place
        the tests call ``hc.message._receive_*``. An inbound post by default (``kwargs``:
        external_id, idempotency_key, correlation_id...); an outbound push with
        ``direction="outbound"`` or on a push flow (``record``); a page with ``batch_run``.

        ``jobs``: ``"trap"`` its job is trapped and left for the test to run (``_job_process``);
        ``"run"`` its job runs, with the jobs that one enqueues; ``None`` nothing is trapped here
        (a real queue.job is stored, or the caller's own ``trap_jobs`` catches it).
        """
        Message = self.env["hc.message"]
        outbound = (direction or ("outbound" if flow.direction == "push" else "inbound")) == "outbound"
        with trap_jobs() if jobs else nullcontext() as trap:
            if batch_run is not None:
                message = Message._receive_page(batch_run, payload, page_number=page_number, **kwargs)
            elif outbound:
                message = Message._receive_push(flow, payload, record=record, **kwargs)
            else:
                message = Message._receive_post(flow.backend_id, flow, payload, **kwargs)
            if jobs == "run":
                self.run_jobs(trap)
        return message

    def run_jobs(self, trap):
        """Run the trapped jobs and the jobs they enqueue, as the job runner would;
        ``self.performed`` remembers ``(records, method name, channel)`` of each."""
        self.performed = getattr(self, "performed", [])
        while trap.enqueued_jobs:
            self.performed += [(job.recordset, job.method_name, job.channel) for job in trap.enqueued_jobs]
            trap.perform_enqueued_jobs()

    def run_job(self, message, job=None):
        """One attempt of ``message``'s job: ``(result, None)``, or ``(None, the RetryableJobError)``
        when it is postponed. With its ``queue.job`` given, the attempt counts as queue_job counts
        it. Not through assertRaises: its savepoint would undo the state written before a retry."""
        if job:
            message = message.with_context(job_uuid=job.uuid)
        try:
            return message._job_process(), None
        except RetryableJobError as exc:
            if job:
                job.retry += 1  # what queue_job stores when it postpones the job
            return None, exc

    def pull(self, flow, run=True):
        """Press *Pull now* on ``flow``; run the jobs (unless ``run`` is false) and return the run
        the action opens (a batch run, or what a domain addon opens instead)."""
        with trap_jobs() as trap:
            action = flow.action_pull_now()
            if run:
                self.run_jobs(trap)
        return self.env[action["res_model"]].browse(action["res_id"])

    def messages_of(self, records, **options):
        """The messages about ``records`` (``options``: search options such as ``order``)."""
        return self.env["hc.message"].search(
            [("res_model", "=", records._name), ("res_id", "in", records.ids)], **options)

    def post_inbound(self, path, document, api_key):
        """POST ``document`` as JSON to the inbound API (``/hc/in/<backend>/<flow>``) with
        ``api_key``, its jobs trapped; when accepted, the job runner's part follows in this test's
        transaction: ``(response, message, the trapped jobs)`` (HTTP cases only)."""
        with trap_jobs() as trap:
            response = self.url_open(path, data=json.dumps(document), method="POST",
                                     headers={"Content-Type": "application/json", "X-API-Key": api_key})
            jobs = list(trap.enqueued_jobs)
        message = self.env["hc.message"].browse(response.json().get("message_id"))
        if response.status_code == 202:
            message._job_process()
        return response, message, jobs

    def call_kw(self, user, model, method, args, kwargs=None):
        """``model.method(*args, **kwargs)`` over the web client's JSON-RPC, in a session of
        ``user`` (HTTP cases only): the HTTP response."""
        password = f"{user.login}_pw_2026"
        user.password = password
        self.authenticate(user.login, password)
        return self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps({"jsonrpc": "2.0", "method": "call",
                             "params": {"model": model, "method": method, "args": args, "kwargs": kwargs or {}}}),
            headers={"Content-Type": "application/json"},
        )

    @contextmanager
    def count_writes(self, *models):
        """``{model: number of create and write calls}`` made on ``models`` in the block."""
        counts = dict.fromkeys(models, 0)
        patches = []
        for name in models:
            cls = type(self.env[name])
            for method in ("create", "write"):
                original = getattr(cls, method)

                def counted(records, *args, _original=original, _name=name, **kwargs):
                    counts[_name] += 1
                    return _original(records, *args, **kwargs)

                patches.append(patch.object(cls, method, counted))
        for active in patches:
            active.start()
        try:
            yield counts
        finally:
            for active in patches:
                active.stop()

    @contextmanager
    def fetched_pages(self, *pages):
        """Batch runs fetch these pages (``transports.paging.Page``) in order instead of calling the backend."""
        pages = iter(pages)
        with patch.object(type(self.env["hc.batch.run"]), "_fetch_page", lambda run, checkpoint: next(pages)):
            yield


class HcIntegrationCase(HcIntegrationMixin, TransactionCase):
    """The integration test case of the suite (one transaction per test)."""


class HcIntegrationHttpCase(HcIntegrationMixin, HttpCase):
    """The same over HTTP (inbound API, JSON-RPC, browser tours)."""


class MessageCase(HcIntegrationCase):
    """A PAS backend whose contacts flow (the generic handler, on res.partner) stores messages;
    its operator is told of failures. ``BACKEND`` adds values to the backend."""

    BACKEND = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_users()
        cls.backend = cls.create_backend(**{"code": "pas", "responsible_user_id": cls.users["operator"].id,
                                            **cls.BACKEND})
        cls.flow = cls.create_flow("contacts", cls.backend, name="Contacts", object_type="generic", max_attempts=3)
        cls.Message = cls.env["hc.message"]

    def contact(self, payload, **kwargs):
        """A message of the contacts flow named by the payload's ``id``; its job is left to the
        caller (a real queue.job, or one the caller traps)."""
        if "external_id" not in kwargs and isinstance(payload, dict):
            kwargs["external_id"] = payload.get("id")
        return self.receive(self.flow, payload, jobs=None, **kwargs)

    def partners(self, external_id):
        binding = self.env["hc.binding"].search(
            [("backend_id", "=", self.backend.id), ("external_id", "=", external_id)]
        )
        return self.env["res.partner"].browse(binding.mapped("res_id"))
