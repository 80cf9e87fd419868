"""MLLP transport (transports/mllp.py) against the HL7 peer simulator on 127.0.0.1, real sockets."""

import socket
import threading
import time

import pytest

from hc_integration_base.payload import hl7v2
from hc_integration_base.transports import mllp
from hc_integration_base.transports.errors import TransportError
from legacy_sim import hl7_peer

SB, EB, CR = b"\x0b", b"\x1c", b"\r"


@pytest.fixture(scope="module")
def peer():
    simulator = hl7_peer.Hl7Peer()
    yield simulator
    simulator.stop()



def client(peer, **options):
    options.setdefault("connect_timeout", 2)
    options.setdefault("read_timeout", 2)
    return mllp.MllpClient("127.0.0.1", peer.port, **options)


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def expect(call, category, transient, text):
    with pytest.raises(TransportError) as caught:
        call()
    error = caught.value
    assert (error.category, error.transient) == (category, transient), repr(error)
    assert text in str(error)
    return error


# --- framing -----------------------------------------------------------------------------------
def test_frame_and_reader_split_and_joined_packets():
    left, right = socket.socketpair()
    with left, right:
        reader = mllp.FrameReader(right)
        data = mllp.frame("MSH|one") + mllp.frame("MSH|two")
        left.sendall(data[:5])
        threading.Timer(0.1, lambda: left.sendall(data[5:])).start()
        assert reader.next_frame(2) == b"MSH|one"
        assert reader.next_frame(2) == b"MSH|two"
        left.close()
        assert reader.next_frame(2) is None


@pytest.mark.parametrize("data, cause", [
    (b"MSH|no frame\r", "outside an MLLP frame"),
    (SB + b"MSH|a" + SB + b"MSH|b" + EB + CR, "started before the previous one ended"),
    (SB + b"x" * 200, "exceeds 100 bytes"),
])
def test_reader_refuses_malformed_frames(data, cause):
    left, right = socket.socketpair()
    with left, right:
        left.sendall(data)
        with pytest.raises(mllp.FramingError, match=cause):
            mllp.FrameReader(right, max_bytes=100).next_frame(1)


# --- sender against the peer -------------------------------------------------------------------
def test_send_aa_returns_the_ack_and_reuses_the_connection(peer):
    with client(peer) as sender:
        first = sender.send(hl7_peer.oms_o05("OMS-1"))
        second = sender.send(hl7v2.parse(hl7_peer.mfn_m16("M16-1")))
    assert (first.code, first.control_id, second.control_id) == ("AA", "OMS-1", "M16-1")
    assert [hl7v2.parse(text).control_id for text in peer.received] == ["OMS-1", "M16-1"]


def test_send_reconnects_when_the_peer_closed_an_idle_connection():
    first = mllp.MllpListener(Store()).start()
    port = first.port
    with mllp.MllpClient("127.0.0.1", port, read_timeout=2) as sender:
        assert sender.send(hl7_peer.oms_o05("OMS-A")).control_id == "OMS-A"
        first.stop()  # closes the kept connection; a restarted listener takes the port again
        second = mllp.MllpListener(Store(), port=port).start()
        try:
            assert sender.send(hl7_peer.oms_o05("OMS-B")).control_id == "OMS-B"
        finally:
            second.stop()


@pytest.mark.parametrize("code, category", [("AE", "hl7_error"), ("AR", "hl7_reject")])
def test_send_ae_ar_are_permanent_with_the_err_text(peer, code, category):
    peer.set_faults(ack=code, ack_text="Unknown item GZ-9999", error_code="204")
    error = expect(lambda: client(peer).send(hl7_peer.oms_o05("OMS-2")), category, False, "Unknown item GZ-9999")
    assert (error.fault_code, error.fault_string) == ("204", "Unknown item GZ-9999")
    assert "OMS-2" in str(error)


