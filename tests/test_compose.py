"""docker-compose.yml cannot run here (no Docker engine): check it is coherent instead."""

import configparser
import os
import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_and_images():
    services = _compose()["services"]
    assert set(services) >= {"db", "odoo", "simulators"}
    assert services["db"]["image"].startswith("postgres:")
    dockerfile = ROOT / services["odoo"]["build"]["dockerfile"]
    assert dockerfile.is_file()
    assert re.search(r"^FROM odoo:19\.0$", dockerfile.read_text(), re.M)
    assert "odoo-addon-queue-job==19.0.*" in dockerfile.read_text()
    assert "odoo-addon-account-budget-oca==19.0.*" in dockerfile.read_text()
    assert "--no-deps" in dockerfile.read_text()


def test_every_referenced_path_exists():
    services = _compose()["services"]
    for name, service in services.items():
        build = service.get("build")
        if build:
            assert (ROOT / build["context"] / build["dockerfile"]).is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: {source} missing"
    dockerfile = (ROOT / "setup/Dockerfile").read_text()
    for source in re.findall(r"^COPY (\S+) ", dockerfile, re.M):
        assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"


def test_odoo_config_runs_queue_job():
    services = _compose()["services"]
    conf_path = next(
        v.split(":")[0] for v in services["odoo"]["volumes"] if v.endswith("odoo.conf:ro")
    )
    conf = configparser.ConfigParser()
    conf.read(ROOT / conf_path)
    assert "queue_job" in conf["options"]["server_wide_modules"].split(",")
    assert int(conf["options"]["workers"]) > 0
    assert conf["queue_job"]["channels"].startswith("root:")
    assert "/mnt/extra-addons" in conf["options"]["addons_path"]


def test_simulators_reachable_from_odoo_as_localhost():
    """The demo backends use 127.0.0.1 URLs: Odoo must share the simulators' network."""
    services = _compose()["services"]
    assert services["odoo"]["network_mode"] == "service:simulators"
    ports = {p.split(":")[0] for p in services["simulators"]["ports"]}
    assert {"8069", "8091", "8092", "8093", "8094", "8095", "8096"} <= ports
    assert "--hr-port" in services["simulators"]["command"]
    assert "--cmms-port" in services["simulators"]["command"]
    assert "--finance-port" in services["simulators"]["command"]
    assert "legacy_sim" in services["simulators"]["command"]


ADDONS = {"hc_integration_base", "hc_procurement_sync", "hc_inventory_sync", "hc_workforce_sync",
          "hc_maintenance_sync", "hc_budget_sync"}


def _served_database(services):
    command = services["odoo"]["command"]
    return command[command.index("-d") + 1]


def _run_init(tmp_path, installed_count):
    """setup/docker-init.sh as the odoo-init service runs it, against stub pg_isready, psql and
    odoo commands: psql answers the count of the suite's addons installed (or fails: no database)."""
    services = _compose()["services"]
    init = services["odoo-init"]
    script = next(v.split(":")[0] for v in init["volumes"] if v.split(":")[1] == init["command"][-1])
    stubs = tmp_path / "bin"
    stubs.mkdir(exist_ok=True)
    calls = tmp_path / "odoo-calls"
    (stubs / "pg_isready").write_text("#!/bin/sh\nexit 0\n")
    answer = "exit 2" if installed_count is None else f"echo {installed_count}"
    (stubs / "psql").write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        "  *hc_integration_base*hc_procurement_sync*hc_inventory_sync*hc_workforce_sync*hc_maintenance_sync*"
        "\"state = 'installed'\"*) "
        f"{answer} ;;\n"
        '  *) echo "unexpected query: $*" >&2; exit 3 ;;\n'
        "esac\n"
    )
    (stubs / "odoo").write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> {calls}\necho --- >> {calls}\n')
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    env = {**os.environ, **{k: str(v) for k, v in init.get("environment", {}).items()},
           "PATH": f"{stubs}:{os.environ['PATH']}", "ODOO_RC": "/etc/odoo/odoo.conf"}
    result = subprocess.run(["bash", str(ROOT / script)], env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    runs = [run.strip().split("\n") for run in calls.read_text().split("---")[:-1]] if calls.exists() else []
    return result, runs


def test_init_step_runs_before_odoo():
    services = _compose()["services"]
    assert "healthcheck" in services["db"]
    assert services["odoo-init"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["odoo"]["depends_on"]["odoo-init"]["condition"] == "service_completed_successfully"
    assert services["odoo-init"].get("restart", "no") == "no"
    # It installs with the code and configuration Odoo serves, into the same filestore.
    odoo_volumes = set(services["odoo"]["volumes"])
    assert odoo_volumes <= set(services["odoo-init"]["volumes"]), odoo_volumes
    assert services["odoo-init"]["build"] == services["odoo"]["build"]


def test_first_up_installs_the_addons_with_demo_data_into_the_served_database(tmp_path):
    result, runs = _run_init(tmp_path, None)  # no database yet
    assert result.returncode == 0, result.stderr
    assert len(runs) == 1, runs
    args = runs[0]
    assert args[args.index("-d") + 1] == _served_database(_compose()["services"])
    assert set(args[args.index("-i") + 1].split(",")) == ADDONS
    assert len(args[args.index("-i") + 1].split(",")) == len(ADDONS)
    assert "--with-demo" in args and "--stop-after-init" in args
    assert args[args.index("-c") + 1] == "/etc/odoo/odoo.conf"


def test_later_up_does_not_reinstall(tmp_path):
    result, runs = _run_init(tmp_path, len(ADDONS))
    assert result.returncode == 0, result.stderr
    assert runs == [], runs
    assert "nothing to do" in result.stdout


def test_interrupted_first_install_is_finished(tmp_path):
    result, runs = _run_init(tmp_path, len(ADDONS) - 1)
    assert result.returncode == 0, result.stderr
    assert len(runs) == 1 and "-i" in runs[0], runs


def test_websocket_reaches_gevent_through_the_published_port():
    """The web client opens /websocket on the port it was loaded from: the proxy on 8069 must send
    it to Odoo's gevent port and the rest to Odoo's HTTP port, in the namespace Odoo listens in."""
    services = _compose()["services"]
    proxy = services["proxy"]
    assert proxy["network_mode"] == services["odoo"]["network_mode"] == "service:simulators"
    command = proxy["command"]
    option = {name: command[command.index(name) + 1] for name in ("--listen", "--http", "--gevent", "--host")}
    conf = configparser.ConfigParser()
    conf.read(ROOT / "setup" / "odoo-docker.conf")
    assert option["--http"] == conf["options"]["http_port"]
    assert option["--gevent"] == conf["options"]["gevent_port"]
    assert option["--host"] == "0.0.0.0"
    assert f"{option['--listen']}:{option['--listen']}" in services["simulators"]["ports"]
    script = next(v.split(":")[0] for v in proxy["volumes"] if v.split(":")[1] == command[1])
    assert (ROOT / script).is_file()
