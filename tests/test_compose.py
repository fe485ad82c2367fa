"""docker-compose.yml against the official Compose Specification schema, plus the project's own stack rules.

There is no Docker engine in CI, so this checks the file's shape and our rules, not that the stack runs.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = Path(__file__).with_name("data") / "compose-spec.json"
RESERVED = {1883, 5432, 6379, 5672, 4222, 3306}
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?msg}, ${NAME?msg}, ${NAME:+x}; "$$" is a literal dollar.
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)((?::?[-?+])[^}]*)?\}")
BARE = re.compile(r"(?<!\$)\$([A-Za-z_][A-Za-z0-9_]*)")
REQUIRED_SERVICES = {"db", "redis", "migrate", "lms", "worker", "simulator", "jupyterhub"}


@pytest.fixture(scope="module")
def text() -> str:
    return COMPOSE.read_text()


@pytest.fixture(scope="module")
def compose(text) -> dict:
    return yaml.safe_load(text)


def _schema_errors(document: dict) -> list[str]:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft201909Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def _interpolate(value: str) -> str:
    """Resolve like `docker compose config` with an environment that sets no variable (defaults only)."""
    def repl(match: re.Match) -> str:
        op = match.group(2) or ""
        return op.lstrip(":")[1:] if op.lstrip(":").startswith("-") else "X"
    return INTERPOLATION.sub(repl, value)


def _host_ports(service: dict) -> list[int]:
    ports = []
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            published = entry.get("published")
            if published is not None:
                ports.append(int(_interpolate(str(published))))
            continue
        parts = _interpolate(str(entry)).split("/")[0].split(":")
        if len(parts) >= 2:  # [ip:]host:container
            ports.append(int(parts[-2].split("-")[0]))
        else:
            pytest.fail(f"port {entry!r} publishes a random host port; give it an explicit one")
    return ports


def test_schema_is_the_vendored_official_one():
    schema = json.loads(SCHEMA.read_text())
    assert schema["title"] == "Compose Specification"
    assert "service" in schema["definitions"] and "healthcheck" in schema["definitions"]


def test_compose_file_is_valid_against_the_compose_specification(compose):
    assert _schema_errors(compose) == []


def test_schema_check_can_fail(compose):
    broken = json.loads(json.dumps(compose))
    broken["services"]["lms"]["healthcheck"]["intervall"] = "5s"
    broken["services"]["db"]["depends_on"] = {"redis": {"condition": "when_ready"}}
    errors = _schema_errors(broken)
    assert any("intervall" in e for e in errors) and any("db/depends_on" in e for e in errors)


def test_every_component_is_a_service(compose):
    assert REQUIRED_SERVICES <= set(compose["services"])
    commands = {name: " ".join(s.get("command") or []) for name, s in compose["services"].items()}
    assert "grading worker" in commands["worker"]
    assert "virtual_lab serve" in commands["simulator"]
    assert "virtual_lab.hub" in commands["jupyterhub"]
    assert compose["services"]["jupyterhub"]["environment"]["NIA_HUB_SPAWNER"] == "docker"


def test_every_service_has_a_healthcheck_or_is_a_one_shot_job(compose):
    services = compose["services"]
    completed = {dep for s in services.values() for dep, cond in (s.get("depends_on") or {}).items()
                 if cond.get("condition") == "service_completed_successfully"}
    for name, service in services.items():
        check = service.get("healthcheck") or {}
        if service.get("profiles") == ["build"]:  # an image to build (the learners'), never started by `up`
            assert service.get("build") and service.get("image"), f"{name}: build-only service without build/image"
        elif check.get("disable"):
            # the only acceptable reason: a job that exits, which others wait for by its exit code
            assert name in completed and "restart" not in service, f"{name}: healthcheck disabled without reason"
        else:
            assert check.get("test"), f"{name} has no healthcheck"


def test_depends_on_targets_exist_and_health_conditions_have_healthchecks(compose):
    services = compose["services"]
    for name, service in services.items():
        for dep, cond in (service.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            if cond["condition"] == "service_healthy":
                assert services[dep].get("healthcheck", {}).get("test"), f"{dep} has no healthcheck"


def test_no_host_port_collides_with_standard_services(compose):
    published = {name: _host_ports(s) for name, s in compose["services"].items()}
    assert published["lms"] == [8470] and published["jupyterhub"] == [8471]
    for name, ports in published.items():
        assert not set(ports) & RESERVED, f"{name} publishes a standard service port: {ports}"
    for bad in ("1883:1883", "127.0.0.1:6379:6379", "5432"):
        with pytest.raises(AssertionError):
            ports = _host_ports({"ports": [bad]}) if ":" in bad else [int(bad)]
            assert not set(ports) & RESERVED


def test_every_variable_without_default_is_required_with_a_message(text):
    for line_no, line in enumerate(text.splitlines(), 1):
        code = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
        assert not BARE.search(code), f"line {line_no}: use ${{VAR:?message}} instead of bare $VAR: {line}"
        for match in INTERPOLATION.finditer(code):
            op = match.group(2) or ""
            assert op.startswith((":-", ":?")), f"line {line_no}: ${{{match.group(1)}}} needs :- or :?: {line}"
            if op.startswith(":?"):
                assert len(op) > 5, f"line {line_no}: {match.group(1)} needs a helpful message"
    assert INTERPOLATION.search("${A}") and not INTERPOLATION.search("$${A}")


def test_secrets_are_never_written_in_the_file(compose):
    secret_names = re.compile(r"(SECRET|PASSWORD|TOKEN|KEY)", re.I)
    for name, service in compose["services"].items():
        env = service.get("environment") or {}
        for key, value in env.items():
            if secret_names.search(key) and key != "NIA_PROXY_FIX_X_FOR":
                assert "${" in str(value) and ":?" in str(value), f"{name}.{key} must come from the environment"


def test_worker_can_build_its_sandbox_without_privileges(compose):
    worker = compose["services"]["worker"]
    assert not worker.get("privileged") and not worker.get("cap_add")
    assert {"seccomp=unconfined", "apparmor=unconfined"} <= set(worker["security_opt"])


def test_hub_spawns_containers_on_the_stack_network(compose):
    hub = compose["services"]["jupyterhub"]
    assert "/var/run/docker.sock:/var/run/docker.sock" in hub["volumes"]
    assert compose["networks"]["default"]["name"] == hub["environment"]["NIA_HUB_DOCKER_NETWORK"]
    assert "dockerspawner==" in (ROOT / "Dockerfile").read_text()


def test_named_volumes_are_declared(compose):
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        for entry in service.get("volumes", []):
            source = entry.split(":", 1)[0]
            if not source.startswith(("/", ".", "$")):
                assert source in declared, f"{name} uses undeclared volume {source}"


def test_hub_starts_the_learner_image_built_here(compose):
    """DockerSpawner only starts an image: the one with virtual_lab and the MQTT libraries must be built by us."""
    services = compose["services"]
    learner = services["learner-image"]
    assert learner["build"]["dockerfile"] == "docker/learner.Dockerfile"
    assert (ROOT / learner["build"]["dockerfile"]).is_file()
    assert services["jupyterhub"]["environment"]["NIA_HUB_DOCKER_IMAGE"].endswith(f":-{learner['image']}}}")
