"""Attacks from inside the company: a Consultant, an Operator and a Viewer try to reach further
than integration configuration, in the ORM and over JSON-RPC as the web client does."""

import json

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import HcIntegrationMixin, LoopbackServer, json_answer

API_KEY = "backend-secret-api-key"


class Listener(LoopbackServer):
    """A legacy system on 127.0.0.1 that records every request it receives.

    ``routes`` maps a path to ``(status, headers, body)``, or to a function of the query string
    returning one; anything else answers ``{"items": []}``. Header values may name the ``{self}``
    and ``{other}`` URLs.
    """

    def __init__(self, routes=None):
        self.routes = routes or {}
        super().__init__(self._route)
        self.urls = {"self": self.url}

    def _route(self, request, body):
        path, _, query = request.path.partition("?")
        route = self.routes.get(path, (200, {}, {"items": []}))
        status, headers, document = route(query) if callable(route) else route
        return json_answer(status, document, {name: value.format(**self.urls) for name, value in headers.items()})

    def saw_secret(self):
        return any(API_KEY in json.dumps(r["headers"]) or API_KEY in r["path"] for r in self.requests)


class SecurityFixture(HcIntegrationMixin):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_users()
        cls.backend_host = Listener()
        cls.other_host = Listener()
        cls.addClassCleanup(cls.backend_host.stop)
        cls.addClassCleanup(cls.other_host.stop)
        cls.backend_host.urls["other"] = cls.other_host.url
        cls.backend = cls.create_backend(
            code="guarded", base_url=cls.backend_host.url + "/api", auth_type="api_key", api_key=API_KEY,
        )
        cls.flow = cls.create_flow("contacts", cls.backend, name="Contacts", direction="pull", mode="batch",
                                   remote_resource="/contacts", external_id_path="code")
        cls.mapping = cls.create_mapping(cls.flow, activate=False)

    def setUp(self):
        super().setUp()
        self.backend_host.requests.clear()
        self.other_host.requests.clear()


