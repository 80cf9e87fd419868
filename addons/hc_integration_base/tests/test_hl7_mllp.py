"""HL7 v2 over MLLP in the message store: the hl7v2 mapping format, the listener's store
(idempotency on MSH-10, AR / AE refusals kept in the exception queue), patient data masked."""

from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.queue_job.tests.common import trap_jobs

from legacy_sim import hl7_peer  # noqa: I001 - the repository root, put on sys.path by .common

from ..payload import hl7v2
from ..transports.mllp import MllpListener
from .common import HcIntegrationCase


@tagged("post_install", "-at_install")
class TestHl7Mllp(HcIntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_users()
        cls.backend = cls.create_backend(name="Stores MMIS", code="mmis", protocol="mllp", mllp_listen_port=39761)
        cls.vendors = cls.create_flow("vendors", cls.backend, name="Vendors (MFN^M16)", object_type="generic",
                                      external_id_path="VND-2", hl7_message_types="MFN^M16")
        cls.mapping = cls.create_mapping(cls.vendors, [
            {"source": "VND-2", "target": "ref", "required": True},
            {"source": "VND-3", "target": "name", "required": True},
            {"transform": "constant", "target": "is_company", "params": '{"value": true}'},
        ], payload_format="hl7v2", record_segment="VND")
        cls.charges = cls.create_flow("charges", cls.backend, name="Supply charges", object_type="generic",
                                      external_id_path="FT1-2", hl7_message_types="DFT")
        cls.create_mapping(cls.charges, [
            {"source": "FT1-7.1", "target": "ref", "required": True},
            {"source": "FT1-8", "target": "name", "required": True},
        ], payload_format="hl7v2", record_segment="FT1")

    def hl7(self, text):
        """An HL7 v2 message (ER7 text) stored as the MLLP listener stores it; its jobs trapped."""
        message = hl7v2.parse(text)
        with trap_jobs():
            return self.backend._hl7_receive(message)

    def listener(self):
        """The transport's listener with the backend's store, answering frames without a socket thread."""
        listener = MllpListener(
            lambda message: (lambda r: (r["code"] == "AA", r["reason"], r["code"], r["error_code"]))(
                self.backend._hl7_receive(message)),
            port=0, on_refused=lambda data, error: self.backend._hl7_record_refusal(data, error))
        self.addCleanup(listener._server.server_close)
        return listener

    # --- mapping format -------------------------------------------------------------------------
    def test_mfn_m16_vendors_are_mapped_one_record_per_vnd(self):
        result = self.hl7(hl7_peer.mfn_m16("CTRL-100"))
        self.assertEqual(result["code"], "AA")
        [message] = result["messages"]
        self.assertEqual((message.state, message.flow_id, message.idempotency_key, message.external_id),
                         ("queued", self.vendors, "CTRL-100@vendors", "CTRL-100"))
        outcome = message._job_process()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(outcome["counts"]["created"], 2)
        partners = self.env["res.partner"].search([("ref", "in", ("V-MEDLINE", "V-BD"))])
        self.assertEqual(sorted(partners.mapped("name")), ["Becton Dickinson", "Medline"])
        self.assertTrue(all(partners.mapped("is_company")))
        binding = self.env["hc.binding"]._lookup(self.backend, "res.partner", "V-MEDLINE")
        self.assertEqual(binding.res_id, partners.filtered(lambda p: p.ref == "V-MEDLINE").id)

    def test_mapping_checks_its_record_segment_and_paths(self):
        draft = self.mapping.copy({"state": "draft", "version": 9})
        with self.assertRaises(ValidationError):
            draft.record_segment = "vnd1"
        draft.write({"line_ids": [(0, 0, {"sequence": 9, "source": "VND-0", "target": "comment"})]})
        with self.assertRaisesRegex(UserError, "does not compile.*VND-0"):
            draft.action_activate()
        with self.assertRaisesRegex(ValidationError, "ACK"):
            self.create_mapping(self.vendors, payload_format="hl7v2", direction="response", activate=False)
        with self.assertRaisesRegex(ValidationError, "record segment"):
            self.create_mapping(self.vendors, payload_format="hl7v2", direction="outbound", record_segment="VND",
                                activate=False)

    # --- idempotency on MSH-10 ------------------------------------------------------------------
    def test_same_control_id_twice_is_one_message_answered_aa_again(self):
        text = hl7_peer.mfn_m16("CTRL-200")
        first = self.hl7(text)
        # The sender resends after a lost ACK, stamping MSH-7 anew: the same message.
        resent = self.hl7(text.replace(text.split("|")[6], "20000101000000", 1))
        self.assertEqual((resent["code"], resent["duplicate"]), ("AA", True))
        self.assertEqual(resent["messages"], first["messages"])
        self.assertEqual(resent["correlation_id"], first["correlation_id"])
        self.assertEqual(self.env["hc.message"].search_count([("backend_id", "=", self.backend.id)]), 1)
        first["messages"]._job_process()
        self.assertEqual(self.env["res.partner"].search_count([("ref", "=", "V-MEDLINE")]), 1)
        # Another message under a control id already taken: refused (AE 205), kept for the operator.
        other = self.hl7(text.replace("V-MEDLINE", "V-OTHER"))
        self.assertEqual((other["code"], other["error_code"]), ("AE", "205"))
        self.assertIn("MSH-10 CTRL-200 was already used", other["reason"])
        refused = other["messages"]
        self.assertEqual((refused.state, refused.error_category, refused.job_uuid), ("exception", "validation", False))
        self.assertFalse(self.env["res.partner"].search_count([("ref", "=", "V-OTHER")]), "nothing applied")

    # --- group commit: several messages in one transaction ---------------------------------------
    def test_a_batch_answers_each_message_as_if_it_came_alone(self):
        """The listener's group commit: repeats and conflicts inside the batch and against stored
        messages, refusals beside accepted messages, two flows taking the type; the jobs stored."""
        held = self.hl7(hl7_peer.mfn_m16("GC-0"))  # before a second flow takes MFN^M16
        copies = self.create_flow("vendor_copies", self.backend, name="Vendor copies", object_type="generic",
                                  external_id_path="VND-2", hl7_message_types="MFN^M16")
        self.create_mapping(copies, [{"source": "VND-2", "target": "ref", "required": True}],
                            payload_format="hl7v2", record_segment="VND")
        text = hl7_peer.mfn_m16("GC-1")
        batch = [
            text,                                                # new: stored for both flows
            text.replace(text.split("|")[6], "20000101000000", 1),  # the same again (MSH-7 aside): a repeat
            text.replace("V-MEDLINE", "V-OTHER"),                # another message under GC-1: AE 205
            hl7_peer.oms_o05("GC-2"),                            # a type no flow takes: AR 200
            hl7_peer.mfn_m16("GC-0"),                            # stored before: a repeat, its copy stored
            hl7_peer.mfn_m16("GC-3"),                            # new
        ]
        answers = self.backend._hl7_receive_batch([hl7v2.parse(t) for t in batch])
        self.assertEqual([(a["code"], a["error_code"], a["duplicate"]) for a in answers], [
            ("AA", "", False), ("AA", "", True), ("AE", "205", False), ("AR", "200", False), ("AA", "", False),
            ("AA", "", False)])
        first = answers[0]["messages"]
        self.assertEqual(sorted(first.mapped("idempotency_key")), ["GC-1@vendor_copies", "GC-1@vendors"])
        self.assertEqual((answers[1]["messages"], answers[1]["correlation_id"]), (first, answers[0]["correlation_id"]))
        self.assertEqual(set(first.mapped("correlation_id")), {answers[0]["correlation_id"]})
        self.assertIn("MSH-10 GC-1 was already used", answers[2]["reason"])
        self.assertIn(f"message {first.sorted('id')[0].id}", answers[2]["reason"])
        self.assertEqual((answers[2]["messages"].state, answers[2]["messages"].job_uuid), ("exception", False))
        self.assertEqual(answers[3]["messages"].state, "exception")
        # GC-0 was stored for the vendors flow only (the copies flow came later): the repeat adds its copy
        self.assertEqual(answers[4]["messages"].mapped("idempotency_key"), ["GC-0@vendors", "GC-0@vendor_copies"])
        self.assertEqual(answers[4]["messages"][:1], held["messages"])
        self.assertEqual(set(answers[4]["messages"].mapped("correlation_id")), {held["correlation_id"]})
        Message = self.env["hc.message"]
        self.assertEqual(Message.search_count([("idempotency_key", "=like", "GC-1@%")]), 2, "GC-1 stored once per flow")
        self.assertFalse(Message.search_count([("payload", "like", "V-OTHER"), ("state", "!=", "exception")]))
        # Each new message is queued with its job, as with_delay queues it: channel, user, method, record.
        new = first | answers[5]["messages"] | answers[4]["messages"][1:]
        self.assertEqual(len(new), 5)
        jobs = self.env["queue.job"].search([("uuid", "in", new.mapped("job_uuid"))])
        self.assertEqual(len(jobs), 5)
        user = self.backend._job_user()
        for message in new:
            job = jobs.filtered(lambda j, m=message: j.uuid == m.job_uuid)
            self.assertEqual((message.state, job.state, job.model_name, job.method_name, job.records, job.user_id.id,
                              job.channel, job.max_retries, job.name),
                             ("queued", "pending", "hc.message", "_job_process", message, user,
                              message.flow_id._channel_for_jobs(), message.flow_id.max_attempts, message.display_name))
        vendors = first.filtered(lambda m: m.flow_id == self.vendors)
        vendors._job_process()
        self.assertEqual(vendors.state, "done", vendors.error_message)
        self.assertEqual(self.env["res.partner"].search_count([("ref", "=", "V-MEDLINE")]), 1)

    def test_a_batch_meeting_a_key_taken_meanwhile_stores_each_message_alone(self):
        """Another process stored one of the batch's keys after the batch's lookup: the unique index
        refuses the batch's INSERT, and each message is stored on its own (the repeat answered AA)."""
        self.hl7(hl7_peer.mfn_m16("GC-10"))
        messages = [hl7v2.parse(hl7_peer.mfn_m16(c)) for c in ("GC-10", "GC-11")]
        with patch.object(type(self.env["hc.message"]), "_keys_held", return_value={}), mute_logger("odoo.sql_db"):
            answers = self.backend._hl7_receive_batch(messages)
        self.assertEqual([(a["code"], a["duplicate"]) for a in answers], [("AA", True), ("AA", False)])
        self.assertEqual(self.env["hc.message"].search_count([("idempotency_key", "in", ("GC-10@vendors",
                                                                                         "GC-11@vendors"))]), 2)

    # --- refusals -------------------------------------------------------------------------------
    def test_malformed_msh_is_refused_with_ar_and_kept_in_the_exception_queue(self):
        listener = self.listener()
        before = self.env["res.partner"].search_count([])
        text = hl7_peer.mfn_m16("CTRL-300").replace("|P|2.6|", "|P||", 1)  # no MSH-12
        with trap_jobs() as trap:
            ack = hl7v2.parse_ack(listener.handle_frame(text.encode()).to_er7())
            trap.assert_jobs_count(0)
        self.assertEqual((ack.code, ack.control_id, ack.error_code), ("AR", "CTRL-300", "101"))
        self.assertIn("MSH-12", ack.text)
        refused = self.env["hc.message"].search([("backend_id", "=", self.backend.id)])
        self.assertEqual((refused.state, refused.external_id), ("exception", "CTRL-300"))
        self.assertIn("Refused with AR", refused.error_message)
        self.assertEqual(self.env["res.partner"].search_count([]), before, "nothing applied")
        # A frame that is not HL7 at all, and a type no flow takes: AR too.
        garbage = hl7v2.parse_ack(listener.handle_frame(b"hello").to_er7())
        self.assertEqual(garbage.code, "AR")
        with trap_jobs():
            ack = hl7v2.parse_ack(listener.handle_frame(hl7_peer.oms_o05("OMS-1").encode()).to_er7())
        self.assertEqual((ack.code, ack.error_code), ("AR", "200"))
        self.assertIn("OMS^O05 is not taken", ack.text)
        self.assertEqual(self.env["hc.message"].search_count(
            [("backend_id", "=", self.backend.id), ("state", "=", "exception")]), 3)

    def test_accepted_message_that_cannot_be_applied_lands_in_the_exception_queue(self):
        listener = self.listener()
        text = hl7_peer.mfn_m16("CTRL-400").replace("VND|1|V-MEDLINE|Medline", "VND|1|V-MEDLINE|", 1)
        text = text.replace("VND|1|V-BD|Becton Dickinson", "VND|1|V-BD|", 1)
        with trap_jobs():
            ack = hl7v2.parse_ack(listener.handle_frame(text.encode()).to_er7())
        self.assertEqual(ack.code, "AA", "stored: acknowledged before it is applied")
        message = self.env["hc.message"].search([("idempotency_key", "=", "CTRL-400@vendors")])
        message._job_process()
        self.assertEqual((message.state, message.error_category), ("exception", "mapping"))
        self.assertIn("VND-3", message.error_message)
        self.assertFalse(self.env["res.partner"].search_count([("ref", "in", ("V-MEDLINE", "V-BD"))]))

    # --- patient data ---------------------------------------------------------------------------
    def test_patient_segments_are_masked_before_storage(self):
        result = self.hl7(hl7_peer.dft_p03("DFT-1"))
        [message] = result["messages"]
        self.assertEqual((result["code"], message.flow_id, message.state), ("AA", self.charges, "queued"))
        stored = (message.payload or "") + (message.sudo().payload_raw or "")
        for value in ("Doe", "MRN-778812", "19800214", "Elm St", "VN-55123", "Welby"):
            self.assertNotIn(value, stored)
        self.assertIn("PID|***", message.payload)
        self.assertIn("FT1|1|TDFT-1-1", message.payload, "the rest stays readable")

    def test_keeping_patient_data_is_an_administrators_choice(self):
        consultant = self.users["consultant"]
        with self.assertRaises(AccessError):
            self.charges.with_user(consultant).write({"hl7_keep_patient_data": True})
        reader = self.create_mapping(self.charges, [{"source": "PID-5.1", "target": "name"}], payload_format="hl7v2",
                                     activate=False)
        with self.assertRaisesRegex(UserError, "patient segment"):
            reader.action_activate()
        self.charges.with_user(self.users["admin"]).write({"hl7_keep_patient_data": True})
        reader.action_activate()
        [message] = self.hl7(hl7_peer.dft_p03("DFT-2"))["messages"]
        self.assertIn("Doe^Jane", message.payload)

    # --- backend settings -----------------------------------------------------------------------
    def test_backend_validation_and_test_connection(self):
        with self.assertRaisesRegex(ValidationError, "listening port to receive on, or both"):
            self.create_backend(code="no_ports", protocol="mllp")
        with self.assertRaisesRegex(ValidationError, "already another MLLP backend"):
            self.create_backend(code="same_port", protocol="mllp", mllp_listen_port=39761)
        with self.assertRaisesRegex(ValidationError, "TCP port"):
            self.create_backend(code="bad_port", protocol="mllp", mllp_listen_port=70000)
        with self.assertRaisesRegex(ValidationError, "both the HL7 host and its port"):
            self.create_backend(code="half", protocol="mllp", mllp_host="127.0.0.1")
        peer = hl7_peer.Hl7Peer()
        self.addCleanup(peer.stop)
        sender = self.create_backend(code="to_peer", protocol="mllp", mllp_host="127.0.0.1", mllp_port=peer.port)
        sender.action_test_connection()
        self.assertTrue(sender.last_test_ok, sender.last_test_message)
        self.assertIn(f"127.0.0.1:{peer.port}", sender.last_test_message)
        with self.assertRaises(ValidationError):
            self.vendors.hl7_message_types = "MFN-M16"

    def test_a_flow_without_an_hl7_mapping_refuses_with_ae(self):
        self.charges.mapping_ids.filtered(lambda m: m.state == "active").state = "archived"
        self.charges.hl7_message_types = "DFT, MFN^M16"
        result = self.hl7(hl7_peer.mfn_m16("CTRL-500"))
        self.assertEqual((result["code"], result["error_code"]), ("AE", "207"))
        self.assertIn("Flow charges takes MFN^M16 but has no active inbound mapping in HL7 v2 format", result["reason"])
        self.assertFalse(self.env["hc.message"].search_count([("idempotency_key", "=like", "CTRL-500@%")]),
                         "nothing stored for any flow")
        self.assertEqual(result["messages"].state, "exception")

    def test_configuration_export_carries_the_hl7_settings(self):
        data = self.backend._export_config()
        self.assertEqual((data["backend"]["protocol"], data["backend"]["mllp_listen_port"]), ("mllp", 39761))
        vendors = next(flow for flow in data["flows"] if flow["code"] == "vendors")
        self.assertEqual(vendors["hl7_message_types"], "MFN^M16")
        self.assertEqual([(m["payload_format"], m["record_segment"]) for m in vendors["mappings"]], [("hl7v2", "VND")])

    # --- pushes over MLLP -----------------------------------------------------------------------
    def test_push_aa_is_done_ae_is_a_remote_exception_with_the_err_text(self):
        peer = hl7_peer.Hl7Peer()
        self.addCleanup(peer.stop)
        backend = self.create_backend(code="mmis_out", protocol="mllp", mllp_host="127.0.0.1", mllp_port=peer.port)
        flow = self.create_flow("items_out", backend, name="Item master out", object_type="generic", direction="push",
                                system_of_record="odoo", remote_resource="MFN^M16", max_attempts=1)
        self.create_mapping(flow, [{"source": "ref", "target": "ITM-1"}, {"source": "name", "target": "ITM-2.1"}],
                            direction="outbound")
        partner = self.env["res.partner"].create({"name": "Gauze", "ref": "GZ-1"})
        with trap_jobs():
            sent = flow._push_records(partner)
        sent._job_process()
        self.assertEqual(sent.state, "done", sent.error_message)
        message = hl7v2.parse(peer.received[-1])
        self.assertEqual((message.message_type, message.get("ITM-1"), message.get("ITM-2.1")),
                         ("MFN^M16", "GZ-1", "Gauze"))
        peer.set_faults(ack="AE", ack_text="item GZ-1 is locked")
        with trap_jobs():
            refused = flow._push_records(partner)
        refused._job_process()
        self.assertEqual((refused.state, refused.error_category), ("exception", "remote"))
        self.assertIn("item GZ-1 is locked", refused.error_message)
