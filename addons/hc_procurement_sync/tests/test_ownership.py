from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.hc_integration_base.tests import test_mapping


@tagged("post_install", "-at_install")
class TestOwnership(test_mapping.TestMappingVersions):
    """Suppliers pulled from a legacy system of record, as procurement users edit them."""

    # The inherited mapping tests already run in hc_integration_base.
    test_activation_rules = None
    test_pull_applies_active_mapping_and_names_missing_codes = None
    test_try_it_shows_each_line_and_writes_nothing = None

    def test_ownership_rules(self):
        self.mapping.action_activate()
        self.pull()
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
            self.env["hc.message"]._receive_push(self.flow, {"ref": "x"}, record=partner)
