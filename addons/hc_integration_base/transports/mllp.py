"""MLLP (HL7's Minimal Lower Layer Protocol) in plain Python: framing, a sender, a listener.

A frame is ``0x0B <message> 0x1C 0x0D``. The sender (:class:`MllpClient`) sends one message and
waits for its ACK (HL7 original mode): AA → the :class:`~..payload.hl7v2.Ack`; AE / AR → a
permanent :class:`~.errors.TransportError` carrying the ERR text; no ACK (timeout, connection
closed) → a transient one, and the message is sent again later with the same MSH-10 (the receiver
takes a control id once). The listener (:class:`MllpListener`, threaded: one thread per
connection, messages of a connection in order) validates MSH, calls ``store(message)`` and only
then answers: AA when the store said ok, AE with its reason when it refused, AR when the message
cannot be read. When ``store`` raises, the message may or may not be stored, so no ACK is sent
(the connection is closed): the sender retries, and idempotency on MSH-10 absorbs the repeat.
"""

import contextlib
import logging
import select
import socket
import socketserver
import threading
import time

from ..payload import hl7v2
from .errors import TransportError

_logger = logging.getLogger(__name__)

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c"
CARRIAGE_RETURN = b"\x0d"
MAX_FRAME_BYTES = 16 * 1024 * 1024
_BLANK = b"\r\n\t \x00"


class FramingError(ValueError):
    """Bytes on the connection that are not an MLLP frame."""


def frame(message, encoding="utf-8"):
    """``message`` (Message, str or bytes) wrapped in an MLLP frame."""
    if isinstance(message, hl7v2.Message):
        message = message.to_er7()
    data = message.encode(encoding) if isinstance(message, str) else bytes(message)
    if START_BLOCK in data or END_BLOCK in data:
        raise FramingError("The message contains an MLLP block character (0x0B or 0x1C).")
    return START_BLOCK + data + END_BLOCK + CARRIAGE_RETURN


class FrameReader:
    """Reads MLLP frames from a socket, keeping what arrived after a frame for the next one."""

    def __init__(self, sock, max_bytes=MAX_FRAME_BYTES):
        self.sock = sock
        self.max_bytes = max_bytes
        self.buffer = b""

    def next_frame(self, timeout, first_byte_timeout=None):
        """The next frame's content (bytes), or None when the peer closed between frames.

        ``first_byte_timeout`` bounds the wait for a frame to start (an idle connection; default
        ``timeout``), ``timeout`` the frame once started. Raises ``TimeoutError`` and
        :class:`FramingError`. A frame ends at 0x1C; the 0x0D after it is consumed when present.
        """
        idle_deadline = time.monotonic() + (timeout if first_byte_timeout is None else first_byte_timeout)
        frame_deadline = None
        while True:
            start = self.buffer.find(START_BLOCK)
            junk = self.buffer if start < 0 else self.buffer[:start]
            if junk.strip(_BLANK):
                raise FramingError(f"{len(junk)} byte(s) arrived outside an MLLP frame (a frame starts "
                                   f"with 0x0B): {junk[:40]!r}")
            if start >= 0:
                if frame_deadline is None:
                    frame_deadline = time.monotonic() + timeout
                end = self.buffer.find(END_BLOCK, start + 1)
                nested = self.buffer.find(START_BLOCK, start + 1)
                if 0 <= nested and (end < 0 or nested < end):
                    raise FramingError("A new MLLP frame (0x0B) started before the previous one ended (0x1C).")
                if end >= 0:
                    data = self.buffer[start + 1:end]
                    rest = self.buffer[end + 1:]
                    self.buffer = rest[1:] if rest[:1] == CARRIAGE_RETURN else rest
                    return data
                if len(self.buffer) - start > self.max_bytes:
                    raise FramingError(f"The MLLP frame exceeds {self.max_bytes} bytes.")
            else:
                self.buffer = b""
            if not self._fill(frame_deadline or idle_deadline):
                if start >= 0:
                    raise FramingError("The connection closed in the middle of an MLLP frame (no 0x1C).")
                return None

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out")
        self.sock.settimeout(remaining)
        chunk = self.sock.recv(65536)
        self.buffer += chunk
        return bool(chunk)


