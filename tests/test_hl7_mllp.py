"""HL7 v2 over MLLP end to end: the MLLP listener (``odoo-bin mllp_listener``) in front of Odoo with
HTTP workers and the queue_job runner, on a copy of the demo database, fed by the HL7 peer
simulator's sender on 127.0.0.1.

- an MFN^M16 is acknowledged AA and, once the jobs ran, its vendors and items are in Odoo (the
  items with their vendor price line);
- a message whose MSH cannot be accepted is answered AR with the reason in ERR, nothing is
  applied, and it waits in the exception queue;
- the same MSH-10 twice is acknowledged AA twice and has one effect;
- an OMS^O05 stock requisition is acknowledged AA and, once the jobs ran, is one draft RFQ per
  vendor booked on the cost centre of the department RQD-7 names (analytic distribution); a buyer
  confirms one RFQ and the peer's receiver gets one ORS^O06 order response for it (MSA-2 the
  requisition's MSH-10, ORC-4 its placer group number), once;
- a DFT^P03 and an MFN^M15 are routed by their type: a done consumption move, a reconciliation;
- no patient data (PID / PV1) is in any stored payload.
"""

import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "bench"))
sys.path.insert(0, str(HERE / "reliability"))

from _harness import OdooServer, dbname, drop_database, free_port, query, wait_until_drained  # noqa: E402
from _mllp import Listener  # noqa: E402
from _odoo_shell import copy_database, ensure_database  # noqa: E402
from _web_client import WebClient  # noqa: E402

from legacy_sim import hl7_peer  # noqa: E402

# The demo database the benchmarks keep up to date, and this test's copy of it.
TEMPLATE = os.environ.get("HC_HL7_TEMPLATE", dbname("hc_bench"))
DB = os.environ.get("HC_HL7_DB", dbname("hc_hl7_mllp"))

def segments(ack_text):
    assert ack_text, "no ACK came"
    return {line.split("|", 1)[0]: line.split("|") for line in ack_text.split("\r") if line}


