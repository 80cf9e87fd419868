"""An HL7 v2 MLLP peer: a materials-management system on 127.0.0.1 (standard library only).

It plays both roles of an MLLP interface:
- **receiver** of Odoo's pushes: every framed message is recorded (``peer.received``) and answered
  with an ACK as the fault settings say (AA by default; AE / AR with an ERR reason; no answer);
- **sender** of chapter 17 / financial samples: ``send(host, port, sample("MFN^M16"))`` returns the
  ACK text (None when none came).

The framing here is written independently of the addon's ``transports/mllp.py`` on purpose: a
test of the addon against this peer must not share the code it tests.

```sh
python -m legacy_sim.hl7_peer --port 2575 [--faults ack=AE,ack_text="unknown item"]
python -m legacy_sim.hl7_peer --send MFN^M16 --to 127.0.0.1:2576 [--count 10]
```

Fault settings (``peer.set_faults(...)``, ``--faults k=v,...``): ``ack`` (AA, AE, AR or none),
``ack_text``, ``error_code`` (HL7 table 0357, 207 default), ``latency_ms``, ``timeout_rate``
(record, then no answer for ``hang_seconds``), ``malformed_rate`` (an answer that is no ACK),
``wrong_id_rate`` (an ACK of another control id), ``unframed_rate`` (an answer without MLLP
framing), ``down`` (connections are closed at once), ``fault_seed``.
"""

import argparse
import datetime
import random
import signal
import socket
import socketserver
import threading
import time
from dataclasses import dataclass, fields

SB, EB, CR = b"\x0b", b"\x1c", b"\r"
ACK_CODES = ("AA", "AE", "AR", "none")


@dataclass
class Hl7Faults:
    ack: str = "AA"
    ack_text: str = ""
    error_code: str = "207"
    latency_ms: float = 0.0
    timeout_rate: float = 0.0
    hang_seconds: float = 5.0
    malformed_rate: float = 0.0
    wrong_id_rate: float = 0.0
    unframed_rate: float = 0.0
    down: bool = False
    fault_seed: int = 1

    def update(self, **settings):
        known = {f.name for f in fields(self)}
        for key, value in settings.items():
            if key not in known:
                raise ValueError(f"unknown HL7 peer fault setting {key!r}")
            if key == "ack":
                value = str(value)
                if value not in ACK_CODES:
                    raise ValueError(f"ack must be one of {', '.join(ACK_CODES)}, not {value!r}")
            elif key in ("ack_text", "error_code"):
                value = str(value)
            elif key == "down":
                value = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
            elif key == "fault_seed":
                value = int(value)
            else:
                value = float(value)
            setattr(self, key, value)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d%H%M%S")


def _msh_fields(text):
    """MSH fields of ``text`` (index = HL7 field number) and its encoding characters."""
    first = text.replace("\n", "\r").split("\r", 1)[0]
    if not first.startswith("MSH") or len(first) < 8:
        return None, "|", "^~\\&"
    sep = first[3]
    parts = first.split(sep)
    return [parts[0], sep] + parts[1:], sep, parts[1]


def ack_for(text, code="AA", reason="", error_code="207", control_id=None):
    """An ACK of ``text`` (ER7) as the peer writes it: applications swapped, MSA-2 = MSH-10."""
    msh, sep, chars = _msh_fields(text)
    msh = msh or ["MSH", "|", chars]

    def get(number):
        return msh[number] if number < len(msh) else ""

    comp = chars[0]
    event = get(9).split(comp)[1] if comp in get(9) else ""
    header = ["MSH", chars, get(5), get(6), get(3), get(4), _now(), "",
              f"ACK{comp}{event}{comp}ACK" if event else "ACK", control_id or f"P{random.randrange(10**9):09d}",
              get(11) or "P", get(12) or "2.5"]
    segments = [sep.join(header), sep.join(["MSA", code, get(10)] + ([reason] if reason else []))]
    if code != "AA":
        segments.append(sep.join(["ERR", "", "", f"{error_code}{comp}{comp}HL70357", "E", "", "", "", reason]))
    return "\r".join(segments)


# --- samples ------------------------------------------------------------------------------------
def _msh(message_type, control_id, structure):
    return (f"MSH|^~\\&|MMIS|CENTRAL_STORES|ODOO|HOSPITAL|{_now()}||{message_type}^{structure}|{control_id}"
            "|P|2.6|||AL|NE|||||")