# --- sender ------------------------------------------------------------------------------------
class MllpClient:
    """Sends HL7 messages over one MLLP connection (opened on first use, reopened when broken)."""

    def __init__(self, host, port, *, connect_timeout=5.0, read_timeout=30.0, encoding="utf-8",
                 max_bytes=MAX_FRAME_BYTES):
        self.host = host
        self.port = int(port)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.encoding = encoding
        self.max_bytes = max_bytes
        self._sock = None
        self._reader = None

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = self._reader = None

    def _connect(self):
        if self._sock is not None and not self._stale():
            return
        self.close()
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except socket.gaierror as exc:
            raise TransportError(f"Could not resolve host '{self.host}' — check the MLLP host.",
                                 category="dns") from exc
        except ConnectionRefusedError as exc:
            raise TransportError(f"Connection refused by {self.address} — is the HL7 system listening "
                                 "on that port?", category="connection") from exc
        except TimeoutError as exc:
            raise TransportError(f"No connection to {self.address} within {self.connect_timeout:g} s "
                                 "(connect timeout) — the host may be down or filtered.", category="timeout") from exc
        except OSError as exc:
            raise TransportError(f"The connection to {self.address} failed ({exc}).", category="connection") from exc
        self._sock = sock
        self._reader = FrameReader(sock, self.max_bytes)

    def _stale(self):
        """True when the kept connection was closed by the peer (readable with nothing to read)."""
        try:
            readable, _w, _x = select.select([self._sock], [], [], 0)
            if not readable:
                return False
            return self._sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def send(self, message):
        """Send ``message`` (Message or ER7 text) and return its :class:`~..payload.hl7v2.Ack` (AA).

        Raises :class:`TransportError`: transient for no connection or no ACK, permanent for AE / AR
        (``fault_code`` the ERR code, ``fault_string`` the ERR text) and for unreadable answers.
        """
        try:
            parsed = message if isinstance(message, hl7v2.Message) else hl7v2.parse(message)
        except hl7v2.Hl7Error as exc:
            raise TransportError(f"The outbound HL7 message is not valid: {exc}", category="request",
                                 transient=False) from exc
        control_id = parsed.control_id
        try:
            data = frame(parsed if isinstance(message, hl7v2.Message) else message, self.encoding)
        except (FramingError, UnicodeEncodeError) as exc:
            raise TransportError(f"The outbound HL7 message cannot be framed: {exc}", category="request",
                                 transient=False) from exc
        self._connect()
        try:
            self._sock.settimeout(self.read_timeout)
            self._sock.sendall(data)
            answer = self._reader.next_frame(self.read_timeout)
        except TimeoutError as exc:
            self.close()  # a late ACK must never be read as the answer to the next message
            raise TransportError(
                f"No ACK from {self.address} within {self.read_timeout:g} s (read timeout) for message "
                f"{control_id}; it may have arrived, and is sent again with the same MSH-10.",
                category="timeout") from exc
        except FramingError as exc:
            self.close()
            raise TransportError(f"The answer of {self.address} is not an MLLP frame: {exc}",
                                 category="invalid_response", transient=False) from exc
        except OSError as exc:
            self.close()
            raise TransportError(f"The connection to {self.address} broke before the ACK of message "
                                 f"{control_id} ({type(exc).__name__}).", category="connection") from exc
        if answer is None:
            self.close()
            raise TransportError(f"{self.address} closed the connection without acknowledging message "
                                 f"{control_id}.", category="connection")
        try:
            ack = hl7v2.parse_ack(answer.decode(self.encoding, "replace"))
        except hl7v2.Hl7Error as exc:
            self.close()
            raise TransportError(f"The answer of {self.address} to message {control_id} is not an HL7 "
                                 f"ACK: {exc}", category="invalid_response", transient=False) from exc
        if ack.control_id != control_id:
            self.close()
            raise TransportError(f"The ACK of {self.address} acknowledges message {ack.control_id!r}, not "
                                 f"{control_id!r}.", category="invalid_response", transient=False)
        if ack.accepted:
            return ack
        kind = "rejected (AR)" if ack.code in ("AR", "CR") else "refused with an error (AE)"
        code = f" [{ack.error_code}]" if ack.error_code else ""
        raise TransportError(
            f"{self.address} {kind} message {control_id}: {ack.text or 'no reason given'}{code}",
            category="hl7_reject" if ack.code in ("AR", "CR") else "hl7_error", transient=False,
            fault_code=ack.error_code, fault_string=ack.text, detail=answer.decode(self.encoding, "replace"),
        )