@tagged("post_install", "-at_install")
class TestSecurityBoundaries(SecurityFixture, TransactionCase):
    def test_absolute_resource_on_another_host_receives_nothing(self):
        """The reported leak: a consultant points a pull at another host and presses Pull now."""
        flow = self.flow.with_user(self.users["consultant"])
        flow.remote_resource = self.other_host.url + "/collect"
        run = self.pull(flow)
        self.assertEqual(run.state, "failed")
        self.assertIn("outside the backend's origin", run.error_message)
        self.assertIn(self.other_host.url, run.error_message)
        self.assertEqual(self.other_host.requests, [])
        self.assertEqual(self.backend_host.requests, [])

    def test_redirect_to_another_host_is_not_followed(self):
        self.backend_host.routes["/api/contacts"] = (302, {"Location": "{other}/collect"}, {})
        run = self.pull(self.flow)
        self.assertEqual(run.state, "failed")
        self.assertIn("redirect", run.error_message)
        self.assertEqual(len(self.backend_host.requests), 1)
        self.assertEqual(self.other_host.requests, [])

    def test_next_page_link_to_another_host_is_refused(self):
        self.flow.write({"paging_style": "link", "paging_records_path": False})  # the answer is the list
        self.backend_host.routes["/api/contacts"] = (
            200, {"Link": '<{other}/collect?page=2>; rel="next"'}, [{"code": "C1", "name": "First"}],
        )
        run = self.pull(self.flow)
        self.assertEqual(run.state, "failed")
        self.assertIn("outside the backend's origin", run.error_message)
        self.assertEqual(self.other_host.requests, [])
        self.assertFalse(self.other_host.saw_secret())

    def test_redirect_on_the_backend_host_is_followed_with_credentials(self):
        """The guard keeps legitimate redirects working (a moved resource on the same system)."""
        self.backend_host.routes["/api/contacts"] = lambda query: (
            301, {"Location": "/api/v2/contacts?" + query}, {})
        self.backend_host.routes["/api/v2/contacts"] = lambda query: (
            200, {}, {"items": [{"code": "C9", "name": "Moved"}] if "page=1&" in query + "&" else []})
        run = self.pull(self.flow)
        self.assertEqual(run.state, "done", run.error_message)
        self.assertEqual([r["path"].split("?")[0] for r in self.backend_host.requests[:2]],
                         ["/api/contacts", "/api/v2/contacts"])
        self.assertEqual(self.backend_host.requests[1]["headers"].get("X-API-Key"), API_KEY)
        self.assertEqual(self.env["res.partner"].search_count([("name", "=", "Moved")]), 1)
        self.assertEqual(self.other_host.requests, [])

    def test_flow_cannot_be_retargeted_to_users(self):
        """The reported escalation, step one: a generic flow's model changed to res.users."""
        for role in ("consultant", "admin"):
            with self.subTest(role=role), self.assertRaises(ValidationError) as refused:
                self.flow.with_user(self.users[role]).model_id = self.env.ref("base.model_res_users")
            self.assertIn("not on the administrators' list", str(refused.exception))
        self.assertEqual(self.flow.model_name, "res.partner")
        with self.assertRaises(ValidationError) as refused:
            self.env["hc.flow"].with_user(self.users["consultant"]).create({
                "name": "Users", "code": "users", "backend_id": self.backend.id, "direction": "inbound",
                "model_id": self.env.ref("base.model_res_groups").id,
            })
        self.assertIn("not on the administrators' list", str(refused.exception))

    def test_allow_list_is_for_administrators_and_never_holds_users(self):
        Allowed = self.env["hc.allowed.model"]
        for role in ("viewer", "operator", "consultant"):
            with self.subTest(role=role), self.assertRaises(AccessError):
                Allowed.with_user(self.users[role]).create({"model_id": self.env.ref("base.model_res_country").id})
            with self.subTest(role=role), self.assertRaises(AccessError):
                Allowed.with_user(self.users[role]).search([], limit=1).unlink()
        for xmlid in ("base.model_res_users", "base.model_res_groups", "base.model_ir_model_access",
                      "base.model_ir_rule", "hc_integration_base.model_hc_backend", "queue_job.model_queue_job"):
            with self.subTest(model=xmlid), self.assertRaises(ValidationError) as refused:
                Allowed.with_user(self.users["admin"]).create({"model_id": self.env.ref(xmlid).id})
            self.assertIn("can never be written", str(refused.exception))
        country = Allowed.with_user(self.users["admin"]).create({"model_id": self.env.ref("base.model_res_country").id})
        self.flow.with_user(self.users["consultant"]).model_id = country.model_id
        self.assertEqual(self.flow.model_name, "res.country")

    def test_mapping_lines_cannot_write_users_or_groups(self):
        """The reported escalation, step two: constant or expression lines writing group_ids."""
        Line = self.env["hc.mapping.line"].with_user(self.users["consultant"])
        admin_group = self.env.ref("base.group_system").id
        attempts = [
            {"target": "user_ids", "transform": "constant",
             "params": json.dumps({"value": [[0, 0, {"login": "evil", "group_ids": [[4, admin_group]]}]]})},
            {"target": "user_ids", "transform": "expression", "source": "code",
             "params": json.dumps({"expression": "[(4, 2)]"})},
            {"target": "child_ids", "transform": "one2many", "source": "children",
             "params": json.dumps({"lines": [{"target": "user_ids", "transform": "constant",
                                              "params": {"value": [[4, 2]]}}]})},
        ]
        for vals in attempts:
            with self.subTest(vals["transform"]), self.assertRaises(ValidationError) as refused:
                Line.create({"mapping_id": self.mapping.id, **vals})
            self.assertIn("links to res.users", str(refused.exception))
        self.assertFalse(self.mapping.line_ids)

    @mute_logger("odoo.addons.hc_integration_base.models.hc_message_jobs")
    def test_message_of_a_model_removed_from_the_list_applies_nothing(self):
        """The list is read again when a message is applied: shrinking it stops a configured flow."""
        self.env["hc.allowed.model"].search([("model_name", "=", "res.partner")]).unlink()
        message = self.receive(self.flow, {"code": "X1", "name": "Blocked"}, jobs="run")
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.error_category, "security", message.error_message)
        self.assertIn("not on the administrators' list", message.error_message)
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Blocked")]))


