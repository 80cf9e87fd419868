import json

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import HcIntegrationCase, data, mapping_line


@tagged("post_install", "-at_install")
class TestMappingVersions(HcIntegrationCase):
    """Consultant-edited mappings and code tables, applied by a real pull from the simulator."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_simulators()
        cls.backend = cls.create_backend(
            code="mapped", base_url=cls.sims.rest_url, auth_type="api_key", api_key="sim-api-key"
        )
        cls.flow = cls.create_flow("suppliers", cls.backend, name="Suppliers", direction="pull",
                                   remote_resource="/api/v1/suppliers", external_id_path="code", page_size=5)
        cls.country_map = cls.create_code_table(
            "country", {code: cls.env.ref(f"base.{code.lower()}")
                        for code in ("FR", "PT", "BE", "AT", "FI", "SE")},  # ES deliberately missing
            model="res.country", name="Legacy countries")
        cls.terms_map = cls.create_code_table("terms", {str(d): f"Net {d}" for d in (30, 45, 60)},
                                              name="Payment terms")
        cls.mapping = cls.create_mapping(cls.flow, [
            {"source": "code", "target": "ref", "required": True, "validation_regex": r"SUP-\d{4}"},
            {"source": "name", "target": "name", "required": True},
            {"source": "email", "target": "email", "params": '{"case": "upper"}'},
            {"source": "country_code", "target": "country_id", "transform": "value_map",
             "params": '{"table": "country"}'},
            {"source": "payment_terms_days", "target": "comment", "transform": "value_map",
             "params": '{"table": "terms"}'},
        ], activate=False)

    def test_activation_rules(self):
        self.assertEqual(self.mapping.state, "draft")
        self.assertFalse(self.flow.active_mapping_id)
        self.mapping.action_activate()
        self.assertEqual(self.flow.active_mapping_id, self.mapping)
        self.assertIn("Mapping version 1 activated", self.flow.message_ids[0].body)
        with self.assertRaises(UserError):
            self.mapping.line_ids[0].write({"target": "name"})
        with self.assertRaises(UserError):
            self.mapping.action_activate()
        action = self.mapping.action_duplicate_draft()
        draft = self.env["hc.mapping"].browse(action["res_id"])
        self.assertEqual((draft.state, draft.version, len(draft.line_ids)), ("draft", 2, 5))
        draft.line_ids.filtered(lambda line: line.target == "email").params = '{"case": "lower"}'
        draft.action_activate()
        self.assertEqual(self.mapping.state, "archived")
        self.assertEqual(self.flow.active_mapping_id, draft)
        self.assertEqual(self.env["hc.mapping"].search_count([("flow_id", "=", self.flow.id),
                                                                ("state", "=", "active")]), 1)
        broken = draft.copy({"state": "draft", "version": 3})
        broken.line_ids[0].write({"validation_regex": "("})
        with self.assertRaisesRegex(UserError, "does not compile"):
            broken.action_activate()

    def test_pull_applies_active_mapping_and_names_missing_codes(self):
        self.mapping.action_activate()
        run = self.pull(self.flow)
        suppliers = [data.supplier(self.sims.state.seed, i) for i in range(10)]
        unmapped = [s for s in suppliers if s["country_code"] == "ES"]  # no entry for ES
        self.assertEqual(run.state, "done")
        self.assertEqual((run.count_created, run.count_failed), (10 - len(unmapped), len(unmapped)))
        by_ref = {p.ref: p for p in self.env["res.partner"].search([("ref", "like", "SUP-")])}
        for supplier in suppliers:
            if supplier in unmapped:
                self.assertNotIn(supplier["code"], by_ref)
                continue
            partner = by_ref[supplier["code"]]
            self.assertEqual(partner.email, supplier["email"].upper())
            self.assertEqual(partner.country_id.code, supplier["country_code"])
            self.assertIn(f"Net {supplier['payment_terms_days']}", str(partner.comment))
        responses = " ".join(filter(None, run.page_message_ids.mapped("response")))
        for supplier in unmapped:
            self.assertIn(supplier["code"], responses)
        self.assertTrue(unmapped, "the simulator data must exercise a missing code")
        self.assertIn("code 'ES' not found in value map 'country'", responses)

    def test_try_it_shows_each_line_and_writes_nothing(self):
        before = self.env["res.partner"].search_count([])
        wizard = self.env["hc.mapping.try"].create({
            "mapping_id": self.mapping.id,
            "payload": '{"code": "SUP-0042", "name": "Try Supplier", "email": "a@b.c", "country_code": "XX",'
                       ' "payment_terms_days": 45}',
        })
        wizard.action_try()
        self.assertIn("Try Supplier", wizard.result)
        self.assertIn("A@B.C", wizard.result)
        self.assertIn("Net 45", wizard.result)
        self.assertIn("code 'XX' not found in value map 'country'", str(wizard.result))
        self.assertIn("1 line error", wizard.result)
        self.assertEqual(self.env["res.partner"].search_count([]), before)

    def test_configuration_export_import_round_trip(self):
        self.backend.sudo().write({"api_key": "very-secret-key", "inbound_api_key": "inbound-secret"})
        self.mapping.action_activate()
        exported = self.backend._export_config()
        text = json.dumps(exported, default=str)
        for secret in ("very-secret-key", "inbound-secret", "sim-api-key"):
            self.assertNotIn(secret, text)
        self.assertEqual({t["code"] for t in exported["code_tables"]}, {"country", "terms"})
        # "Another database": nothing of this configuration exists there yet.
        self.flow.mapping_ids.write({"state": "archived"})
        self.flow.unlink()
        self.backend.unlink()
        (self.country_map | self.terms_map).unlink()
        imported = self.env["hc.backend"]._import_config(json.loads(text))
        self.assertEqual(imported.code, "mapped")
        self.assertEqual(imported.base_url, self.sims.rest_url)
        self.assertFalse(imported.sudo().api_key, "secrets are set after an import, never carried")
        flow = imported.flow_ids
        self.assertEqual((flow.code, flow.model_name, flow.remote_resource), ("suppliers", "res.partner",
                                                                              "/api/v1/suppliers"))
        mapping = flow.active_mapping_id
        self.assertEqual(len(mapping.line_ids), 5)
        self.assertEqual(mapping.line_ids.sorted("sequence").mapped("target"),
                         ["ref", "name", "email", "country_id", "comment"])
        table = self.env["hc.value.map"].search([("code", "=", "country")])
        self.assertEqual(table._lookup_dict()["FR"], self.env.ref("base.fr").id)
        with self.assertRaisesRegex(UserError, "not an integration configuration"):
            self.env["hc.backend"]._import_config({"format": "something else"})

    def test_inbound_targets_are_fields_of_the_model(self):
        draft = self.env["hc.mapping"].browse(self.mapping.action_duplicate_draft()["res_id"])
        self.assertEqual(set(draft.line_ids.mapped("target_model")), {"res.partner"})
        with self.assertRaisesRegex(ValidationError, "has no field emial"):
            draft.line_ids.filtered(lambda ln: ln.target == "email").target = "emial"

    def test_cached_mapping_outlives_the_transaction_that_compiled_it(self):
        """A worker compiles a mapping in one job and reuses it in the next ones: the lookups must
        use the current transaction, and a code table edited since must be read again."""
        self.mapping.action_activate()
        partner = self.env["res.partner"].create({"name": "Bound supplier"})
        self.env["hc.binding"].create({"backend_id": self.backend.id, "res_model": "res.partner",
                                       "external_id": "SUP-0042", "res_id": partner.id})
        version = self.mapping.copy({"state": "draft", "version": 9})
        version.line_ids.create({"mapping_id": version.id, "sequence": 6, "source": "code", "target": "parent_id",
                                 "transform": "many2one", "params": '{"model": "res.partner", "by": "binding"}'})
        version.action_activate()
        payload = {"code": "SUP-0042", "name": "X", "country_code": "FR", "payment_terms_days": 30}
        with self.env.registry.cursor() as cr:  # a first job of the worker, then its cursor is closed
            first = version.with_env(version.env(cr=cr))._compiled()(payload)
        self.assertEqual(first.values["parent_id"], partner.id)
        second = version._compiled()(payload)  # the next job: same cached version, new transaction
        self.assertFalse(second.errors, second.errors)
        self.assertEqual((second.values["parent_id"], second.values["comment"]), (partner.id, "Net 30"))
        self.terms_map.entry_ids.filtered(lambda e: e.legacy_code == "30").value = "30 days net"
        self.assertEqual(version._compiled()(payload).values["comment"], "30 days net")


@tagged("post_install", "-at_install")
class TestCodeTablesBothWays(HcIntegrationCase):
    """A code table read legacy -> Odoo by inbound mappings is read Odoo -> legacy by outbound ones."""

    def test_outbound_line_sends_the_legacy_code_of_a_record_and_a_value(self):
        self.create_code_table("their_countries", {"FRA": self.env.ref("base.fr"), "POR": self.env.ref("base.pt")},
                               model="res.country", name="Their countries")
        self.create_code_table("their_kinds", {"P": "person", "F": "company"}, name="Their kinds")
        flow = self.create_flow("contacts_out", self.create_backend(code="both_ways"), name="Contacts out",
                                direction="push", system_of_record="odoo")
        self.create_mapping(flow, [
            mapping_line(1, "country_id", "land", "value_map", table="their_countries"),
            mapping_line(2, "company_type", "art", "value_map", table="their_kinds"),
        ], direction="outbound")
        partner = self.env["res.partner"].create({"name": "Clinique", "is_company": True,
                                                  "country_id": self.env.ref("base.pt").id})
        payload = self.env["hc.handler.generic"]._prepare_payload(flow, partner)
        self.assertEqual(payload, {"land": "POR", "art": "F"})
        partner.country_id = self.env.ref("base.es")
        with self.assertRaises(UserError) as refused:
            self.env["hc.handler.generic"]._prepare_payload(flow, partner)
        self.assertIn("not found in value map 'their_countries'", str(refused.exception))