def send(host, port, message, **options):
    """Send one message on a fresh connection and return its ACK (see :meth:`MllpClient.send`)."""
    with MllpClient(host, port, **options) as client:
        return client.send(message)


def _flatten(values, prefix=""):
    """``{"ITM-2": {"1": "x"}}`` (an outbound mapping's target ``ITM-2.1``) as ``{"ITM-2.1": "x"}``."""
    flat = {}
    for key, value in values.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(_flatten(value, path))
        else:
            flat[path] = value
    return flat


class MllpTransport:
    """The transport interface (``send``, ``probe``) over MLLP, for a backend of protocol MLLP.

    ``send(request)`` sends ``request.body``: ER7 text, or ``{HL7 path: value}`` built into a message
    (``hl7v2.build_message``; ``request.operation`` may give the message type, e.g. ``OMG^O19``). The
    message's MSH-10 is the request's idempotency key (at most 20 characters kept), so a resend after
    a lost ACK carries the same control id. AA answers ``{"status": "accepted"}``; AE / AR raise a
    permanent :class:`TransportError` with the ERR text, no ACK a transient one.
    """

    def __init__(self, host, port, *, connect_timeout=5.0, read_timeout=30.0, encoding="utf-8", breaker=None):
        self.client = MllpClient(host, port, connect_timeout=connect_timeout, read_timeout=read_timeout,
                                 encoding=encoding)
        self.breaker = breaker
        self._lock = threading.Lock()  # one connection: one message and its ACK at a time

    def probe(self, _path=None):
        started = time.monotonic()
        try:
            with socket.create_connection((self.client.host, self.client.port), timeout=self.client.connect_timeout):
                pass
        except OSError as exc:
            raise TransportError(f"No MLLP connection to {self.client.address} ({exc}) — is the HL7 system "
                                 "listening on that port?", category="connection") from exc
        return f"{self.client.address} accepts MLLP connections ({(time.monotonic() - started) * 1000:.0f} ms)."

    def send(self, request):
        from .base import Reply  # noqa: PLC0415 - base imports nothing of this module

        body = request.body
        if isinstance(body, dict):
            values = _flatten(body)
            if request.idempotency_key and "MSH-10" not in values:
                values["MSH-10"] = str(request.idempotency_key)[:20]
            try:
                body = hl7v2.build_message(values, message_type=request.operation or None)
            except (hl7v2.Hl7Error, hl7v2.Hl7PathError) as exc:
                raise TransportError(f"The HL7 message cannot be built: {exc}", category="request",
                                     transient=False) from exc
        if self.breaker is not None:
            self.breaker.before_call()
        started = time.monotonic()
        try:
            with self._lock:
                ack = self.client.send(body)
        except TransportError as exc:
            if self.breaker is not None and exc.transient:
                self.breaker.record_failure(str(exc))
            raise
        if self.breaker is not None:
            self.breaker.record_success()
        raw = ack.message.to_er7() if ack.message is not None else ""
        return Reply(body={"status": "accepted", "reason": ack.text or None, "control_id": ack.control_id},
                     raw_text=raw, elapsed_ms=(time.monotonic() - started) * 1000,
                     correlation_id=request.correlation_id)