def mfn_m16(control_id="MFN0001", items=None):
    """Material item master: per item MFE, ITM, VND (+PKG), PCE and IVT segments."""
    items = items or [
        {"code": "GZ-1010", "name": "Gauze swab 10\\T\\10 cm", "vendor": "V-MEDLINE", "vendor_name": "Medline",
         "catalog": "ML-5544", "unit": "BX", "per_pack": 100, "price": "12.50", "cost_centre": "CC-4100",
         "locations": [("CS-MAIN", "Central stores"), ("WARD-3", "Ward 3 supply room")]},
        {"code": "SY-0005", "name": "Syringe 5 ml", "vendor": "V-BD", "vendor_name": "Becton Dickinson",
         "catalog": "BD-309646", "unit": "CS", "per_pack": 800, "price": "96.00", "cost_centre": "CC-4100",
         "locations": [("CS-MAIN", "Central stores")]},
    ]
    lines = [_msh("MFN^M16", control_id, "MFN_M16"), "MFI|ITM^Material item^HL70175||UPD|||AL"]
    for item in items:
        lines += [
            f"MFE|MAD|{control_id}-{item['code']}||{item['code']}^{item['name']}|CWE",
            f"ITM|{item['code']}|{item['name']}|A^Active^HL70776|SS^Stock supply|MED^Medical supplies|Y",
            f"VND|1|{item['vendor']}|{item['vendor_name']}|{item['catalog']}|Y",
            f"PKG|1|{item['unit']}^{item['unit']}^UCUM|Y|{item['per_pack']}|{item['price']}^USD",
            f"PCE|1|{item['cost_centre']}|SUP|{item['price']}^USD",
        ]
        for number, (code, name) in enumerate(item["locations"], 1):
            lines.append(f"IVT|{number}|{code}|{name}|||||||||||Y")
    return "\r".join(lines)


def mfn_m15(control_id="MFN0002", balances=None):
    """Inventory item master (HL7 v2.5 chapter 8, MFN_M15): per record MFE and IIM (IIM-2 item,
    IIM-3 lot, IIM-4 expiry, IIM-6 location, IIM-12 quantity on hand, IIM-13 its unit)."""
    balances = balances or [
        {"code": "GZ-1010", "lot": "L2301", "expiry": "20271231", "location": "CS-MAIN", "on_hand": 340},
        {"code": "SY-0005", "lot": "B889", "expiry": "20260630", "location": "WARD-3", "on_hand": 75},
    ]
    lines = [_msh("MFN^M15", control_id, "MFN_M15"), "MFI|IIM^Inventory item^HL70175||UPD|||AL"]
    for row in balances:
        lines += [
            f"MFE|MUP|{control_id}-{row['code']}||{row['code']}|CWE",
            f"IIM|{row['code']}|{row['code']}|{row['lot']}|{row['expiry']}|Medline|{row['location']}"
            f"||||||{row['on_hand']}|EA",
        ]
    return "\r".join(lines)


_PRIORITIES = {"S": "Stat", "A": "ASAP", "R": "Routine"}  # HL7 table 0485


def oms_o05(control_id="OMS0001", lines=None, department="CC-ICU", priority="R", needed=None,
            deliver_to="ICU-STORE^ICU store room"):
    """Stock requisition (HL7 v2.5 chapter 4.10, OMS_O05): one order group per line - ORC (ORC-2 the
    line's placer order number, ORC-4 the placer group number: the requisition), TQ1 (TQ1-9 priority,
    table 0485: S stat, A ASAP, R routine) and RQD (RQD-2 item code, RQD-5 quantity, RQD-6 unit,
    RQD-7 department cost centre, RQD-9 deliver-to - a line's own ``deliver_to`` else the message's -,
    RQD-10 date needed)."""
    lines = lines or [{"code": "GZ-1010", "qty": 20, "unit": "BX"}, {"code": "SY-0005", "qty": 2, "unit": "CS"}]
    needed = needed or f"{datetime.date.today():%Y%m%d}"
    out = [_msh("OMS^O05", control_id, "OMS_O05")]
    for number, line in enumerate(lines, 1):
        out += [
            f"ORC|NW|REQ-{control_id}-{number}||REQ-{control_id}|||||{_now()}",
            f"TQ1|1||||||||{priority}^{_PRIORITIES.get(priority, priority)}^HL70485",
            f"RQD|{number}|{line['code']}^{line['code']}|||{line['qty']}|{line['unit']}|{department}||"
            f"{line.get('deliver_to', deliver_to)}|{needed}",
        ]
    return "\r".join(out)


def dft_p03(control_id="DFT0001", charges=None):
    """Supply charges (HL7 v2.5 chapter 6, DFT_P03): EVN, PID, PV1 (patient data, for redaction
    tests) and one FT1 per charge (FT1-2 transaction id, FT1-4 date, FT1-6 type: the charge's
    ``type``, CG by default, CD for a credit; FT1-7 item, FT1-10 quantity, FT1-13 department, FT1-16
    patient location)."""
    charges = charges or [{"code": "GZ-1010", "qty": 2, "department": "CC-ICU", "location": "ICU^12^A"}]
    out = [_msh("DFT^P03", control_id, "DFT_P03"), f"EVN|P03|{_now()}",
           "PID|1||MRN-778812^^^HOSP^MR||Doe^Jane^Q||19800214|F|||12 Elm St^^Springfield^IL^62701||555-0101",
           "PV1|1|I|ICU^12^A|||||1234^Welby^Marcus|||||||||||VN-55123"]
    for number, charge in enumerate(charges, 1):
        # FT1-7 item, FT1-8 description, FT1-10 quantity, FT1-13 department, FT1-16 patient location
        out.append(f"FT1|{number}|T{control_id}-{number}||{_now()}||{charge.get('type', 'CG')}"
                   f"|{charge['code']}^{charge['code']}|Supply charge||{charge['qty']}|||{charge['department']}"
                   f"|||{charge['location']}")
    return "\r".join(out)


