"""`scout dev` end to end: real HTTP, real (local) queues, the schedule, tokens, clean shutdown."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from tests.support.local_stack import (
    copy_fixture,
    copy_real_project,
    eventually,
    free_port,
    http,
    running_dev,
    scout,
    worker_pids,
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_fixture(tmp_path)


def test_route_queue_consumer_dead_letters_schedule_and_token_work_together(project: Path) -> None:
    with running_dev(project, "--env-vars", "env-vars.json", "--fire-schedules", "--no-database") as dev:
        # Given the stack is up, every function warm
        assert "Function   WorkConsumerFunction: warm" in dev.output
        assert worker_pids(str(project))
        # When a route is called over real HTTP
        status, body = http("GET", f"{dev.url}/echo/ada?x=1")
        # Then the function saw API Gateway's event
        assert status == 200
        assert body["event"]["pathParameters"] == {"name": "ada"}
        # When a message goes through the route onto the work queue
        assert http("POST", f"{dev.url}/messages", {"id": "m-1", "body": "hello"})[0] == 202
        # Then the consumer function processes it
        eventually(lambda: http("GET", f"{dev.url}/results/done/m-1")[0] == 200, 30)
        assert http("GET", f"{dev.url}/results/done/m-1") == (200, {"id": "m-1", "body": "hello"})
        # When a poison message is sent, it is retried until maxReceiveCount (2), then dead-lettered
        assert http("POST", f"{dev.url}/messages", {"id": "p-1", "body": "poison"})[0] == 202
        eventually(
            lambda: {"id": "p-1", "body": "poison"} in http("GET", f"{dev.url}/dead-letters")[1]["items"], 30
        )
        assert http("GET", f"{dev.url}/results/attempts/p-1")[1] == {"receives": 2}
        # And the schedule fired at start (--fire-schedules)
        assert eventually(lambda: http("GET", f"{dev.url}/results/tick")[0] == 200, 10)
        # And a token from `scout token` passes the admin route (the same dev secret)
        minted = scout("token", "--strategy", "admin", "--sub", "ada", cwd=project)
        assert minted.returncode == 0, minted.stderr
        bearer = {"Authorization": f"Bearer {minted.stdout.strip()}"}
        assert http("GET", f"{dev.url}/whoami", headers=bearer) == (200, {"sub": "ada", "strategy": "admin"})
        assert http("GET", f"{dev.url}/whoami")[0] == 401
        # When Ctrl-C is pressed
        code = dev.interrupt()
        # Then it stops cleanly and leaves no process behind
        assert code == 0
        assert "scout dev: stopped" in dev.output
        assert "Traceback" not in dev.output
        assert worker_pids(str(project)) == []


def test_the_real_template_starts_with_no_configuration(tmp_path: Path) -> None:
    # Given a fresh checkout's template and no settings at all
    project = copy_real_project(tmp_path)
    with running_dev(project) as dev:
        # Then /health answers and the banner says how to get a token
        response = httpx.get(f"http://localhost:{dev.port}/health", timeout=30)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        assert "scout token --strategy" in dev.output
        assert (project / ".scout" / "dev-secrets.json").exists()
        assert dev.interrupt() == 0
    assert worker_pids(str(project)) == []


def test_a_port_in_use_is_reported_without_starting_anything(project: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = scout("dev", "--port", str(port), "--no-database", cwd=project, timeout=60)
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / ".scout").exists()
    assert worker_pids(str(project)) == []


def test_a_template_error_is_reported_by_resource_before_anything_starts(project: Path) -> None:
    template = project / "template.yaml"
    template.write_text(template.read_text().replace("CodeUri: functions/tick", "CodeUri: functions/tock"))
    result = scout("dev", "--port", str(free_port()), cwd=project, timeout=60)
    assert result.returncode == 2
    assert "TickFunction: code folder functions/tock (CodeUri) does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / ".scout").exists()


def test_the_dev_stack_serves_swagger_ui_at_docs(tmp_path: Path) -> None:
    # Given the real template running under `scout dev`
    project = copy_real_project(tmp_path)
    with running_dev(project) as dev:
        # When a browser asks for /docs
        response = httpx.get(f"http://localhost:{dev.port}/docs", timeout=60)
        # Then Swagger UI answers, over the document /openapi.json serves
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "SwaggerUIBundle(swaggerUIOptions)" in response.text
        served = httpx.get(f"http://localhost:{dev.port}/openapi.json", timeout=30).json()
        assert f'"title": "{served["info"]["title"]}"' in response.text
        assert dev.interrupt() == 0