@tagged("post_install", "-at_install")
class TestJobsActAsIntegrationUser(SecurityFixture, TransactionCase):
    """Jobs never run as superuser: they have the backend's integration user's rights."""

    def test_pull_pressed_by_a_consultant_runs_as_the_integration_user(self):
        self.backend_host.routes["/api/contacts"] = lambda query: (
            200, {}, {"items": [{"code": "C1", "name": "Ward"}] if "page=1&" in query + "&" else []})
        integration = self.env.ref("hc_integration_base.user_integration")
        seen = []
        with trap_jobs() as trap:
            run = self.env["hc.batch.run"].browse(
                self.flow.with_user(self.users["consultant"]).action_pull_now()["res_id"])
            while trap.enqueued_jobs:
                seen += [(job.recordset._name, job.recordset.env.uid, job.recordset.env.su)
                         for job in trap.enqueued_jobs]
                trap.perform_enqueued_jobs()
        self.assertEqual(run.state, "done", run.error_message)
        self.assertEqual({model for model, _uid, _su in seen}, {"hc.batch.run", "hc.message"})
        self.assertEqual({(uid, su) for _model, uid, su in seen}, {(integration.id, False)})
        partner = self.env["res.partner"].search([("name", "=", "Ward")])
        self.assertEqual(partner.create_uid, integration)

    @mute_logger("odoo.addons.hc_integration_base.models.hc_message_jobs", "odoo.models")
    def test_an_allowed_model_the_integration_user_may_not_write_applies_nothing(self):
        """Even on the allow-list, a model needs the integration user's rights: countries are
        Settings data, so the message lands in the exception queue and nothing is created."""
        self.env["hc.allowed.model"].create({"model_id": self.env.ref("base.model_res_country").id})
        self.flow.model_id = self.env.ref("base.model_res_country")
        message = self.receive(self.flow, {"code": "ZZ", "name": "Freedonia"}, jobs="run")
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.error_category, "security", message.error_message)
        self.assertIn("integration user may not", message.error_message)
        self.assertFalse(self.env["res.country"].search([("name", "=", "Freedonia")]))

    def test_integration_user_is_chosen_by_settings_administrators_only(self):
        for role in ("viewer", "operator", "consultant", "admin"):
            with self.subTest(role=role), self.assertRaises(AccessError):
                self.backend.with_user(self.users[role]).read(["integration_user_id"])
        with self.assertRaises(ValidationError) as refused:
            self.backend.integration_user_id = self.env.ref("base.user_admin")
        self.assertIn("Settings administrator", str(refused.exception))