def test_send_without_ack_is_a_transient_timeout(peer):
    peer.set_faults(ack="none", hang_seconds=3)
    started = time.monotonic()
    expect(lambda: client(peer, read_timeout=0.5).send(hl7_peer.oms_o05("OMS-3")), "timeout", True, "No ACK")
    assert time.monotonic() - started < 2
    assert len(peer.received) == 1  # it arrived: the retry must carry the same MSH-10


@pytest.mark.parametrize("fault, text", [
    ("malformed_rate", "is not an HL7 ACK"),
    ("wrong_id_rate", "acknowledges message 'OTHER-OMS-4'"),
    ("unframed_rate", "not an MLLP frame"),
])
def test_send_unreadable_answers_are_permanent(peer, fault, text):
    peer.set_faults(**{fault: 1})
    expect(lambda: client(peer).send(hl7_peer.oms_o05("OMS-4")), "invalid_response", False, text)


def test_send_connection_failures_are_transient(peer):
    expect(lambda: mllp.send("127.0.0.1", closed_port(), hl7_peer.oms_o05(), connect_timeout=1),
           "connection", True, "Connection refused")
    peer.set_faults(down=True)
    expect(lambda: client(peer).send(hl7_peer.oms_o05("OMS-5")), "connection", True,
           "without acknowledging message OMS-5")


def test_send_refuses_an_invalid_outbound_message(peer):
    expect(lambda: client(peer).send("PID|1"), "request", False, "must start with MSH")
    assert peer.received == []


# --- listener ------------------------------------------------------------------------------------
class Store:
    def __init__(self, answer=(True, "")):
        self.answer = answer
        self.messages = []
        self.lock = threading.Lock()

    def __call__(self, message):
        if isinstance(self.answer, Exception):
            raise self.answer
        with self.lock:
            self.messages.append(message)
        return self.answer


def test_listener_acknowledges_stored_messages_aa():
    store = Store()
    with mllp.MllpListener(store) as listener:
        for kind in hl7_peer.SAMPLES:
            answer = hl7_peer.send("127.0.0.1", listener.port, hl7_peer.sample(kind, control_id=f"C-{kind[:3]}"))
            ack = hl7v2.parse_ack(answer)
            assert (ack.code, ack.control_id) == ("AA", f"C-{kind[:3]}")
            assert ack.message.msh.value(5) == "MMIS"  # answered to the sender
    assert [m.message_type for m in store.messages] == list(hl7_peer.SAMPLES)
    assert store.messages[0].raw.startswith("MSH|^~\\&|MMIS") and listener.counts["AA"] == 4


def test_listener_acks_only_after_store_returned():
    release = threading.Event()
    finished = []

    def store(message):
        release.wait(5)
        finished.append(time.monotonic())
        return True, ""

    with mllp.MllpListener(store) as listener, socket.create_connection(("127.0.0.1", listener.port)) as sock:
        sock.sendall(mllp.frame(hl7_peer.mfn_m16("M16-9")))
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(100)  # no ACK while the store has not returned
        release.set()
        reader = mllp.FrameReader(sock)
        ack = hl7v2.parse_ack(reader.next_frame(3).decode())
        assert ack.code == "AA" and finished and time.monotonic() >= finished[0]


def test_listener_answers_ae_when_the_store_refuses():
    store = Store((False, "Unknown vendor V-XX"))
    with mllp.MllpListener(store) as listener:
        ack = hl7v2.parse_ack(hl7_peer.send("127.0.0.1", listener.port, hl7_peer.mfn_m16("M16-2")))
    assert (ack.code, ack.control_id, ack.text) == ("AE", "M16-2", "Unknown vendor V-XX")


def test_listener_sends_no_ack_when_the_store_fails():
    with mllp.MllpListener(Store(RuntimeError("database down"))) as listener:
        assert hl7_peer.send("127.0.0.1", listener.port, hl7_peer.mfn_m16("M16-3"), timeout=2) is None
        assert listener.counts["no_ack"] == 1


