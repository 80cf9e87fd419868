"""docker-compose.yml cannot run here (no Docker engine): check it is coherent instead."""

import configparser
import re
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
    assert {"8069", "8091", "8092"} <= ports
    assert "legacy_sim" in services["simulators"]["command"]
