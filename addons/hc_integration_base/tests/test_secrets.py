"""Every secret is declared once, stays with Settings administrators, is wiped by neutralization,
never travels in a configuration file, and a copied database calls nobody."""

import json
import os

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.modules.neutralize import neutralize_database
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from ..models.hc_backend_secrets import SECRET_COLUMNS_PARAM, SECRET_FIELDS, SECRET_GROUP, secret_columns
from ..models.hc_config_io import BACKEND_FIELDS
from .common import HcIntegrationCase
from .test_security_boundaries import Listener

SECRET_VALUES = {
    "auth_password": "s-password", "api_key": "s-api-key", "bearer_token": "s-bearer", "oauth_client_secret": "s-oauth",
    "tls_client_key": "-----BEGIN PRIVATE KEY-----s-key", "inbound_api_key": "s-inbound-key",
    "inbound_hmac_secret": "s-hmac", "default_headers": '{"X-Token": "s-header-token"}',
}


@tagged("post_install", "-at_install")
class TestSecrets(HcIntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_users()
        cls.sysadmin = new_test_user(cls.env, login="hc_sysadmin_s",
                                     groups=f"{SECRET_GROUP},hc_integration_base.group_hc_admin")
        cls.backend = cls.create_backend(code="secretive", tls_client_cert="CERT", **SECRET_VALUES)

    def test_one_list_of_secrets(self):
        """The declared list and the fields' groups agree, on every integration model."""
        Backend = self.env["hc.backend"]
        self.assertEqual(set(SECRET_VALUES), set(SECRET_FIELDS))
        for name in SECRET_FIELDS:
            field = Backend._fields[name]
            self.assertEqual(field.groups, SECRET_GROUP, name)
            self.assertFalse(field.copy, name)
            self.assertFalse(getattr(field, "tracking", False), name)
            self.assertNotIn(name, BACKEND_FIELDS, name)
        restricted = {
            f"{model._table}.{name}"
            for model in (self.env[m] for m in self.env.registry if m.startswith("hc."))
            if not model._abstract and not model._transient
            for name, field in model._fields.items()
            if field.store and field.groups == SECRET_GROUP and field.type in ("char", "text", "binary", "html")
        }
        self.assertEqual(restricted, {f"hc_backend.{name}" for name in SECRET_FIELDS} | {"hc_message.payload_raw"})
        self.assertEqual(secret_columns(self.env), sorted(restricted))
        self.assertEqual(self.env["ir.config_parameter"].get_param(SECRET_COLUMNS_PARAM), ",".join(sorted(restricted)))

    def test_roles_cannot_read_or_export_any_secret(self):
        for role in ("viewer", "operator", "consultant", "admin"):
            # With the right to export at all, so what refuses is the field's group.
            self.users[role].group_ids = [(4, self.env.ref("base.group_allow_export").id)]
            backend = self.backend.with_user(self.users[role])
            for name in SECRET_FIELDS:
                with self.subTest(role=role, field=name), self.assertRaises(AccessError):
                    backend.read([name])
                with self.subTest(role=role, field=name, export=True), self.assertRaises(AccessError):
                    backend.export_data(["name", name])
            exported = json.dumps(backend._export_config())
            for value in SECRET_VALUES.values():
                self.assertNotIn(value, exported, role)
        self.assertEqual(self.backend.with_user(self.sysadmin).default_headers, SECRET_VALUES["default_headers"])

    def test_neutralized_copy_holds_no_secret(self):
        flow = self.create_flow("admissions", self.backend, name="Admissions", sensitive_paths="patient")
        message = self.receive(flow, {"patient": "raw secret"})
        self.assertNotIn("raw secret", message.payload)
        self.assertTrue(message.sudo().payload_raw)
        self.env["ir.config_parameter"].set_param("hc_integration_base.metrics_token", "s-metrics")
        self.backend.sudo()._transport_config()  # writes the TLS key file
        self.env.flush_all()
        neutralize_database(self.env.cr)
        self.env.invalidate_all()
        for column in secret_columns(self.env):
            table, name = column.split(".")
            # Identifiers from the ORM's own field definitions, not from input.
            self.env.cr.execute(SQL("SELECT count(*) FROM %s WHERE %s IS NOT NULL",
                                    SQL.identifier(table), SQL.identifier(name)))
            self.assertEqual(self.env.cr.fetchone()[0], 0, column)
        self.assertFalse(self.env["ir.config_parameter"].get_param("hc_integration_base.metrics_token"))
        self.assertFalse(self.env["hc.backend"].with_context(active_test=False).search([]).filtered("active"))
        # The filestore (copied with a database) never held TLS material.
        filestore = self.env["ir.attachment"]._filestore()
        self.assertFalse(os.path.exists(os.path.join(filestore, "hc_tls")))

    def test_tls_key_lives_outside_the_filestore(self):
        _cert, key = self.backend.sudo()._transport_config()["cert"]
        self.assertFalse(key.startswith(self.env["ir.attachment"]._filestore()))
        self.assertEqual(os.stat(os.path.dirname(os.path.dirname(os.path.dirname(key)))).st_mode & 0o077, 0)

    def test_inbound_key_generated_by_settings_administrators_only(self):
        with self.assertRaises(AccessError):
            self.backend.with_user(self.users["admin"]).action_generate_inbound_key()
        action = self.backend.with_user(self.sysadmin).action_generate_inbound_key()
        key = self.backend.sudo().inbound_api_key
        self.assertNotEqual(key, SECRET_VALUES["inbound_api_key"])
        self.assertGreaterEqual(len(key), 40)
        self.assertIn(key, action["params"]["message"])


@tagged("post_install", "-at_install")
class TestCopiedDatabase(HcIntegrationCase):
    """A restored, non-neutralized copy makes no outbound call until an administrator confirms."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_users()
        cls.host = Listener()
        cls.addClassCleanup(cls.host.stop)
        cls.backend = cls.create_backend(code="prod_lab", base_url=cls.host.url, environment="production")

    def setUp(self):
        super().setUp()
        self.host.requests.clear()

    def test_copy_calls_nobody_until_confirmed(self):
        self.assertEqual(self.backend.configured_database.split(":")[0], self.env.cr.dbname)
        self.backend.action_test_connection()
        self.assertTrue(self.backend.last_test_ok, self.backend.last_test_message)
        self.assertEqual(len(self.host.requests), 1)
        # What a restore under another name looks like from inside.
        self.backend.configured_database = "hc_production:0f3c"
        self.assertTrue(self.backend.database_mismatch)
        self.backend.action_test_connection()
        self.assertFalse(self.backend.last_test_ok)
        self.assertIn("configured on database hc_production", self.backend.last_test_message)
        with self.assertRaises(UserError):
            self.backend._get_client()
        self.assertEqual(len(self.host.requests), 1)
        for role in ("viewer", "operator", "consultant"):
            with self.subTest(role=role), self.assertRaises(AccessError):
                self.backend.with_user(self.users[role]).action_confirm_database()
        self.backend.with_user(self.users["admin"]).action_confirm_database()
        self.assertFalse(self.backend.database_mismatch)
        self.backend.action_test_connection()
        self.assertTrue(self.backend.last_test_ok, self.backend.last_test_message)
        self.assertEqual(len(self.host.requests), 2)


@tagged("post_install", "-at_install")
class TestConfigurationPromotion(HcIntegrationCase):
    def test_import_keeps_the_targets_endpoints_and_secrets(self):
        backend = self.create_backend(code="lab", base_url="http://127.0.0.1:9/prod", environment="production",
                                      api_key="prod-key", default_headers='{"X-Site": "prod"}', read_timeout=30)
        data = backend._export_config()
        # The same configuration as exported from the test environment, edited there.
        data["backend"].update(base_url="http://127.0.0.1:9/test", environment="test", read_timeout=12)
        data["backend"].update(api_key="test-key", default_headers='{"X-Site": "test"}')  # hand-added
        self.env["hc.backend"]._import_config(data)
        self.assertEqual((backend.base_url, backend.environment), ("http://127.0.0.1:9/prod", "production"))
        self.assertEqual(backend.read_timeout, 12)
        self.assertEqual(backend.sudo().api_key, "prod-key")
        self.assertEqual(backend.sudo().default_headers, '{"X-Site": "prod"}')
        self.env["hc.backend"]._import_config(data, replace_endpoints=True)
        self.assertEqual((backend.base_url, backend.environment), ("http://127.0.0.1:9/test", "test"))
        self.assertEqual(backend.sudo().api_key, "prod-key")

    def test_request_and_paging_settings_travel_with_the_configuration(self):
        backend = self.create_backend(code="mms", base_url="http://127.0.0.1:9/mms")
        self.create_flow("orders", backend, name="Orders", direction="push", system_of_record="odoo",
                         request_method="PUT", request_path="/orders/{reference}", payload_format="xml",
                         xml_root="Order")
        self.create_flow("items", backend, name="Items", direction="pull", paging_page_param="seite",
                         paging_size_param="anzahl", paging_records_path="daten.artikel")
        data = backend._export_config()
        data["backend"]["code"] = "mms_copy"
        copy = self.env["hc.backend"]._import_config(data)
        orders = copy.flow_ids.filtered(lambda f: f.code == "orders")
        items = copy.flow_ids.filtered(lambda f: f.code == "items")
        self.assertEqual((orders.request_method, orders.request_path, orders.payload_format, orders.xml_root),
                         ("PUT", "/orders/{reference}", "xml", "Order"))
        self.assertEqual((items.paging_page_param, items.paging_size_param, items.paging_records_path),
                         ("seite", "anzahl", "daten.artikel"))

    def test_a_path_the_grammar_cannot_read_is_refused_on_save(self):
        backend = self.create_backend(code="paths")
        for field, path in (("sensitive_paths", "patient..name"), ("external_id_path", "lines[x]"),
                            ("idempotency_key_path", "a[0")):
            with self.subTest(field=field), self.assertRaises(ValidationError) as refused:
                self.create_flow(f"adm_{field}", backend, name="Admissions", **{field: path})
            self.assertIn(path, str(refused.exception))
        flow = self.create_flow("adm_ok", backend, name="Admissions",
                                sensitive_paths="patient['national-id']\nlines[*].note\n//PID")
        self.assertEqual(len(flow._sensitive_path_list()), 3)
