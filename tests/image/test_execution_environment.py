"""The execution environment holds the image to Lambda's rules (so a pass of the image test
means something): read-only outside /tmp, Lambda's user, the memory cgroup, /tmp's size."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from functions.scan_worker.image.buildah import mounted_image
from tests.image.execution_environment import LAMBDA_GROUP, LAMBDA_USER, ExecutionEnvironment, image_config

PROBE = """
id -u; id -g
echo x > /var/task/probe || echo task-root-refused
echo x > /opt/probe || echo opt-refused
echo x > /tmp/probe && echo tmp-written
df -m /tmp | tail -1
grep memory /proc/self/cgroup || cat /proc/self/cgroup
"""


def run_in_environment(image: str, script: str, tmp_path: Path) -> str:
    config = replace(image_config(image), entrypoint=["/bin/sh", "-c", script], command=[])
    log_path = tmp_path / "probe.log"
    with mounted_image(image) as root, log_path.open("wb") as log:
        environment = ExecutionEnvironment(root, config, variables={}, memory_mb=3538, tmp_mb=512, log=log)
        try:
            deadline = time.monotonic() + 60
            while environment.alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert environment.exit_code == 0, log_path.read_text()
            cgroup = environment.cgroup.path.name
        finally:
            environment.stop()
    return log_path.read_text() + f"\ncgroup={cgroup}"


def test_only_tmp_is_writable_for_lambdas_user_inside_the_memory_cgroup(image: str, tmp_path: Path) -> None:
    # When a shell in the environment tries to write everywhere
    output = run_in_environment(image, PROBE, tmp_path)
    lines = output.splitlines()
    # Then it ran as Lambda's user and group
    assert lines[:2] == [str(LAMBDA_USER), str(LAMBDA_GROUP)]
    # And the task root and the rest of the image refused with a read-only file system
    assert "task-root-refused" in lines
    assert "opt-refused" in lines
    assert output.count("Read-only file system") == 2
    # And /tmp took the write, with the size the environment was given
    assert "tmp-written" in lines
    assert any(line.startswith("tmpfs") and line.split()[1] == "512" for line in lines)
    # And the process was in the environment's memory cgroup
    cgroup = output.rsplit("cgroup=", 1)[1]
    assert any(line.endswith(cgroup) for line in lines if "memory" in line or line.startswith("0::"))
