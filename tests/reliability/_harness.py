"""Shared parts of the reliability scripts: a copy of the benchmark database, the simulators and
Odoo servers (workers + queue_job runner) as processes that can be killed, and SQL checks."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg2

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent / "bench"))

from _common import Simulators, dbname, free_port, plain_imports, table, wait_http  # noqa: E402, F401 - shared
from _odoo_shell import _setup_env, copy_database, ensure_database, run_in_odoo  # noqa: E402, F401

plain_imports()
from hc_integration_base.lifecycle import PENDING  # noqa: E402

TEMPLATE = dbname("hc_bench")
# The demo inbound key of the stores system (demo data of the base).
DEMO_KEY = {"X-API-Key": "demo-inbound-key"}
HEADERS = {"Content-Type": "application/json", **DEMO_KEY}


def fresh_database(name):
    """A copy of the benchmark database (three addons, demo data) for one round, named ``name``
    (after ``HC_DB_PREFIX``)."""
    ensure_database(TEMPLATE)
    return copy_database(TEMPLATE, dbname(name))


def drop_database(name):
    subprocess.run(["dropdb", "--if-exists", "--force", name], check=False, capture_output=True)


@contextmanager
def suite_round(name, items=500, suppliers=40, workers=2, logname=None):
    """One round of a reliability script: a fresh copy of the benchmark database named ``name``,
    the simulators and an Odoo server on it, not started yet (a round prepares the database
    first). Yields (database, simulators, server); stops the server and the simulators however
    the round ends. A round that raises keeps its database and server log, and says so; dropping
    the database after a good round is the caller's (some keep it when a count is wrong)."""
    db = fresh_database(name)
    sims = Simulators(items=items, suppliers=suppliers)
    server = OdooServer(db, workers=workers, logname=logname)
    server.log.unlink(missing_ok=True)
    try:
        yield db, sims, server
    except Exception:
        print(f"{name} failed: its database {db} and log {server.log} are kept")
        raise
    finally:
        server.stop()
        sims.stop()


def in_odoo(db, function, **params):
    """Run ``function`` of ``_in_odoo`` (the reliability scripts' Odoo side) inside Odoo on ``db``."""
    return run_in_odoo(db, f"_in_odoo:{function}", **params)


class OdooServer:
    """``odoo-bin`` with workers and the queue_job runner, in its own process group."""

    def __init__(self, db, workers=2, port=None, runner=True, logname=None):
        self.db, self.workers, self.runner = db, workers, runner
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = ROOT / "var" / (logname or f"{db}-{self.port}.log")
        self.process = None

    def start(self, env_extra=None):
        python, src, conf = _setup_env()
        args = [python, f"{src}/odoo-bin", "-c", conf, "-d", self.db,
                "--http-port", str(self.port), "--gevent-port", str(free_port()), "--workers", str(self.workers),
                "--max-cron-threads", "0", "--logfile", str(self.log)]
        if not self.runner:
            args += ["--load", "base,web"]
        env = {**os.environ, **(env_extra or {})}
        self.process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        wait_http(self.url + "/web/health", process=self.process)
        return self

    def kill(self):
        """SIGKILL to every process of the server (workers, runner): a crash, no clean-up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self):
        stop_group(self.process, 30)


def stop_group(process, timeout):
    """SIGTERM to the process group ``process`` leads (started with ``start_new_session``), SIGKILL
    if it has not ended within ``timeout`` seconds; nothing if it is not running."""
    if process and process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def query(db, sql, params=None):
    with psycopg2.connect(dbname=db) as connection, connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    connection.close()
    return rows


def scalar(db, sql, params=None):
    return query(db, sql, params)[0][0]


def wait_until_drained(db, timeout=600, settle=3.0):
    """No integration job left to run and no message short of a final state, for ``settle`` s."""
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        busy = scalar(db, """
            SELECT (SELECT count(*) FROM queue_job WHERE state IN ('wait_dependencies', 'pending', 'enqueued',
                                                                    'started'))
                 + (SELECT count(*) FROM hc_message WHERE state = ANY(%s))
                 + (SELECT count(*) FROM hc_batch_run WHERE state = 'running')""", (list(PENDING),))
        if busy == 0:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= settle:
                return True
        else:
            quiet_since = None
        time.sleep(0.5)
    return False
