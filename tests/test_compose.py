"""docker-compose.yml cannot be run here (no Docker engine), so check what can be checked:
it parses, every dependency exists with a valid condition, and the commands it runs are
real `factvault` commands."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.main import get_command

from app.cli import app

REPO = Path(__file__).resolve().parents[1]


def test_compose_file_is_consistent() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "qdrant", "migrate", "factvault"} <= set(services)
    cli = get_command(app)
    for name, svc in services.items():
        for dep, spec in (svc.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            assert spec["condition"] in {
                "service_started",
                "service_healthy",
                "service_completed_successfully",
            }
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], f"{dep} has no healthcheck"
        if "build" in svc:
            assert (REPO / svc["build"] / "Dockerfile").is_file()
            assert svc["command"][0] in cli.commands, svc["command"]
            env = svc["environment"]
            assert all(key.startswith("FACTVAULT_") for key in env)
            assert env["FACTVAULT_DATABASE_URL"].startswith("postgresql+psycopg://")
    for volume in ("pgdata", "qdrant", "factvault-data"):
        assert volume in compose["volumes"]
