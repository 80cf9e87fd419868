"""``odoo-bin mllp_listener``: receive HL7 v2 messages over MLLP for a database's MLLP backends.

::

    odoo-bin --addons-path=<the configuration's addons path> mllp_listener -c odoo.conf -d <db> \\
        [--mllp-interface 127.0.0.1] [--mllp-rescan 30]

(``--addons-path`` first lets ``odoo-bin`` find this command in the addon; the run command does it.)

One listener per active MLLP backend with a listening port, on ``--mllp-interface``. Messages
go through ``hc.backend._hl7_receive_batch`` in shared transactions (group commit: the messages of
every connection that arrive while one transaction is written, up to ``--mllp-batch-max``, wait at
most ``--mllp-batch-window`` ms for the others), each committed before its ACK is written: AA
means the message is in the message store (its job applies it afterwards), AE / AR carry the
reason in ERR. When storing fails - the database is down, the commit fails -
no ACK is sent and the connection is closed: the sender sends again (same MSH-10) and the store
takes the control id once. Backends are read again every ``--mllp-rescan`` seconds: a new
listening port starts, a removed one stops.

It runs inside an Odoo process (a registry and its cursors) rather than posting to the inbound
HTTP API: the ACK waits on the commit itself, with no HTTP hop whose lost answer would leave
"stored or not" unknown, no inbound API key to keep, and an HTTP worker is never held while an
HL7 sender waits.
"""

import argparse
import functools
import logging
import signal
import subprocess
import sys
import threading

from odoo import SUPERUSER_ID, api
from odoo.cli import Command
from odoo.modules.registry import Registry
from odoo.tools import config

_logger = logging.getLogger("odoo.addons.hc_integration_base.mllp_listener")


class MllpListener(Command):
    """Receive HL7 v2 messages over MLLP for the database's MLLP backends"""

    name = "mllp_listener"

    def run(self, cmdargs):
        self.parser.add_argument("--mllp-interface", default="127.0.0.1",
                                 help="Address the listeners bind to (0.0.0.0: every interface).")
        self.parser.add_argument("--mllp-rescan", type=float, default=30.0,
                                 help="Seconds between two readings of the MLLP backends.")
        self.parser.add_argument("--mllp-processes", type=int, default=1,
                                 help="Processes sharing each listening port (SO_REUSEPORT): one process "
                                 "stores about one core's worth of messages; each connection stays in one.")
        self.parser.add_argument("--mllp-batch-window", type=float, default=5.0,
                                 help="Milliseconds a message waits at most for those of the other open "
                                 "connections, to be committed with them (0: only what is already waiting).")
        self.parser.add_argument("--mllp-batch-max", type=int, default=64,
                                 help="Messages committed together at most (1: one transaction per message).")
        self.parser.add_argument("--mllp-batch-committers", type=int, default=2,
                                 help="Transactions of the group commit written at a time (each on its own "
                                 "database connection): one prepares its batch while another waits for PostgreSQL.")
        self.parser.add_argument("--mllp-reuse-port", action="store_true", help=argparse.SUPPRESS)
        options, odoo_args = self.parser.parse_known_args(cmdargs)
        config.parse_config(odoo_args, setup_logging=True)
        databases = config["db_name"]
        if len(databases) != 1:
            raise SystemExit("mllp_listener serves one database: give exactly one -d/--database.")
        processes = max(options.mllp_processes, 1)
        children = []
        if processes > 1:  # the same command once more per extra process, sharing the ports
            children = [subprocess.Popen(_child_command(cmdargs)) for _ in range(processes - 1)]
        service = ListenerService(databases[0], options.mllp_interface, options.mllp_rescan,
                                  reuse_port=options.mllp_reuse_port or processes > 1,
                                  batch_window=max(options.mllp_batch_window, 0.0) / 1000,
                                  batch_max=max(options.mllp_batch_max, 1),
                                  committers=max(options.mllp_batch_committers, 1))
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_args: stop.set())
        try:
            service.serve(stop)
        finally:
            service.close()
            for child in children:
                child.terminate()
            for child in children:
                child.wait(30)
        return 0