@pytest.mark.parametrize("message, code, text", [
    ("MSH|^~\\&|MMIS|S|ODOO|H|1||MFN^M16||P|2.6\rITM|1", "101", "MSH-10"),
    ("MSH|^~\\&|MMIS|S|ODOO|H|1||ADT^A01|C-1|P|2.6\rPID|1", "200", "ADT^A01 is not taken here"),
    ("MSH|^~\\&|MMIS|S|ODOO|H|1||MFN^M16|C-2|P|2.6\rnot a segment", "100", "not a segment id"),
    ("ITM|1|no header", "101", "must start with MSH"),
])
def test_listener_rejects_unreadable_messages_ar_without_storing(message, code, text):
    store = Store()
    with mllp.MllpListener(store, accept_types={"MFN^M16", "OMS^O05"}) as listener:
        ack = hl7v2.parse_ack(hl7_peer.send("127.0.0.1", listener.port, message))
    assert (ack.code, ack.error_code) == ("AR", code) and text in ack.text
    assert store.messages == []


def test_listener_rejects_malformed_frames_and_closes():
    store = Store()
    with mllp.MllpListener(store, max_bytes=1000) as listener:
        for data in (b"MSH|^~\\&|unframed\r", SB + b"MSH|^~\\&|a" + SB, SB + b"x" * 2000):
            with socket.create_connection(("127.0.0.1", listener.port), timeout=3) as sock:
                sock.sendall(data)
                reader = mllp.FrameReader(sock)
                assert hl7v2.parse_ack(reader.next_frame(3).decode()).code == "AR"
                assert reader.next_frame(3) is None  # the listener closed the connection
    assert store.messages == [] and listener.counts["malformed"] == 3


def test_listener_drops_a_frame_that_never_ends():
    store = Store()
    with mllp.MllpListener(store, frame_timeout=0.3) as listener:
        with socket.create_connection(("127.0.0.1", listener.port), timeout=3) as sock:
            sock.sendall(SB + hl7_peer.mfn_m16("M16-4").encode())
            started = time.monotonic()
            assert sock.recv(100) == b""  # closed without an ACK: the sender resends
            assert time.monotonic() - started < 2
    assert store.messages == []


def test_client_and_listener_round_trip_in_order():
    store = Store()
    with mllp.MllpListener(store) as listener, mllp.MllpClient("127.0.0.1", listener.port, read_timeout=2) as c:
        ids = [c.send(hl7_peer.oms_o05(f"OMS-{n}")).control_id for n in range(50)]
    assert ids == [f"OMS-{n}" for n in range(50)] == [m.control_id for m in store.messages]


def test_a_late_ack_is_never_taken_for_the_next_message(peer):
    peer.set_faults(latency_ms=800)
    with client(peer, read_timeout=0.3) as sender:
        expect(lambda: sender.send(hl7_peer.oms_o05("OMS-LATE")), "timeout", True, "OMS-LATE")
        peer.set_faults(latency_ms=0)
        time.sleep(0.8)  # the late ACK of OMS-LATE is on its way meanwhile
        assert sender.send(hl7_peer.oms_o05("OMS-NEXT")).control_id == "OMS-NEXT"


# --- group commit ---------------------------------------------------------------------------------
class BatchStore:
    """``store_batch``: records each batch (control ids), answers AA after ``delay`` s; a message whose
    control id starts with POISON makes the whole batch fail, as a database error would."""

    def __init__(self, delay=0.0):
        self.delay = delay
        self.batches = []
        self.lock = threading.Lock()

    def __call__(self, messages):
        time.sleep(self.delay)
        ids = [m.control_id for m in messages]
        if any(i.startswith("POISON") for i in ids):
            raise RuntimeError("database error")
        with self.lock:
            self.batches.append(ids)
        return [(True, "")] * len(messages)

    def stored(self):
        return [i for batch in self.batches for i in batch]


