
from odoo.exceptions import AccessError
from odoo.modules.neutralize import neutralize_database
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from ..models.hc_backend_secrets import SECRET_FIELDS as SECRETS
from .common import HcIntegrationCase, HcIntegrationHttpCase


@tagged("post_install", "-at_install")
class TestBackendSecurity(HcIntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_users()
        cls.backend = cls.create_backend(
            auth_type="api_key",
            api_key="top-secret-key",
            auth_password="top-secret-password",
            bearer_token="top-secret-token",
            oauth_client_secret="top-secret-oauth",
            tls_client_key="-----BEGIN PRIVATE KEY-----secret",
        )

    def test_secrets_unreadable_without_settings_rights(self):
        for role in ("viewer", "operator", "consultant", "admin"):
            backend = self.backend.with_user(self.users[role])
            self.assertEqual(backend.name, "Test backend")
            for field in SECRETS:
                with self.subTest(role=role, field=field), self.assertRaises(AccessError):
                    backend.read([field])
            # Reading "all fields" silently leaves the secrets out.
            values = backend.read()[0]
            self.assertFalse(set(SECRETS) & set(values), role)
            searched = backend.search_read([("id", "=", self.backend.id)])[0]
            self.assertFalse(set(SECRETS) & set(searched), role)
            with self.assertRaises(AccessError):
                backend.search([("api_key", "=", "top-secret-key")])

    def test_settings_admin_reads_secrets(self):
        admin = new_test_user(
            self.env, login="hc_sysadmin", groups="base.group_system,hc_integration_base.group_hc_admin"
        )
        self.assertEqual(self.backend.with_user(admin).api_key, "top-secret-key")

    def test_access_rights_per_role(self):
        Backend = self.env["hc.backend"]
        for role in ("viewer", "operator", "consultant"):
            with self.subTest(role=role):
                with self.assertRaises(AccessError):
                    Backend.with_user(self.users[role]).create({"name": "x", "code": "x"})
                with self.assertRaises(AccessError):
                    self.backend.with_user(self.users[role]).write({"name": "renamed"})
                with self.assertRaises(AccessError):
                    self.backend.with_user(self.users[role]).unlink()
        admin_backend = Backend.with_user(self.users["admin"]).create({"name": "y", "code": "y"})
        admin_backend.write({"read_timeout": 12})
        admin_backend.unlink()
        with self.assertRaises(AccessError):
            Backend.with_user(new_test_user(self.env, login="plain_user")).search([])

    def test_multi_company_rule(self):
        other_company = self.env["res.company"].create({"name": "Other hospital"})
        foreign = self.create_backend(code="foreign", company_id=other_company.id)
        shared = self.create_backend(code="shared", company_id=False)
        viewer = self.users["viewer"]
        visible = self.env["hc.backend"].with_user(viewer).search([])
        self.assertIn(self.backend, visible)
        self.assertIn(shared, visible)
        self.assertNotIn(foreign, visible)
        viewer.write({"company_ids": [(4, other_company.id)]})
        visible = (
            self.env["hc.backend"]
            .with_user(viewer)
            .with_context(allowed_company_ids=[other_company.id])
            .search([])
        )
        self.assertIn(foreign, visible)
        self.assertNotIn(self.backend, visible)

    def test_neutralization_deactivates_and_wipes(self):
        neutralize_database(self.env.cr)
        self.env.invalidate_all()
        backend = self.backend.with_context(active_test=False)
        self.assertFalse(backend.active)
        for field in SECRETS:
            self.assertFalse(backend[field], field)
        demo = self.env["hc.backend"].with_context(active_test=False).search([])
        self.assertFalse(any(demo.mapped("active")))

    def test_rotation_reminder_once(self):
        self.backend.write(
            {
                "responsible_user_id": self.users["admin"].id,
                "secret_rotate_by": "2000-01-10",
                "secret_warning_days": 14,
            }
        )
        far = self.create_backend(code="far", secret_rotate_by="2999-01-01")
        self.env["hc.backend"]._cron_check_secret_rotation()
        self.env["hc.backend"]._cron_check_secret_rotation()
        activities = self.backend.activity_ids
        self.assertEqual(len(activities), 1)
        self.assertEqual(activities.user_id, self.users["admin"])
        self.assertFalse(far.activity_ids)

    def test_validation_errors_are_sentences(self):
        from odoo.exceptions import ValidationError

        with self.assertRaisesRegex(ValidationError, "lowercase"):
            self.create_backend(code="Bad Code")
        with self.assertRaisesRegex(ValidationError, "JSON object"):
            self.create_backend(code="hdr", default_headers="not json")
        with self.assertRaisesRegex(ValidationError, "only available for SOAP"):
            self.create_backend(code="wsse_rest", auth_type="wsse")
        with self.assertRaisesRegex(ValidationError, "positive"):
            self.create_backend(code="zero", read_timeout=0)


@tagged("post_install", "-at_install")
class TestBackendSecretsJsonRpc(HcIntegrationHttpCase):
    """The same rule seen from the web client's JSON-RPC, as a browser session would."""

    @mute_logger("odoo.http")
    def test_jsonrpc_read_of_secret_refused(self):
        self.setup_users()
        backend = self.create_backend(code="rpc_backend", api_key="rpc-secret-key")
        for role in ("consultant", "operator"):
            user = self.users[role]
            for fields in (["api_key"], ["name", "api_key"]):
                response = self.call_kw(user, "hc.backend", "read", [[backend.id], fields])
                body = response.json()
                self.assertIn("error", body, (role, fields))
                self.assertNotIn("rpc-secret-key", response.text)
            response = self.call_kw(user, "hc.backend", "web_read", [[backend.id]],
                                    {"specification": {"name": {}, "code": {}}})
            self.assertEqual(response.json()["result"][0]["code"], "rpc_backend")
            self.assertNotIn("rpc-secret-key", response.text)

    def test_tls_material_written_to_private_files(self):
        import os
        import stat

        backend = self.create_backend(
            code="mtls", tls_ca_bundle="-----BEGIN CERTIFICATE-----\nCA\n", tls_client_cert="CERT",
            tls_client_key="KEY",
        )
        config = backend.sudo()._transport_config()
        self.assertTrue(os.path.isfile(config["verify"]))
        with open(config["verify"], encoding="utf-8") as handle:
            self.assertEqual(handle.read(), "-----BEGIN CERTIFICATE-----\nCA\n")
        cert, key = config["cert"]
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        backend.tls_ca_bundle = False
        self.assertIs(backend.sudo()._transport_config()["verify"], True)

    def test_configuration_import_refuses_a_bad_file(self):
        import base64

        from odoo.exceptions import UserError

        wizard = self.env["hc.config.import"].create({"file": base64.b64encode(b"not json")})
        with self.assertRaisesRegex(UserError, "not valid JSON"):
            wizard.action_import()
        wizard.file = base64.b64encode(b'{"format": "other"}')
        with self.assertRaisesRegex(UserError, "not an integration configuration"):
            wizard.action_import()
