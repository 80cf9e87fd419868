"""The MLLP listener (``odoo-bin mllp_listener``) as a process of the suite-level tests and benchmarks."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from _common import ROOT
from _odoo_shell import _setup_env


class Listener:
    """``odoo-bin mllp_listener`` on ``db``, in its own process group."""

    def __init__(self, db, port, processes=1):
        self.db, self.port, self.processes = db, port, processes
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
                 "-d", self.db, "--mllp-rescan", "2", "--mllp-processes", str(self.processes)],
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

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