def _child_command(cmdargs):
    """This command line for one more process sharing the ports: ``--mllp-processes`` left out."""
    prefix = sys.argv[:sys.argv.index("mllp_listener") + 1]
    rest, skip = [], False
    for arg in cmdargs:
        if skip:
            skip = False
        elif arg == "--mllp-processes":
            skip = True
        elif not arg.startswith("--mllp-processes="):
            rest.append(arg)
    return [sys.executable, *prefix, *rest, "--mllp-reuse-port"]


class ListenerService:
    """The listeners of one database, kept in step with its MLLP backends."""

    def __init__(self, db, interface="127.0.0.1", rescan=30.0, reuse_port=False, batch_window=0.005, batch_max=64,
                 committers=2):
        self.db, self.interface, self.rescan, self.reuse_port = db, interface, rescan, reuse_port
        self.batch_window, self.batch_max, self.committers = batch_window, batch_max, committers
        self.listeners = {}  # backend id -> ((port, encoding), MllpListener)

    def _env(self, cr):
        Registry(self.db).check_signaling(cr)  # modules or caches changed by another process
        return api.Environment(cr, SUPERUSER_ID, {})

    def wanted(self):
        """``{backend id: (port, encoding, code)}`` of the active MLLP backends with a listening port."""
        with Registry(self.db).cursor() as cr:
            env = self._env(cr)
            backends = env["hc.backend"].search([("protocol", "=", "mllp"), ("mllp_listen_port", ">", 0)])
            return {b.id: (b.mllp_listen_port, b.mllp_encoding or "utf-8", b.code) for b in backends}

    def store_batch(self, backend_id, messages):
        """The listener's store: ``(ok, reason, AE|AR, error code)`` per message, in order, once the
        transaction holding them all committed."""
        with Registry(self.db).cursor() as cr:
            results = self._env(cr)["hc.backend"].browse(backend_id)._hl7_receive_batch(messages)
        # Left the with block: committed (an error there propagates: the listener stores them one by one).
        return [(r["code"] == "AA", r["reason"], r["code"], r["error_code"]) for r in results]

    def refused(self, backend_id, data, error):
        with Registry(self.db).cursor() as cr:
            self._env(cr)["hc.backend"].browse(backend_id)._hl7_record_refusal(data, error)

    def sync(self):
        from odoo.addons.hc_integration_base.transports.mllp import MllpListener as Listener  # noqa: PLC0415

        try:
            wanted = self.wanted()
        except Exception:  # noqa: BLE001 - the database may be away for a while: keep what runs
            _logger.exception("MLLP listener: the backends of %s cannot be read; the listeners keep running", self.db)
            return
        for backend_id, (spec, listener) in list(self.listeners.items()):
            if backend_id not in wanted or wanted[backend_id][:2] != spec:
                _logger.info("MLLP listener: stopping backend %s on port %s", backend_id, spec[0])
                listener.stop()
                del self.listeners[backend_id]
        for backend_id, (port, encoding, code) in wanted.items():
            if backend_id in self.listeners:
                continue
            try:
                listener = Listener(
                    None, self.interface, port, encoding=encoding,
                    on_refused=functools.partial(self.refused, backend_id),
                    reuse_port=self.reuse_port, store_batch=functools.partial(self.store_batch, backend_id),
                    batch_window=self.batch_window, max_batch=self.batch_max, committers=self.committers).start()
            except OSError as exc:
                _logger.error("MLLP listener: backend %s cannot listen on %s:%s (%s)", code, self.interface, port, exc)
                continue
            self.listeners[backend_id] = ((port, encoding), listener)
            _logger.info("MLLP listener: backend %s listening on %s:%s (database %s)", code, self.interface,
                         listener.port, self.db)

    def serve(self, stop):
        while not stop.is_set():
            self.sync()
            stop.wait(self.rescan)

    def close(self):
        for _spec, listener in self.listeners.values():
            listener.stop()
        self.listeners.clear()