def test_group_commit_stores_the_messages_of_concurrent_connections_together():
    store = BatchStore(delay=0.02)
    answers = {}

    def sender(listener, number):
        with mllp.MllpClient("127.0.0.1", listener.port, read_timeout=5) as c:
            answers[number] = [c.send(hl7_peer.oms_o05(f"C{number}-{n}")).code for n in range(10)]

    with mllp.MllpListener(store_batch=store, batch_window=0.05) as listener:
        threads = [threading.Thread(target=sender, args=(listener, number)) for number in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert answers == {number: ["AA"] * 10 for number in range(4)}
    assert sorted(store.stored()) == sorted(f"C{c}-{n}" for c in range(4) for n in range(10)), "each stored once"
    assert len(store.batches) < 40 and max(len(batch) for batch in store.batches) > 1, store.batches
    for number in range(4):  # a connection's messages in order
        mine = [i for i in store.stored() if i.startswith(f"C{number}-")]
        assert mine == [f"C{number}-{n}" for n in range(10)]


def test_group_commit_acks_only_after_the_batch_was_stored():
    release, finished = threading.Event(), []

    def store_batch(messages):
        release.wait(5)
        finished.append(time.monotonic())
        return [(True, "")] * len(messages)

    with mllp.MllpListener(store_batch=store_batch) as listener, \
            socket.create_connection(("127.0.0.1", listener.port)) as sock:
        sock.sendall(mllp.frame(hl7_peer.mfn_m16("M16-8")))
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(100)
        release.set()
        ack = hl7v2.parse_ack(mllp.FrameReader(sock).next_frame(3).decode())
        assert ack.code == "AA" and finished and time.monotonic() >= finished[0]


def test_a_failed_batch_is_stored_again_one_message_at_a_time():
    store = BatchStore(delay=0.02)
    codes = {}

    def sender(listener, control_id):
        codes[control_id] = hl7_peer.send("127.0.0.1", listener.port, hl7_peer.oms_o05(control_id), timeout=3)

    with mllp.MllpListener(store_batch=store, batch_window=0.2) as listener:
        conns = [socket.create_connection(("127.0.0.1", listener.port)) for _ in range(3)]  # the batch waits for 3
        threads = [threading.Thread(target=sender, args=(listener, i)) for i in ("OK-1", "POISON-1", "OK-2")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for sock in conns:
            sock.close()
    assert codes["POISON-1"] is None, "no ACK: the store failed"
    assert hl7v2.parse_ack(codes["OK-1"]).code == hl7v2.parse_ack(codes["OK-2"]).code == "AA"
    assert sorted(store.stored()) == ["OK-1", "OK-2"] and listener.counts["no_ack"] == 1


def test_pipelined_frames_are_stored_together_and_answered_in_order():
    store = BatchStore()
    with mllp.MllpListener(store_batch=store) as listener, \
            socket.create_connection(("127.0.0.1", listener.port), timeout=3) as sock:
        sock.sendall(b"".join(mllp.frame(hl7_peer.oms_o05(f"P-{n}")) for n in range(5)) + mllp.frame("MSH|bad"))
        reader = mllp.FrameReader(sock)
        acks = [hl7v2.parse_ack(reader.next_frame(3).decode("utf-8", "replace")) for _ in range(6)]
    assert [(a.code, a.control_id) for a in acks[:5]] == [("AA", f"P-{n}") for n in range(5)]
    assert acks[5].code == "AR"
    assert store.batches == [[f"P-{n}" for n in range(5)]], "read together, stored in one transaction"


def test_control_ids_of_long_keys_differ_and_stay_the_same_on_a_resend():
    keys = [f"requisition_status:ordered:{n}" for n in (7, 8)] + ["requisition_status:cancelled:7"]
    ids = [mllp.control_id_of(key) for key in keys]
    assert len(set(ids)) == 3, "keys sharing their first 20 characters must not share MSH-10"
    assert all(len(i) <= 20 for i in ids)
    assert ids == [mllp.control_id_of(key) for key in keys], "a resend carries the same control id"
    assert mllp.control_id_of("PO-1:create:0") == "PO-1:create:0", "a short key is its own control id"
