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

With ``store_batch`` the listener commits in groups (:class:`GroupCommit`): the frames that arrive
on every connection while one transaction is being written are stored together by the next one,
each still answered after that commit, with its own code.
"""

import contextlib
import hashlib
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

    def buffered_frame(self):
        """The next frame's content when it has already arrived whole (a sender that did not wait for
        the previous ACK), else None: nothing is read from the socket, and anything that is not a
        clean frame is left for :meth:`next_frame` to report."""
        start = self.buffer.find(START_BLOCK)
        if start < 0 or self.buffer[:start].strip(_BLANK):
            return None
        end = self.buffer.find(END_BLOCK, start + 1)
        nested = self.buffer.find(START_BLOCK, start + 1)
        if end < 0 or 0 <= nested < end:
            return None
        data = self.buffer[start + 1:end]
        rest = self.buffer[end + 1:]
        self.buffer = rest[1:] if rest[:1] == CARRIAGE_RETURN else rest
        return data

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


def control_id_of(key):
    """The MSH-10 (at most 20 characters) of a message whose idempotency key is ``key``: the key itself
    when it fits, else a digest of it, so that keys sharing their first 20 characters (``...:ordered:7``,
    ``...:ordered:8``) never share a control id, and a resend carries the same one."""
    key = str(key)
    if len(key) <= 20:
        return key
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


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
    message's MSH-10 is the request's idempotency key (a digest of it when longer than 20 characters), so a resend after
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
                values["MSH-10"] = control_id_of(request.idempotency_key)
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
            datas = [data]  # with the frames sent behind it without waiting, stored together
            while len(datas) < listener.max_batch and (more := reader.buffered_frame()) is not None:
                datas.append(more)
            for ack in listener.handle_frames(datas):
                if ack is None or not self._answer(ack):
                    return  # no ACK may be sent: closed, and the sender resends from this frame on

    def _answer(self, ack):
        try:
            self.request.sendall(frame(ack, self.server.listener.encoding))
            return True
        except OSError:
            return False


class _Slot:
    """What one connection thread waits for: the results of its messages, in order."""

    def __init__(self, messages):
        self.messages = messages
        self.results = None
        self.done = threading.Event()


class GroupCommit:
    """Stores the messages of every connection in shared transactions (group commit).

    Connection threads call :meth:`store_many` and wait; one thread calls ``store_batch(messages)``
    with what they queued and gives each its own results (``store_batch`` returns one per message,
    in order, once everything is committed). A batch closes when every open connection has a
    message waiting (``expected()`` says how many are open; the others are reading an ACK or idle),
    after ``window`` seconds at most, or at ``max_batch`` messages; while a batch is being written
    the next one fills. When ``store_batch`` raises, the batch is stored again one message at a
    time, so a message the store cannot take leaves no other unacknowledged; its own result is the
    exception (stored or not unknown: no ACK).

    ``committers`` threads take batches in turn: while one waits for the database (its INSERTs, its
    commit), another prepares the next batch. A connection's next message only comes after the ACK
    of its previous one, so its messages are still stored in order.
    """

    def __init__(self, store_batch, *, window=0.005, max_batch=64, expected=None, committers=2):
        self.store_batch = store_batch
        self.window = window
        self.max_batch = max_batch
        self.expected = expected or (lambda: 1)
        self.batches = self.stored = 0  # transactions, and the messages they held (retries included)
        self._cond = threading.Condition()
        self._queue = []
        self._writing = 0  # connections whose messages a committer is storing now
        self._closed = False
        self._threads = [threading.Thread(target=self._run, name=f"mllp-group-commit-{number}", daemon=True)
                         for number in range(max(int(committers), 1))]
        for thread in self._threads:
            thread.start()

    def store_many(self, messages):
        """Each message's ``store_batch`` result, or the exception that prevented storing it."""
        slot = _Slot(list(messages))
        with self._cond:
            if self._closed:
                raise RuntimeError("The MLLP listener is stopping; nothing more is stored.")
            self._queue.append(slot)
            self._cond.notify_all()
        slot.done.wait()
        return slot.results

    def close(self, timeout=30):
        """Store what is queued, then stop."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)

    def _queued(self):
        return sum(len(slot.messages) for slot in self._queue)

    def _next_batch(self):
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            deadline = time.monotonic() + self.window
            # every open connection that is not waiting for a batch being written now
            while (not self._closed and self._queued() < self.max_batch
                   and len(self._queue) < self.expected() - self._writing):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch, size = [], 0
            while self._queue and (not batch or size + len(self._queue[0].messages) <= self.max_batch):
                slot = self._queue.pop(0)
                batch.append(slot)
                size += len(slot.messages)
            self._writing += len(batch)
            return batch

    def _run(self):
        while batch := self._next_batch():
            try:
                self._store(batch)
            finally:
                for slot in batch:  # never leave a connection waiting, whatever happened
                    if slot.results is None:
                        slot.results = [RuntimeError("not stored")] * len(slot.messages)
                    slot.done.set()
                with self._cond:
                    self._writing -= len(batch)
                    self._cond.notify_all()

    def _store(self, batch):
        messages = [message for slot in batch for message in slot.messages]
        with self._cond:
            self.batches += 1
            self.stored += len(messages)
        try:
            results = list(self.store_batch(messages))
            if len(results) != len(messages):
                raise RuntimeError(f"store_batch answered {len(results)} results for {len(messages)} messages")
        except Exception as exc:  # noqa: BLE001 - no ACK for what may not be stored; one by one below
            if len(messages) > 1:
                _logger.warning("MLLP listener: storing %s messages together failed (%s); storing them one by "
                                "one", len(messages), exc)
                return self._store_one_by_one(batch)
            _logger.exception("MLLP listener: storing message %s failed; no ACK sent", messages[0].control_id)
            results = [exc]
        offset = 0
        for slot in batch:
            slot.results = results[offset:offset + len(slot.messages)]
            offset += len(slot.messages)
        return None

    def _store_one_by_one(self, batch):
        for slot in batch:
            results = []
            for message in slot.messages:
                if results and isinstance(results[-1], Exception):
                    # a connection's messages keep their order: none stored after one that may not be
                    results.append(RuntimeError("not stored: an earlier message of the connection failed"))
                    continue
                single = _Slot([message])
                self._store([single])
                results.append(single.results[0])
            slot.results = results


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

    ``store_batch(messages)`` instead stores several messages in one transaction and returns one such
    result per message, in order (:class:`GroupCommit` gathers them from every connection, waiting
    ``batch_window`` seconds at most, ``max_batch`` messages at most, ``committers`` transactions at a
    time); ``store`` is then not called.
    """

    def __init__(self, store=None, host="127.0.0.1", port=0, *, accept_types=None, encoding="utf-8",
                 idle_timeout=300.0, frame_timeout=30.0, max_bytes=MAX_FRAME_BYTES, on_refused=None,
                 reuse_port=False, store_batch=None, batch_window=0.005, max_batch=64, committers=2):
        if (store is None) == (store_batch is None):
            raise ValueError("Give the listener store or store_batch (one of them).")
        self.store = store
        self.max_batch = max(int(max_batch), 1)
        self.group = GroupCommit(store_batch, window=batch_window, max_batch=self.max_batch, committers=committers,
                                 expected=lambda: len(self.connections)) if store_batch else None
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
        return self.handle_frames([data])[0]

    def handle_frames(self, datas):
        """The ACKs (Message, or None when none may be sent) of frames read together, in order."""
        acks, readable = [None] * len(datas), []
        for index, data in enumerate(datas):
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
                acks[index] = hl7v2.build_ack(data, exc.ack, reason=str(exc), error_code=exc.code,
                                              location=exc.location)
                continue
            readable.append((index, message))
        if not readable:
            return acks
        if self.group is not None:
            results = self.group.store_many([message for _index, message in readable])
        else:
            results = []
            for _index, message in readable:
                if results and isinstance(results[-1], Exception):
                    break  # in order: nothing stored after a message whose storing failed (no ACK from it on)
                try:
                    results.append(self.store(message))
                except Exception as exc:  # noqa: BLE001 - the store's failure must not become an answer
                    _logger.exception("MLLP listener: storing message %s failed; no ACK sent", message.control_id)
                    results.append(exc)
            results += [RuntimeError("not stored")] * (len(readable) - len(results))
        for (index, message), result in zip(readable, results, strict=True):
            acks[index] = self._ack(message, result)
        return acks

    def _ack(self, message, result):
        if isinstance(result, Exception):  # stored or not is unknown: no answer
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
        if self.group is not None:
            self.group.close()
            _logger.info("MLLP listener on port %s: %s messages in %s transactions", self.port, self.group.stored,
                         self.group.batches)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
