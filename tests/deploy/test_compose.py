"""docker-compose.yml cannot be run here (no Docker engine), so check what can be checked:
it parses; every long-running service has a healthcheck and every dependency a valid
condition on a service that can satisfy it; the Qdrant nodes form one cluster; the API
replicas are configured only through FACTVAULT_ variables that Settings knows, point at
services that exist, and are what nginx balances over; the inference tier is llama.cpp
servers of one bundled GGUF, registered as the pool the APIs answer with; the commands
are real commands and flags."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import yaml
from typer.main import get_command

from app.cli import app
from app.core.config import Settings, get_settings
from tests.fixtures import REPO

CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def load() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_every_service_is_healthchecked_and_waits_for_healthy_dependencies() -> None:
    services = load()["services"]
    for name, svc in services.items():
        one_shot = svc.get("restart") == "no"
        assert one_shot or "healthcheck" in svc, f"{name} has no healthcheck"
        for dep, spec in (svc.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            assert spec["condition"] in CONDITIONS
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], f"{dep} has no healthcheck"
            if spec["condition"] == "service_completed_successfully":
                assert services[dep].get("restart") == "no", f"{dep} is not a one-shot"


def test_qdrant_is_a_three_node_cluster_with_replicated_shards() -> None:
    services = load()["services"]
    nodes = {n: s for n, s in services.items() if s.get("image", "").startswith("qdrant/")}
    assert len(nodes) == 3
    assert all(s["environment"]["QDRANT__CLUSTER__ENABLED"] == "true" for s in nodes.values())
    bootstrap = [n for n, s in nodes.items() if "--bootstrap" not in s["command"]]
    assert len(bootstrap) == 1  # one node starts the cluster, the others join it
    for name, svc in nodes.items():
        cmd = svc["command"]
        assert cmd[cmd.index("--uri") + 1] == f"http://{name}:6335"
        if name not in bootstrap:
            assert cmd[cmd.index("--bootstrap") + 1] == f"http://{bootstrap[0]}:6335"
    env = services["api-1"]["environment"]
    replication = int(env["FACTVAULT_QDRANT_REPLICATION_FACTOR"])
    assert int(env["FACTVAULT_QDRANT_SHARD_NUMBER"]) >= len(nodes) and 2 <= replication <= 3
    assert int(env["FACTVAULT_QDRANT_WRITE_CONSISTENCY_FACTOR"]) <= replication


def test_apps_are_configured_through_settings_only() -> None:
    compose = load()
    services = compose["services"]
    cli = get_command(app)
    # factvault commands (the image's entrypoint); the inference servers and the pool's
    # registration run other entrypoints and are checked below.
    apps = {n: s for n, s in services.items() if "build" in s and "entrypoint" not in s}
    assert {"migrate", "models", "api-1", "api-2"} <= set(apps)
    for name, svc in apps.items():
        assert (REPO / svc["build"] / "Dockerfile").is_file()
        assert svc["command"][0] in cli.commands, svc["command"]
        # factvault's settings, and OpenTelemetry's standard variables (app/core/tracing.py).
        otel = {k: v for k, v in svc["environment"].items() if k.startswith("OTEL_")}
        assert set(otel) <= {"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME"}, name
        env = {k: v for k, v in svc["environment"].items() if k not in otel}
        assert all(k.startswith("FACTVAULT_") for k in env), name
        # Every variable is a real setting, with a value Settings accepts.
        fields = {f"FACTVAULT_{f.upper()}" for f in Settings.model_fields}
        assert set(env) <= fields, set(env) - fields
        overrides = {k.removeprefix("FACTVAULT_").lower(): v for k, v in env.items()}
        overrides["database_url"] = re.sub(r"\$\{[^}]*\}", "pw", overrides["database_url"])
        settings = get_settings(**overrides)
        assert urlparse(settings.database_url).hostname in services
        assert urlparse(settings.qdrant_url).hostname in services
        if svc["command"][0] == "serve":
            assert settings.port == 8000 and settings.host == "0.0.0.0"
            assert "8000/readyz" in " ".join(svc["healthcheck"]["test"])
            assert svc["volumes"][0].endswith(":" + str(settings.data_dir))
    for volume in ("pgdata", "qdrant-1", "api-1-data"):
        assert volume in compose["volumes"]


def test_nginx_balances_over_the_api_replicas() -> None:
    services = load()["services"]
    conf = (REPO / "deploy" / "nginx.conf").read_text()
    upstream = set(re.findall(r"server ([\w-]+):8000", conf))
    serving = {n for n, s in services.items() if s.get("command", [""])[0] == "serve"}
    assert upstream == serving and len(serving) >= 2
    nginx = services["nginx"]
    assert set(nginx["depends_on"]) == serving
    assert any(v.startswith("./deploy/nginx.conf:") for v in nginx["volumes"])
    assert "proxy_buffering off" in conf  # answers stream (SSE)


def test_the_inference_tier_is_a_pool_of_llama_cpp_servers_the_apis_use() -> None:
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    from app.models.bundled import QWEN_15B

    services = load()["services"]
    servers = {n: s for n, s in services.items() if s.get("entrypoint", [""])[-1:] == [
        "llama_cpp.server"
    ]}  # fmt: skip
    assert len(servers) >= 2
    flags = {f"--{f}" for f in (*ModelSettings.model_fields, *ServerSettings.model_fields)}
    models = set()
    for svc in servers.values():
        cmd = svc["command"]
        assert {c for c in cmd if c.startswith("--")} <= flags, cmd
        args = dict(zip(cmd[::2], cmd[1::2], strict=True))
        assert args["--port"] == "8000" and args["--interrupt_requests"] == "False"
        models.add(args["--model"])
        assert any(v.startswith("models:/models") for v in svc["volumes"])
        assert "8000/v1/models" in " ".join(svc["healthcheck"]["test"])
    assert models == {f"/models/{QWEN_15B.filename}"}  # one GGUF: what `models list` writes
    # The pool is registered with exactly these servers (fingerprint from that GGUF) and
    # activated; the APIs start after it, and so after every server is healthy.
    register = services["register-pool"]
    script = register["command"][0]
    endpoints = set(re.findall(r"--endpoint ([^\s;]+)", script))
    assert endpoints == {f"http://{n}:8000" for n in servers}
    assert f"models add /models/{QWEN_15B.filename}" in script
    cli = get_command(app)
    for command in re.findall(r"factvault (\w+) (\w+)", script):
        group = cli.commands[command[0]]
        assert command[1] in group.commands, command  # type: ignore[attr-defined]
    assert register["restart"] == "no"
    assert all(register["depends_on"][n]["condition"] == "service_healthy" for n in servers)
    for api in ("api-1", "api-2"):
        assert services[api]["depends_on"]["register-pool"]["condition"] == (
            "service_completed_successfully"
        )
        assert any(v.startswith("models:/models") for v in services[api]["volumes"])