SAMPLES = {"MFN^M16": mfn_m16, "MFN^M15": mfn_m15, "OMS^O05": oms_o05, "DFT^P03": dft_p03}


def sample(message_type, control_id=None, **options):
    if message_type not in SAMPLES:
        raise ValueError(f"no sample for {message_type!r} (known: {', '.join(SAMPLES)})")
    return SAMPLES[message_type](control_id or f"{message_type[:3]}{random.randrange(10**6):06d}", **options)


# --- sending --------------------------------------------------------------------------------------
def _read_frame(sock, buffer=b""):
    while EB not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        buffer += chunk
    start = buffer.find(SB)
    end = buffer.find(EB)
    data = buffer[start + 1 if start >= 0 else 0:end]
    rest = buffer[end + 1:]
    return data, rest[1:] if rest[:1] == CR else rest


def send(host, port, message, timeout=5.0):
    """Send one ER7 ``message`` over MLLP; the ACK text, or None when none came in ``timeout``."""
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(SB + message.encode() + EB + CR)
        try:
            data, _rest = _read_frame(sock)
        except (TimeoutError, OSError):
            return None
    return data.decode("utf-8", "replace") if data is not None else None


# --- receiving ------------------------------------------------------------------------------------
class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        peer = self.server.peer
        if peer.faults.down:
            return
        buffer = b""
        self.request.settimeout(60)
        while True:
            try:
                data, buffer = _read_frame(self.request, buffer)
            except (TimeoutError, OSError):
                return
            if data is None:
                return
            text = data.decode("utf-8", "replace")
            answer = peer.answer(text)
            if answer is None:
                continue
            try:
                self.request.sendall(answer)
            except OSError:
                return


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False


class Hl7Peer:
    """The peer's MLLP receiver on ``host:port`` (0 picks a free port), started at creation."""

    def __init__(self, host="127.0.0.1", port=0):
        self.host = host
        self.lock = threading.RLock()
        self.faults = Hl7Faults()
        self._random = random.Random(1)
        self.received = []
        self.answers = []
        self._server = _Server((host, port), _Handler)
        self._server.peer = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=f"hl7-peer-{self.port}", daemon=True)
        self._thread.start()

    @property
    def address(self):
        return self.host, self.port

    def set_faults(self, **settings):
        with self.lock:
            self.faults.update(**settings)
            self._random = random.Random(self.faults.fault_seed)

    def reset(self):
        with self.lock:
            self.faults = Hl7Faults()
            self._random = random.Random(1)
            self.received.clear()
            self.answers.clear()

    def _roll(self, rate):
        if rate <= 0:
            return False
        with self.lock:
            return self._random.random() < rate

    def answer(self, text):
        """The bytes to send back for one received message (None: no answer)."""
        faults = self.faults
        with self.lock:
            self.received.append(text)
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        if faults.ack == "none" or self._roll(faults.timeout_rate):
            time.sleep(faults.hang_seconds)
            return None
        if self._roll(faults.malformed_rate):
            return SB + b"this is not an HL7 acknowledgement" + EB + CR
        if self._roll(faults.unframed_rate):
            return ack_for(text).encode() + b"\r"
        wrong = self._roll(faults.wrong_id_rate)
        code = faults.ack
        msh, _sep, _chars = _msh_fields(text)
        if msh is None and code == "AA":
            code = "AR"
        reason = faults.ack_text or ("" if code == "AA" else f"refused by the peer ({code})")
        ack = ack_for(text, code, reason, faults.error_code)
        if wrong:
            ack = ack.replace(f"MSA|{code}|", f"MSA|{code}|OTHER-", 1)
        with self.lock:
            self.answers.append(ack)
        return SB + ack.encode() + EB + CR

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def _settings(text):
    return dict(item.split("=", 1) for item in text.split(",") if item) if text else {}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m legacy_sim.hl7_peer", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2575, help="port of the peer's receiver")
    parser.add_argument("--faults", default="", help="e.g. ack=AE,ack_text=unknown item")
    parser.add_argument("--send", choices=sorted(SAMPLES), help="send samples instead of receiving")
    parser.add_argument("--to", default="127.0.0.1:2576", help="host:port of the MLLP listener to send to")
    parser.add_argument("--count", type=int, default=1)
    args = parser.parse_args(argv)
    if args.send:
        host, port = args.to.rsplit(":", 1)
        for _ in range(args.count):
            print(send(host, int(port), sample(args.send)), flush=True)
        return
    peer = Hl7Peer(args.host, args.port)
    peer.set_faults(**_settings(args.faults))
    print(f"HL7 MLLP peer: {args.host}:{peer.port}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    peer.stop()


if __name__ == "__main__":
    main()
