"""The MLLP listener (``odoo-bin mllp_listener``) as a process of the suite-level tests and benchmarks."""

import os
import socket
import subprocess
import time
from pathlib import Path

from _common import ROOT
from _harness import query, stop_group
from _odoo_shell import _setup_env


class Listener:
    """``odoo-bin mllp_listener`` on ``db``, in its own process group."""

    def __init__(self, db, port, processes=1, extra_args=()):
        self.db, self.port, self.processes, self.extra_args = db, port, processes, list(extra_args)
        self.log = ROOT / "var" / f"{db}-mllp-listener.log"
        self.process = None

    def start(self, timeout=90):
        python, src, conf = _setup_env()
        addons_path = next(line.split("=", 1)[1].strip() for line in Path(conf).read_text().splitlines()
                           if line.startswith("addons_path"))
        self.log.parent.mkdir(exist_ok=True)
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [python, f"{src}/odoo-bin", f"--addons-path={addons_path}", "mllp_listener", "-c", conf,
                 "-d", self.db, "--mllp-rescan", "2", "--mllp-processes", str(self.processes), *self.extra_args],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"the MLLP listener never opened port {self.port}:\n{self.log.read_text()[-3000:]}")

    def cpu_seconds(self):
        """``(listener, its PostgreSQL backends)``: CPU time (user + system) used so far by the
        listener's processes (its process group) and by the database connections they hold."""
        pids = [pid for pid, group, _cpu in _processes() if self.process and group == self.process.pid]
        names = [f"odoo-{pid}" for pid in pids]
        backends = {int(pid) for (pid,) in query(self.db, "SELECT pid FROM pg_stat_activity WHERE application_name "
                                                          "= ANY(%s)", (names,))} if names else set()
        listener = database = 0.0
        for pid, _group, cpu in _processes():
            if pid in pids:
                listener += cpu
            elif pid in backends:
                database += cpu
        return listener, database

    def stop(self):
        stop_group(self.process, 20)


def _processes():
    """``(pid, process group, CPU seconds)`` of every process."""
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        yield int(stat.parent.name), int(fields[2]), (int(fields[11]) + int(fields[12])) / tick
