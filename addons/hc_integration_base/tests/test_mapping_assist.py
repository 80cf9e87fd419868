import json

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import HcIntegrationCase, data


@tagged("post_install", "-at_install")
class TestMappingAssist(HcIntegrationCase):
    """What helps a consultant write a mapping: a REST sample fetched once through the backend
    drafts an inbound mapping; the common parameters are form fields kept in ``params``;
    sources and targets are picked from lists; Try it reads an answer for a response mapping."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_simulators()
        cls.backend = cls.create_backend(name="Assist REST", code="assist_rest", base_url=cls.sims.rest_url,
                                         auth_type="api_key", api_key="sim-api-key", read_timeout=5)
        consultant = new_test_user(cls.env, login="hc_assist_consultant",
                                   groups="base.group_user,hc_integration_base.group_hc_consultant")
        cls.cenv = cls.env(user=consultant)
        cls.flow = cls.create_flow("assist_suppliers", cls.backend, env=cls.cenv, name="Assist suppliers",
                                   direction="pull", remote_resource="/api/v1/suppliers", external_id_path="code",
                                   page_size=5, sensitive_paths="email")

    def test_sample_fetched_through_the_backend_drafts_an_inbound_mapping(self):
        wizard = self.cenv["hc.mapping.draft"].create({"flow_id": self.flow.id})
        self.assertFalse(wizard.operation_id, "a REST flow has no operation to choose")
        wizard.action_fetch_sample()
        sample = json.loads(wizard.sample)
        first = data.supplier(self.sims.state.seed, 0)
        self.assertEqual(sample["code"], first["code"])
        self.assertNotEqual(sample["email"], first["email"], "the flow's sensitive paths are masked")
        self.assertIn("payment_terms_days", wizard.sample_paths)
        action = wizard.action_generate()
        mapping = self.cenv["hc.mapping"].browse(action["res_id"])
        self.assertEqual((mapping.direction, mapping.state), ("inbound", "draft"))
        pairs = {ln.source: ln.target for ln in mapping.line_ids}
        self.assertEqual(pairs.get("name"), "name")
        self.assertEqual(pairs.get("email"), "email")
        self.assertIn("name", [p for p, _d in mapping._path_choices("target")], "the model's fields are targets")
        self.assertIn("payment_terms_days", [p for p, _d in mapping._path_choices("source")])

    def test_a_pasted_sample_that_is_not_json_is_named(self):
        wizard = self.cenv["hc.mapping.draft"].create({"flow_id": self.flow.id, "sample": "{not json"})
        with self.assertRaisesRegex(UserError, "The sample is not valid JSON"):
            wizard.action_generate()

    def test_parameter_fields_are_stored_in_params(self):
        table = self.create_code_table("assist_uom", {}, env=self.cenv, name="Assist units")
        mapping = self.create_mapping(self.flow, [
            {"source": "since", "target": "comment", "transform": "date"},
            {"source": "unit", "target": "ref", "transform": "value_map",
             "params": '{"table": "assist_uom", "case": "upper"}'},
        ], activate=False, env=self.cenv)
        date_line, unit_line = mapping.line_ids
        date_line.param_format = "%d.%m.%Y"
        self.assertEqual(json.loads(date_line.params), {"format": "%d.%m.%Y"})
        self.assertEqual(unit_line.param_table_id, table, "the code table is read from params")
        unit_line.write({"param_decimal_separator": ",", "param_expression": "value.strip()"})
        self.assertEqual(json.loads(unit_line.params), {"table": "assist_uom", "case": "upper",
                                                       "decimal_separator": ",", "expression": "value.strip()"})
        unit_line.param_table_id = False
        self.assertNotIn("table", json.loads(unit_line.params))
        date_line.param_format = False
        self.assertFalse(date_line.params)

    def test_sources_and_targets_are_picked_from_lists(self):
        mapping = self.create_mapping(self.flow, [{"source": "code", "target": "ref"}], activate=False,
                                      env=self.cenv)
        line = mapping.line_ids
        self.assertEqual(line.source_path_id.name, "code")
        found = self.cenv["hc.mapping.path"].with_context(hc_mapping_id=mapping.id).name_search(
            "email", [("kind", "=", "target")])
        email = self.cenv["hc.mapping.path"].browse(found[0][0])
        self.assertEqual(email.name, "email")
        line.target_path_id = email
        self.assertEqual(line.target, "email")

    def test_try_a_response_mapping_on_a_pasted_answer(self):
        push = self.create_flow("assist_push", self.backend, env=self.cenv, name="Assist push", direction="push",
                                remote_resource="/api/v1/partners")
        self.create_code_table("assist_status", {"OK": "accepted", "KO": "rejected"}, env=self.cenv,
                               name="Assist status")
        response = self.create_mapping(push, [
            {"source": "result.code", "target": "status", "transform": "value_map",
             "params": '{"table": "assist_status"}'},
            {"source": "result.text", "target": "reason"},
        ], direction="response", activate=False, env=self.cenv)
        trial = self.cenv["hc.mapping.try"].create({"mapping_id": response.id})
        with self.assertRaisesRegex(UserError, "Paste an answer"):
            trial.action_try()
        trial.payload = '{"result": {"code": "KO", "text": "unknown partner"}}'
        trial.action_try()
        self.assertIn("Acknowledgement", trial.result)
        self.assertIn("rejected", trial.result)
        self.assertIn("unknown partner", trial.result)
