from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.hc_integration_base.tests.common import HcIntegrationCase


@tagged("post_install", "-at_install")
class TestOwnership(HcIntegrationCase):
    """Suppliers pulled from a legacy system of record, as procurement users edit them.

    The sync mixin's rules themselves are tested on a model of their own (test_hc_integration);
    this is what they become on suppliers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_simulators()
        cls.backend = cls.create_backend(code="mapped", base_url=cls.sims.rest_url, auth_type="api_key",
                                         api_key="sim-api-key")
        cls.flow = cls.create_flow("suppliers", cls.backend, name="Suppliers", direction="pull",
                                   remote_resource="/api/v1/suppliers", external_id_path="code", page_size=5)
        cls.create_mapping(cls.flow, [
            {"source": "code", "target": "ref", "required": True},
            {"source": "name", "target": "name", "required": True},
            {"source": "email", "target": "email", "params": '{"case": "upper"}'},
        ])

    def test_ownership_rules(self):
        self.pull(self.flow)
        partner = self.env["res.partner"].search([("ref", "=", "SUP-0002")])
        clerk = new_test_user(self.env, login="hc_clerk", groups="base.group_partner_manager")
        # warn (default): the web client's onchange names the owning system
        result = partner.with_user(clerk).onchange({"email": "x@y.z"}, ["email"], {"email": {}})
        self.assertIn(self.backend.name, result["warning"]["message"])
        self.assertIn("Email", result["warning"]["message"])
        partner.with_user(clerk).write({"email": "x@y.z"})
        # block: the field is read-only for people, the sync still writes it
        self.flow.ownership_policy = "block"
        with self.assertRaisesRegex(UserError, self.backend.name):
            partner.with_user(clerk).write({"email": "again@y.z"})
        partner.with_user(clerk).write({"phone": "+33 1 00 00 00 00"})  # not owned by the flow
        # a legacy-owned flow never pushes the objects back
        with self.assertRaisesRegex(UserError, "never pushes it back"):
            self.receive(self.flow, {"ref": "x"}, jobs=None, direction="outbound", record=partner)