@tagged("post_install", "-at_install")
class TestSecurityBoundariesJsonRpc(SecurityFixture, HttpCase):
    """The same refusals seen from a browser session's JSON-RPC."""

    def call(self, role, model, method, args, kwargs=None):
        return self.call_kw(self.users[role], model, method, args, kwargs).json()

    @mute_logger("odoo.http")
    def test_consultant_retargeting_and_group_lines_refused_over_jsonrpc(self):
        users_model = self.env.ref("base.model_res_users").id
        body = self.call("consultant", "hc.flow", "write", [[self.flow.id], {"model_id": users_model}])
        self.assertIn("not on the administrators' list", body["error"]["data"]["message"])
        body = self.call("consultant", "hc.allowed.model", "create", [{"model_id": users_model}])
        self.assertEqual(body["error"]["data"]["name"], "odoo.exceptions.AccessError")
        body = self.call("consultant", "hc.mapping.line", "create", [{
            "mapping_id": self.mapping.id, "target": "user_ids", "transform": "constant",
            "params": json.dumps({"value": [[4, 2]]}),
        }])
        self.assertIn("res.users", body["error"]["data"]["message"])
        self.assertEqual(self.flow.model_name, "res.partner")
        self.assertFalse(self.mapping.line_ids)
        self.assertEqual(self.other_host.requests, [])

    def test_openapi_answers_only_authenticated_callers_with_their_flows(self):
        inbound = self.create_flow("admissions", self.backend, name="Admissions")
        other = self.create_backend(code="pharmacy", inbound_api_key="pharmacy-key")
        self.create_flow("dispensing", other, name="Dispensing")
        anonymous = self.url_open("/hc/openapi.json")
        self.assertEqual(anonymous.status_code, 401)
        self.assertNotIn("admissions", anonymous.text)
        self.assertEqual(self.url_open("/hc/openapi.json", headers={"X-API-Key": "wrong"}).status_code, 401)
        paths = self.url_open("/hc/openapi.json", headers={"X-API-Key": "pharmacy-key"}).json()["paths"]
        self.assertEqual(set(paths), {"/hc/in/pharmacy/dispensing"})
        self.assertTrue(inbound)
        user = self.users["viewer"]
        user.password = "hc_viewer_pw_2026"
        self.authenticate(user.login, "hc_viewer_pw_2026")
        paths = self.url_open("/hc/openapi.json").json()["paths"]
        self.assertLessEqual({"/hc/in/guarded/admissions", "/hc/in/pharmacy/dispensing"}, set(paths))

    def test_consultant_picks_a_flows_model_among_the_allowed_ones(self):
        """The model field is a picker over ir.model (which consultants may read), narrowed to the
        administrators' list; a model outside it is refused on save."""
        body = self.call("consultant", "ir.model", "name_search", [],
                         {"name": "", "domain": [["hc_allowed_ids", "!=", False]], "limit": 200})
        names = {name for _id, name in body["result"]}
        self.assertIn(self.env.ref("base.model_res_partner").name, names)
        self.assertNotIn(self.env.ref("base.model_res_users").name, names)
        self.assertEqual(set(self.env["ir.model"].browse([i for i, _n in body["result"]]).mapped("model")),
                         set(self.env["hc.allowed.model"].search([]).mapped("model_name")))

    @mute_logger("odoo.http")
    def test_viewer_and_operator_cannot_edit_flows_or_export_secrets(self):
        users_model = self.env.ref("base.model_res_users").id
        for role in ("viewer", "operator"):
            for values in ({"remote_resource": self.other_host.url}, {"model_id": users_model}):
                body = self.call(role, "hc.flow", "write", [[self.flow.id], values])
                self.assertEqual(body["error"]["data"]["name"], "odoo.exceptions.AccessError", (role, values))
            body = self.call(role, "hc.mapping.line", "create", [{
                "mapping_id": self.mapping.id, "target": "user_ids", "transform": "constant",
                "params": json.dumps({"value": [[4, 2]]})}])
            self.assertEqual(body["error"]["data"]["name"], "odoo.exceptions.AccessError", role)
            body = self.call(role, "hc.allowed.model", "create", [{"model_id": users_model}])
            self.assertEqual(body["error"]["data"]["name"], "odoo.exceptions.AccessError", role)
        self.assertEqual(self.flow.model_name, "res.partner")
        self.assertFalse(self.mapping.line_ids)
        for role in ("viewer", "operator", "consultant"):
            body = self.call(role, "hc.backend", "export_data", [[self.backend.id], ["name", "api_key"]])
            self.assertIn("error", body, role)
            self.assertNotIn(API_KEY, json.dumps(body))
        self.assertEqual(self.flow.remote_resource, "/contacts")