# --- listener ----------------------------------------------------------------------------------
class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        listener = self.server.listener
        reader = FrameReader(self.request, listener.max_bytes)
        while not listener.stopping:
            try:
                data = reader.next_frame(listener.frame_timeout, first_byte_timeout=listener.idle_timeout)
            except TimeoutError:
                return  # idle, or a frame that never ended: the sender will resend
            except FramingError as exc:
                listener.count("malformed")
                self._answer(hl7v2.build_ack(None, "AR", reason=str(exc), error_code=hl7v2.ERR_SEGMENT_SEQUENCE))
                return
            except OSError:
                return
            if data is None:
                return
            ack = listener.handle_frame(data)
            if ack is None or not self._answer(ack):
                return

    def _answer(self, ack):
        try:
            self.request.sendall(frame(ack, self.server.listener.encoding))
            return True
        except OSError:
            return False


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def process_request(self, request, client_address):
        with self.listener.lock:
            self.listener.connections.add(request)
        return super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.listener.lock:
            self.listener.connections.discard(request)
        return super().shutdown_request(request)


class MllpListener:
    """Receives MLLP frames and acknowledges each message after ``store(message)`` answered.

    ``store(message)`` gets a parsed :class:`~..payload.hl7v2.Message` (``message.raw`` is the text
    as received) and returns ``(ok, reason)``: ok → AA; not ok → AE with ``reason`` in ERR (a third
    element ``"AR"`` answers AR instead, a fourth is the ERR code, HL7 table 0357). It runs on the
    connection's thread: make it thread-safe.
    """

    def __init__(self, store, host="127.0.0.1", port=0, *, accept_types=None, encoding="utf-8",
                 idle_timeout=300.0, frame_timeout=30.0, max_bytes=MAX_FRAME_BYTES, on_refused=None,
                 reuse_port=False):
        self.store = store
        # on_refused(data, error): told of each message refused before ``store`` (AR), e.g. to keep it
        # visible in an exception queue; its failure never changes the answer.
        self.on_refused = on_refused
        self.host = host
        self.accept_types = set(accept_types or ())
        self.encoding = encoding
        self.idle_timeout = idle_timeout
        self.frame_timeout = frame_timeout
        self.max_bytes = max_bytes
        self.lock = threading.Lock()
        self.connections = set()
        self.counts = {"AA": 0, "AE": 0, "AR": 0, "no_ack": 0, "malformed": 0}
        self.stopping = False
        # reuse_port: several processes listen on one port (SO_REUSEPORT), the kernel spreading the
        # connections among them; each connection, and so each sender's message order, stays in one.
        self._server = _Server((host, port), _Handler, bind_and_activate=False)
        self._server.allow_reuse_port = reuse_port
        try:
            self._server.server_bind()
            self._server.server_activate()
        except OSError:
            self._server.server_close()
            raise
        self._server.listener = self
        self.port = self._server.server_address[1]
        self._thread = None

    def count(self, outcome):
        with self.lock:
            self.counts[outcome] += 1

    def handle_frame(self, data):
        """The ACK (a Message) for one frame's bytes, or None when none may be sent."""
        try:
            message = hl7v2.parse(data, self.encoding)
            hl7v2.validate_msh(message, accept_types=self.accept_types)
        except hl7v2.Hl7Error as exc:
            self.count("AR")
            if self.on_refused is not None:
                try:
                    self.on_refused(data, exc)
                except Exception:  # noqa: BLE001 - the refusal is answered whatever its record does
                    _logger.exception("MLLP listener: recording a refused message failed")
            return hl7v2.build_ack(data, exc.ack, reason=str(exc), error_code=exc.code, location=exc.location)
        try:
            result = self.store(message)
        except Exception:  # the store's failure must not become an answer: stored or not is unknown
            _logger.exception("MLLP listener: storing message %s failed; no ACK sent", message.control_id)
            self.count("no_ack")
            return None
        ok, reason = result[0], result[1] if len(result) > 1 else ""
        if ok:
            self.count("AA")
            return hl7v2.build_ack(message, "AA", reason=reason or "")
        code = result[2] if len(result) > 2 and result[2] in ("AE", "AR") else "AE"
        error_code = result[3] if len(result) > 3 and result[3] else None
        self.count(code)
        return hl7v2.build_ack(message, code, reason=reason or "refused by the receiving application",
                               error_code=error_code)

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=f"mllp-listener-{self.port}", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        self._server.serve_forever(poll_interval=0.2)

    def stop(self):
        self.stopping = True
        self._server.shutdown()
        with self.lock:
            connections = list(self.connections)
        for sock in connections:
            with contextlib.suppress(OSError):  # already closed by the peer
                sock.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
