"""The bootstrap is idempotent and explains a missing Odoo source instead of failing obscurely."""

import configparser
import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP = ROOT / "setup" / "bootstrap.sh"


def _run(env=None):
    return subprocess.run(
        ["bash", str(BOOTSTRAP)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
        check=False,
    )


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def test_second_run_changes_nothing():
    first = _run()
    assert first.returncode == 0, first.stderr
    conf = Path(os.environ.get("HC_CONF", ROOT / "var" / "odoo.conf"))
    before = (_digest(conf), conf.stat().st_mtime_ns)
    second = _run()
    assert second.returncode == 0, second.stderr
    assert (_digest(conf), conf.stat().st_mtime_ns) == before
    # Nothing installed, written or started: only the closing line is printed.
    lines = [line for line in second.stderr.splitlines() if line.startswith("[hc-setup]")]
    assert len(lines) == 1 and lines[0].startswith("[hc-setup] Ready:"), second.stderr


def test_invalid_odoo_src_explains_itself(tmp_path):
    result = _run({"ODOO_SRC": str(tmp_path / "nowhere")})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "ODOO_SRC" in result.stderr and "19.0" in result.stderr
    assert "git clone" in result.stderr


def test_no_source_and_no_clone_explains_itself(tmp_path):
    env = {
        "HC_HOME": str(tmp_path / "home"),
        "HC_ODOO_GIT": str(tmp_path / "no-such-repo.git"),
    }
    result = subprocess.run(
        ["bash", str(BOOTSTRAP)],
        capture_output=True,
        text=True,
        env={k: v for k, v in {**os.environ, **env}.items() if k != "ODOO_SRC"},
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "No Odoo 19 source is available" in result.stderr
    assert "ODOO_SRC" in result.stderr
    assert not (tmp_path / "home" / "odoo-19.0").exists()


def test_workers_and_job_capacity_follow_the_cores(tmp_path):
    """2 x cores + 1 HTTP workers and one running job per core unless HC_* say otherwise: jobs
    never hold every worker, so inbound posts are answered while a backlog drains."""
    cores = len(os.sched_getaffinity(0))  # what nproc counts
    env = {k: v for k, v in os.environ.items() if k not in ("HC_WORKERS", "HC_JOB_CAPACITY")}
    conf = tmp_path / "odoo.conf"
    result = subprocess.run(["bash", str(BOOTSTRAP)], capture_output=True, text=True, timeout=600, check=False,
                            env={**env, "HC_CONF": str(conf)})
    assert result.returncode == 0, result.stderr
    parser = configparser.ConfigParser()
    parser.read(conf)
    assert int(parser["options"]["workers"]) == 2 * cores + 1
    assert parser["queue_job"]["channels"] == f"root:{cores},root.hc:{cores}"
    overridden = tmp_path / "odoo-2.conf"
    result = subprocess.run(["bash", str(BOOTSTRAP)], capture_output=True, text=True, timeout=600, check=False,
                            env={**env, "HC_CONF": str(overridden), "HC_WORKERS": "7", "HC_JOB_CAPACITY": "1"})
    assert result.returncode == 0, result.stderr
    parser = configparser.ConfigParser()
    parser.read(overridden)
    assert (parser["options"]["workers"], parser["queue_job"]["channels"]) == ("7", "root:1,root.hc:1")


def test_gevent_process_can_start_in_the_venv():
    """Odoo's gevent process (the web client's /websocket) begins with gevent.monkey.patch_all(),
    which loads gevent's plugins through pkg_resources: a setuptools that cannot read the metadata
    of zope.interface 8 kills it at import, one that warns prints at every start."""
    result = subprocess.run(
        [sys.executable, "-c", "import gevent.monkey; gevent.monkey.patch_all()"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0 and not result.stderr, result.stderr