def test_mfn_m16_over_mllp_acknowledged_then_applied_once():
    ensure_database(TEMPLATE)
    db = copy_database(TEMPLATE, DB)
    port = free_port()
    peer = hl7_peer.Hl7Peer()  # the MMIS's own receiver: the order responses Odoo sends
    # Confirmed orders also go to the SOAP gateway, not running here: this test follows the MMIS's news.
    query(db, "UPDATE hc_flow SET active = false WHERE code = 'po_push' RETURNING id")
    query(db, "UPDATE hc_backend SET mllp_listen_port = %s, mllp_port = %s WHERE code = 'mmis_hl7' RETURNING id",
          (port, peer.port))
    # The demo mappings are activated when the demo data is installed.
    assert query(db, "SELECT count(*) FROM hc_mapping m JOIN hc_flow f ON f.id = m.flow_id "
                     "WHERE f.code IN ('mfn_m16_vendors', 'mfn_m16_items') AND m.state = 'active'")[0][0] == 2
    server = OdooServer(db, workers=2, logname="hl7-mllp.log")
    listener = Listener(db, port)
    try:
        server.start()
        listener.start()

        # --- an MFN^M16: AA, then its vendors and items -----------------------------------------
        started = time.monotonic()
        ack = segments(hl7_peer.send("127.0.0.1", port, hl7_peer.mfn_m16("SUITE-1")))
        assert ack["MSA"][1:3] == ["AA", "SUITE-1"], ack
        acknowledged_ms = (time.monotonic() - started) * 1000
        stored = query(db, "SELECT f.code, m.state FROM hc_message m JOIN hc_flow f ON f.id = m.flow_id "
                           "WHERE m.idempotency_key LIKE 'SUITE-1@%%' ORDER BY m.id")
        assert [code for code, _state in stored] == ["mfn_m16_vendors", "mfn_m16_items"], \
            "stored (committed) before the ACK"
        assert wait_until_drained(db, timeout=120, settle=1.5), "the jobs did not drain"
        states = query(db, "SELECT state, error_message FROM hc_message WHERE idempotency_key LIKE 'SUITE-1@%%'")
        assert all(state == "done" for state, _error in states), states
        vendors = dict(query(db, "SELECT ref, name FROM res_partner WHERE ref IN ('V-MEDLINE', 'V-BD')"))
        assert vendors == {"V-MEDLINE": "Medline", "V-BD": "Becton Dickinson"}, vendors
        items = query(db, """
            SELECT t.default_code, p.ref, s.price, s.product_code FROM product_template t
              JOIN product_supplierinfo s ON s.product_tmpl_id = t.id JOIN res_partner p ON p.id = s.partner_id
             WHERE t.default_code IN ('GZ-1010', 'SY-0005') ORDER BY t.default_code""")
        assert items == [("GZ-1010", "V-MEDLINE", 12.5, "ML-5544"), ("SY-0005", "V-BD", 96.0, "BD-309646")], items

        # --- the same MSH-10 again (a sender that lost the ACK): AA, one effect --------------------
        again = segments(hl7_peer.send("127.0.0.1", port, hl7_peer.mfn_m16("SUITE-1")))
        assert again["MSA"][1:3] == ["AA", "SUITE-1"], again
        assert wait_until_drained(db, timeout=60, settle=1.0)
        assert query(db, "SELECT count(*) FROM hc_message WHERE idempotency_key LIKE 'SUITE-1@%%'")[0][0] == 2
        assert query(db, "SELECT count(*) FROM product_template WHERE default_code = 'GZ-1010'")[0][0] == 1
        assert query(db, "SELECT count(*) FROM product_supplierinfo s JOIN product_template t "
                         "ON t.id = s.product_tmpl_id WHERE t.default_code = 'GZ-1010'")[0][0] == 1
        assert query(db, "SELECT count(*) FROM res_partner WHERE ref = 'V-MEDLINE'")[0][0] == 1

        # --- an OMS^O05 stock requisition: AA, then an RFQ per vendor on the cost centre -----------
        requisition = hl7_peer.oms_o05("SUITE-4", department="CC-ICU")
        ack = segments(hl7_peer.send("127.0.0.1", port, requisition))
        assert ack["MSA"][1:3] == ["AA", "SUITE-4"], ack
        assert query(db, "SELECT f.code FROM hc_message m JOIN hc_flow f ON f.id = m.flow_id "
                         "WHERE m.idempotency_key LIKE 'SUITE-4@%%'") == [("oms_o05_demand",)]
        assert wait_until_drained(db, timeout=120, settle=1.5), "the jobs did not drain"
        states = query(db, "SELECT state, error_message FROM hc_message WHERE idempotency_key LIKE 'SUITE-4@%%'")
        assert states == [("done", None)], states
        [(centre,)] = query(db, "SELECT id FROM account_analytic_account WHERE code = 'CC-ICU'")
        rfqs = query(db, """
            SELECT p.ref, o.state, t.default_code, l.product_qty, l.analytic_distribution FROM purchase_order o
              JOIN res_partner p ON p.id = o.partner_id JOIN purchase_order_line l ON l.order_id = o.id
              JOIN product_product pp ON pp.id = l.product_id JOIN product_template t ON t.id = pp.product_tmpl_id
             WHERE o.origin = 'REQ-SUITE-4' ORDER BY p.ref""")
        assert rfqs == [("V-BD", "draft", "SY-0005", 2.0, {str(centre): 100}),
                        ("V-MEDLINE", "draft", "GZ-1010", 20.0, {str(centre): 100})], rfqs
        again = segments(hl7_peer.send("127.0.0.1", port, requisition))
        assert again["MSA"][1:3] == ["AA", "SUITE-4"], again
        assert wait_until_drained(db, timeout=60, settle=1.0)
        assert query(db, "SELECT count(*) FROM purchase_order WHERE origin = 'REQ-SUITE-4'")[0][0] == 2

        # --- the buyer confirms one of its RFQs: one ORS^O06 to the MMIS, once -----------------------
        [(medline_rfq,)] = query(db, "SELECT o.id FROM purchase_order o JOIN res_partner p ON p.id = o.partner_id "
                                     "WHERE o.origin = 'REQ-SUITE-4' AND p.ref = 'V-MEDLINE'")
        admin = WebClient(server.url, db, "admin", "admin")
        admin.button("purchase.order", "button_confirm", medline_rfq)
        assert wait_until_drained(db, timeout=120, settle=1.5), "the jobs did not drain"
        sent = query(db, "SELECT m.state, m.error_message FROM hc_message m JOIN hc_flow f ON f.id = m.flow_id "
                         "WHERE f.code = 'ors_o06_status'")
        assert sent == [("done", None)], sent
        assert len(peer.received) == 1, peer.received
        response = segments(peer.received[0])
        assert response["MSH"][8] == "ORS^O06^ORS_O06" and response["MSH"][11] == "2.5", response["MSH"]
        assert response["MSA"][1:3] == ["AA", "SUITE-4"], response["MSA"]
        assert (response["ORC"][1], response["ORC"][4], response["ORC"][5]) == ("OK", "REQ-SUITE-4", "IP"), response
        assert response["RQD"][2].split("^")[0] == "GZ-1010", response["RQD"]

        # --- routed by MSH-9: supply charges are consumption, an inventory master a reconciliation ---
        charges = segments(hl7_peer.send("127.0.0.1", port, hl7_peer.dft_p03("SUITE-5")))
        assert charges["MSA"][1:3] == ["AA", "SUITE-5"], charges
        master = segments(hl7_peer.send("127.0.0.1", port, hl7_peer.mfn_m15("SUITE-6")))
        assert master["MSA"][1:3] == ["AA", "SUITE-6"], master
        assert wait_until_drained(db, timeout=120, settle=1.5), "the jobs did not drain"
        routed = query(db, "SELECT m.external_id, f.code, m.state FROM hc_message m JOIN hc_flow f ON f.id = m.flow_id "
                           "WHERE m.external_id IN ('SUITE-5', 'SUITE-6') ORDER BY m.external_id")
        assert routed == [("SUITE-5", "dft_p03_consumption", "done"), ("SUITE-6", "mfn_m15_balances", "done")], routed
        moves = query(db, "SELECT t.default_code, m.product_uom_qty, m.state FROM stock_move m JOIN product_product p "
                          "ON p.id = m.product_id JOIN product_template t ON t.id = p.product_tmpl_id "
                          "WHERE m.origin = 'TSUITE-5-1'")
        assert moves == [("GZ-1010", 2.0, "done")], moves
        reconciliations = query(db, "SELECT r.state, r.scope, r.balance_count FROM hc_reconciliation r "
                                    "JOIN hc_message m ON m.id = r.message_id WHERE m.external_id = 'SUITE-6'")
        assert reconciliations == [("done", "listed", 2)], reconciliations

        # --- malformed: no MSH-12 -> AR with the reason, nothing applied, in the exception queue ---
        broken = hl7_peer.mfn_m16("SUITE-2", items=[{
            "code": "XX-0001", "name": "Never applied", "vendor": "V-NEW", "vendor_name": "New vendor",
            "catalog": "N-1", "unit": "EA", "per_pack": 1, "price": "1.00", "cost_centre": "CC-1",
            "locations": [("CS-MAIN", "Central stores")]}]).replace("|P|2.6|", "|P||", 1)
        refused = segments(hl7_peer.send("127.0.0.1", port, broken))
        assert refused["MSA"][1:3] == ["AR", "SUITE-2"], refused
        assert refused["ERR"][3].startswith("101^") and "MSH-12" in refused["ERR"][8], refused
        # A message type no flow of the backend takes (BAR^P01, patient accounts): AR 200.
        bar = hl7_peer.dft_p03("SUITE-3").replace("|DFT^P03^DFT_P03|", "|BAR^P01^BAR_P01|", 1)
        unknown = segments(hl7_peer.send("127.0.0.1", port, bar))
        assert (unknown["MSA"][1], unknown["ERR"][3].split("^")[0]) == ("AR", "200"), unknown
        assert wait_until_drained(db, timeout=60, settle=1.0)
        queue = dict(query(db, "SELECT external_id, error_message FROM hc_message WHERE state = 'exception'"))
        assert "SUITE-2" in queue and "Refused with AR" in queue["SUITE-2"], queue
        assert "SUITE-3" in queue, queue
        assert not query(db, "SELECT 1 FROM product_template WHERE default_code = 'XX-0001'")
        assert not query(db, "SELECT 1 FROM res_partner WHERE ref = 'V-NEW'")

        # --- patient data: nowhere in the stored payloads ------------------------------------------
        leaks = query(db, "SELECT id FROM hc_message WHERE payload LIKE '%%Doe^Jane%%' OR payload_raw LIKE "
                          "'%%Doe^Jane%%' OR payload LIKE '%%MRN-778812%%' OR payload_raw LIKE '%%MRN-778812%%'")
        assert not leaks, leaks
        assert acknowledged_ms < 5000, acknowledged_ms
        assert len(peer.received) == 1, "the order's status was told once, whatever came after"
    finally:
        peer.stop()
        listener.stop()
        server.stop()
        drop_database(db)
