"""docker-compose.yml: valid against the Compose JSON schema, official pinned images,
healthchecks, secrets only from .env, and Grafana provisioned from deploy/."""

from __future__ import annotations

import copy
import json
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml
from minischema import Validator

from driftscope.dashboards import build as b
from driftscope.dashboards.query import DATASOURCE_UID, PLUGIN_ID, PLUGIN_VERSION
from driftscope.store.clickhouse import Store

ROOT = Path(__file__).parents[2]
SCHEMA = json.loads((Path(__file__).parent / "data" / "compose-spec.json").read_text())
OFFICIAL = {"apache/kafka", "clickhouse/clickhouse-server", "grafana/grafana", "python"}
PINNED = re.compile(r"^\d+(\.\d+){1,3}(-[a-z0-9.]+)?$")
_VAR = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def _env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return dict(ln.split("=", 1) for ln in lines if ln and not ln.startswith("#"))


def _interpolate(node: Any, env: dict[str, str]) -> Any:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR:?error} and $$."""
    if isinstance(node, dict):
        return {k: _interpolate(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, env) for v in node]
    if isinstance(node, str):
        def sub(m: re.Match[str]) -> str:
            name, op, arg = m.group(1), m.group(2), m.group(3)
            if env.get(name):
                return env[name]
            if op and op.endswith("?"):
                raise AssertionError(f"${{{name}}} required: {arg}")
            return arg if op and op.endswith("-") else ""
        return _VAR.sub(sub, node).replace("$$", "$")
    return node


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return doc


@pytest.fixture(scope="module")
def compose(raw: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = _interpolate(copy.deepcopy(raw), _env_example())
    return doc


def test_validates_against_the_compose_schema(raw: dict[str, Any],
                                              compose: dict[str, Any]) -> None:
    validator = Validator(SCHEMA)
    assert validator.errors(raw) == []
    assert validator.errors(compose) == []


def test_the_validator_rejects_what_compose_rejects(compose: dict[str, Any]) -> None:
    validator = Validator(SCHEMA)
    bad = copy.deepcopy(compose)
    bad["services"]["kafka"]["healthcheck"]["interval"] = "ten seconds"
    bad["services"]["grafana"]["restrat"] = "always"
    bad["services"]["collector"]["depends_on"]["kafka"]["condition"] = "service_ready"
    errors = " ".join(validator.errors(bad))
    assert "is not a duration" in errors and "'restrat'" in errors
    assert "collector.depends_on" in errors


def test_jsonschema_agrees_when_installed(raw: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema not installed")
    jsonschema.Draft7Validator(SCHEMA).validate(raw)


def _image(ref: str) -> tuple[str, str]:
    name, _, tag = ref.rpartition(":")
    return name, tag


def test_images_are_official_and_pinned(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        image, tag = _image(svc["image"])
        if "build" in svc:
            assert image == "driftscope" and tag == version("driftscope"), name
        else:
            assert image in OFFICIAL and PINNED.match(tag), f"{name}: {svc['image']}"
    base = re.search(r"^FROM (\S+)", (ROOT / "deploy/Dockerfile").read_text(), re.M)
    image, tag = _image(base.group(1))
    assert image in OFFICIAL and PINNED.match(tag.split("-")[0]), base.group(1)


def test_versions_match_the_sdk_and_plugin(compose: dict[str, Any]) -> None:
    grafana = compose["services"]["grafana"]
    sdk_grafana = version("grafana-foundation-sdk").split("!")[1]
    assert _image(grafana["image"])[1] == sdk_grafana
    assert grafana["environment"]["GF_INSTALL_PLUGINS"] == f"{PLUGIN_ID} {PLUGIN_VERSION}"


def test_healthchecks_and_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, svc in services.items():
        if svc.get("restart") != "no":
            assert "healthcheck" in svc, name
        for dep in svc.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown {dep}"
    for name in ("collector", "monitor", "alerts"):
        deps = services[name]["depends_on"]
        assert deps["kafka"]["condition"] == "service_healthy"
        assert deps["clickhouse"]["condition"] == "service_healthy"
        assert deps["migrate"]["condition"] == "service_completed_successfully"
    commands = {n: services[n]["command"][:2] for n in ("collector", "alerts")}
    assert services["monitor"]["command"][0] == "monitor"
    assert commands == {"collector": ["collect", "--metrics-port"],
                        "alerts": ["alerts", "run"]}
    assert services["simulator"]["profiles"] == ["demo"]


def test_secrets_come_from_env_only(raw: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    example = _env_example()
    used = {m.group(1) for m in _VAR.finditer(text)}
    assert used <= set(example), f"not in .env.example: {used - set(example)}"
    for name, svc in raw["services"].items():
        for key, value in (svc.get("environment") or {}).items():
            if re.search(r"PASSWORD|TOKEN|WEBHOOK|SECRET", key):
                assert str(value).startswith("${"), f"{name}.{key} is a literal"
    for key, value in example.items():
        if "PASSWORD" in key:
            assert value.startswith("change-me"), key
    assert not (ROOT / ".env").exists() or ".env" not in _tracked()


def _tracked() -> set[str]:
    import subprocess

    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    return set(out.stdout.split())


def test_services_configuration_watches_the_simulated_model(compose: dict[str, Any]) -> None:
    from driftscope.config import load_config

    cfg = load_config(ROOT / "deploy/driftscope/driftscope.yaml")
    sim = compose["services"]["simulator"]["command"]
    model = sim[sim.index("--model-id") + 1]
    assert [m.model for m in cfg.monitors] == [model] and cfg.model(model) is not None
    for name in ("collector", "monitor", "alerts", "simulator", "migrate"):
        assert "./deploy/driftscope/driftscope.yaml:/app/driftscope.yaml:ro" in compose[
            "services"][name]["volumes"]


def test_grafana_provisioning(compose: dict[str, Any]) -> None:
    prov = ROOT / "deploy/grafana/provisioning"
    ds = yaml.safe_load((prov / "datasources/clickhouse.yaml").read_text())["datasources"][0]
    assert ds["uid"] == DATASOURCE_UID and ds["type"] == PLUGIN_ID
    assert ds["secureJsonData"]["password"] == "$GRAFANA_CLICKHOUSE_PASSWORD"
    assert ds["jsonData"]["host"] == "clickhouse" and "clickhouse" in compose["services"]
    provider = yaml.safe_load((prov / "dashboards/driftscope.yaml").read_text())["providers"][0]
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in mounts
    shipped = ROOT / "deploy/grafana/dashboards"
    for key, spec in b.DASHBOARDS.items():
        assert (shipped / f"{spec.uid}.json").read_text() == b.encode(b.builder(key).build()), (
            "deploy/grafana/dashboards is stale: driftscope dashboards export "
            "deploy/grafana/dashboards"
        )


def test_one_outbox_dispatcher_and_healthchecks_that_mean_a_pass_succeeded(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert "--no-deliver" in services["monitor"]["command"]
    assert services["alerts"]["command"][:3] == ["alerts", "run", "--follow"]
    for name in ("monitor", "alerts"):
        test = services[name]["healthcheck"]["test"]
        assert test[:4] == ["CMD", "driftscope", "health", name], test
    sim = services["simulator"]["command"]
    assert sim[sim.index("--start") + 1] == "ending-now"


def test_channel_switches_reach_the_monitor_and_urls_only_the_sender(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name in ("monitor", "alerts"):
        env = services[name]["environment"]
        assert "DRIFTSCOPE_ALERTS__SLACK" in env and "DRIFTSCOPE_ALERTS__WEBHOOK" in env, name
    assert "DRIFTSCOPE_SLACK_WEBHOOK_URL" in services["alerts"]["environment"]
    for name in ("monitor", "collector", "simulator"):
        assert "DRIFTSCOPE_SLACK_WEBHOOK_URL" not in services[name]["environment"], name


def test_docs_say_what_happens_to_edits_in_grafana() -> None:
    """Grafana refuses to save a provisioned dashboard unless the provider allows UI
    updates: the compose guide must not promise an edit that cannot be saved."""
    prov = ROOT / "deploy/grafana/provisioning/dashboards/driftscope.yaml"
    provider = yaml.safe_load(prov.read_text())["providers"][0]
    doc = " ".join((ROOT / "docs/docker-compose.md").read_text().split())
    assert provider["allowUiUpdates"] is False
    assert "to edit." not in doc
    assert "cannot be saved" in doc and "Save as" in doc and "allowUiUpdates: false" in doc
    assert "--datasource-uid" in " ".join((ROOT / "docs/dashboards.md").read_text().split())


def test_every_driftscope_service_command_is_one_the_cli_accepts(
    compose: dict[str, Any]
) -> None:
    """Each service's command and options, as compose runs them (a flag the CLI does not
    know fails only at `docker compose up`, which nothing here runs)."""
    from typer.testing import CliRunner

    from driftscope.cli import app

    for name, svc in compose["services"].items():
        if svc.get("image", "").startswith("driftscope") or "build" in svc:
            command = svc.get("command", [])
            out = CliRunner().invoke(app, [*command, "--help"])
            assert out.exit_code == 0, (name, command, out.output)


def test_kafka_keeps_its_log_in_its_volume(compose: dict[str, Any]) -> None:
    """apache/kafka writes to /tmp/kraft-combined-logs unless told: a `down` and `up`
    lost every topic and the events the collector had not stored yet."""
    kafka = compose["services"]["kafka"]
    mounted = {v.split(":")[1] for v in kafka["volumes"] if v.startswith("kafka-data:")}
    assert kafka["environment"]["KAFKA_LOG_DIRS"] in mounted
    assert kafka["environment"]["CLUSTER_ID"]  # formatted into the volume: fixed


@pytest.mark.parametrize("password", ["plain", "it's", "back\\slash'; DROP USER x; --"])
def test_grafanas_password_reaches_clickhouse_as_written(
    tmp_path: Path, store: Store, password: str
) -> None:
    """deploy/clickhouse/initdb's script, run with `clickhouse` standing in to keep what it
    is sent: the password's SQL literal, read by ClickHouse (chDB), is the password (a
    quote in it ended the literal: the first start failed and Grafana had no account)."""
    import os
    import subprocess

    fake = tmp_path / "clickhouse"
    fake.write_text(f"#!/bin/bash\ncat > {tmp_path / 'sent.sql'}\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "CLICKHOUSE_USER": "u",
           "CLICKHOUSE_PASSWORD": "p", "GRAFANA_CLICKHOUSE_PASSWORD": password}
    subprocess.run(["bash", str(ROOT / "deploy/clickhouse/initdb/01-grafana-reader.sh")],
                   env=env, check=True, timeout=30)
    sent = (tmp_path / "sent.sql").read_text()
    literal = re.search(r"sha256_password BY ('.*')\n  SETTINGS", sent, re.S)
    assert literal, sent
    assert store.query(f"SELECT {literal.group(1)}") == [(password,)]