@tagged("post_install", "-at_install")
class TestCompanyIsolation(SecurityFixture, HttpCase):
    """Every integration model keeps to its company, and inbound routing finds the company's backend."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.env["res.company"].create({"name": "Northern Hospital"})
        cls.other = cls.create_backend(code="guarded", company_id=cls.other_company.id, inbound_api_key="north-key")
        # Jobs of the northern backend act as the northern company's integration user.
        cls.other.integration_user_id = new_test_user(
            cls.env, login="hc_jobs_north", company_id=cls.other_company.id, company_ids=[cls.other_company.id],
            groups="hc_integration_base.group_hc_job,base.group_partner_manager")
        cls.backend.inbound_api_key = "main-key"
        cls.other_flow = cls.create_flow("contacts", cls.other, name="Contacts north")
        cls.inbound = cls.create_flow("contacts_in", cls.backend, name="Contacts main", external_id_path="code")
        cls.other_flow_in = cls.create_flow("contacts_in", cls.other, name="Contacts north in", external_id_path="code")
        mapping = cls.create_mapping(cls.other_flow, activate=False)
        cls.env["hc.mapping.line"].create({"mapping_id": mapping.id, "source": "name", "target": "name"})
        cls.env["hc.batch.run"].create({"flow_id": cls.other_flow.id, "state": "done"})
        cls.env["hc.binding"].create({"backend_id": cls.other.id, "res_model": "res.partner", "res_id": 1,
                                      "external_id": "N-1"})
        cls.create_code_table("north_wards", {"W1": "Ward 1"}, name="North wards", company_id=cls.other_company.id)
        cls.create_code_table("shared_units", {}, name="Shared units")

    def test_the_default_integration_user_works_in_every_company(self):
        self.assertIn(self.other_company, self.env.ref("hc_integration_base.user_integration").company_ids)

    def test_each_integration_model_keeps_to_its_company(self):
        viewer = self.users["viewer"]
        checks = {
            "hc.backend": [("id", "=", self.other.id)],
            "hc.flow": [("backend_id", "=", self.other.id)],
            "hc.mapping": [("flow_id", "=", self.other_flow.id)],
            "hc.mapping.line": [("mapping_id.flow_id", "=", self.other_flow.id)],
            "hc.batch.run": [("flow_id", "=", self.other_flow.id)],
            "hc.binding": [("backend_id", "=", self.other.id)],
            "hc.value.map": [("code", "=", "north_wards")],
            "hc.value.map.entry": [("legacy_code", "=", "W1")],
        }
        for model, domain in checks.items():
            with self.subTest(model=model):
                self.assertTrue(self.env[model].search_count(domain), model)
                self.assertFalse(self.env[model].with_user(viewer).search_count(domain), model)
        self.assertTrue(self.env["hc.value.map"].with_user(viewer).search_count([("code", "=", "shared_units")]))
        viewer.company_ids = [(4, self.other_company.id)]
        north = self.env["hc.mapping"].with_user(viewer).with_context(allowed_company_ids=[self.other_company.id])
        self.assertTrue(north.search_count([("flow_id", "=", self.other_flow.id)]))

    def post(self, key):
        return self.url_open("/hc/in/guarded/contacts_in", data=json.dumps({"code": "P-1", "name": "Patient ward"}),
                             headers={"Content-Type": "application/json", "X-API-Key": key})

    def test_inbound_post_reaches_the_backend_of_the_callers_company(self):
        """Two companies use the same backend and flow codes: the caller's key says which is meant."""
        cases = (("north-key", self.other, self.other_flow_in), ("main-key", self.backend, self.inbound))
        for key, backend, flow in cases:
            with self.subTest(key=key):
                response = self.post(key)
                self.assertEqual(response.status_code, 202, response.text)
                message = self.env["hc.message"].browse(response.json()["message_id"])
                self.assertEqual((message.backend_id, message.flow_id, message.company_id),
                                 (backend, flow, backend.company_id))
                self.assertEqual(message.job_id.user_id, backend.sudo().integration_user_id)
        self.assertEqual(self.post("nobodys-key").status_code, 403)

    @mute_logger("odoo.addons.hc_integration_base.models.hc_message_jobs")
    def test_job_applies_in_the_backends_company_or_says_why_not(self):
        with trap_jobs() as trap:
            north = self.receive(self.other_flow_in, {"code": "N-7", "name": "North ward"}, jobs=None)
            main = self.receive(self.inbound, {"code": "M-7", "name": "Main ward"}, jobs=None)
            trap.perform_enqueued_jobs()
        self.assertEqual(north.state, "done", north.error_message)
        partner = self.env["res.partner"].search([("name", "=", "North ward")])
        self.assertEqual(partner.create_uid.login, "hc_jobs_north")
        self.assertEqual(main.state, "done", main.error_message)
        # An integration user kept to the main company has no access to the northern one.
        self.other.integration_user_id = new_test_user(
            self.env, login="hc_jobs_main_only", company_id=self.env.company.id, company_ids=[self.env.company.id],
            groups="hc_integration_base.group_hc_job,base.group_partner_manager")
        refused = self.receive(self.other_flow_in, {"code": "N-8", "name": "Ward 8"}, jobs="run")
        self.assertEqual((refused.state, refused.error_category), ("exception", "security"), refused.error_message)
        self.assertIn("compan", refused.error_message)
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Ward 8")]))
