"""`leadcap serve` on its embedded default, as a person on a fresh machine runs it."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import httpx

from leadcap.ops import embedded
from tests import factories, servers
from tests.servers import Process


def start_embedded(folder: Path) -> tuple[Process, str, dict[str, str]]:
    folder.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADCAP_")}
    env.update({"LEADCAP_DATA_DIR": str(folder / "data"), "PYTHONUNBUFFERED": "1"})
    return start_embedded_in(folder, env)


def start_embedded_in(folder: Path, env: dict[str, str]) -> tuple[Process, str, dict[str, str]]:
    """`leadcap serve` with `env` on a free port, once its health counts a worker."""
    port = embedded.free_port()
    env = {**env, "LEADCAP_PORT": str(port)}
    process = Process(("serve",), env, folder / "serve.log").start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.popen and process.popen.poll() is None, process.output()
        try:
            if httpx.get(url + "/api/health/", timeout=2).json()["checks"]["workers"]["count"] >= 1:
                return process, url, env
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)
    process.stop()
    raise AssertionError("embedded serve did not become healthy:\n" + process.output())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_two_embedded_instances_side_by_side_and_clean_stop(tmp_path: Path) -> None:
    a, url_a, env_a = start_embedded(tmp_path / "a")
    b, url_b, env_b = start_embedded(tmp_path / "b")
    try:
        number = factories.mobile()
        response = httpx.post(url_a + "/api/leads/", json={"phone": factories.persian(number)})
        assert response.status_code == 202 and response.json()["phone"] == factories.e164(number)
        assert httpx.post(url_b + "/api/leads/", json={"phone": number}).status_code == 202

        # Other commands find the running stores through the data folder.
        def exported() -> bool:
            done = servers.leadcap("export-leads", "--format", "jsonl", env=env_a)
            assert done.returncode == 0, done.stderr
            return factories.e164(number) in done.stdout

        servers.wait_until(exported, "the lead never reached export-leads", timeout=20, every=0.3)
        health = servers.leadcap("health", "--json", env=env_b)
        assert health.returncode == 0, health.stdout + health.stderr
        urls_a = json.loads((tmp_path / "a" / "data" / "stores.json").read_text())["urls"]
        urls_b = json.loads((tmp_path / "b" / "data" / "stores.json").read_text())["urls"]
        assert set(urls_a.values()).isdisjoint(urls_b.values())
    finally:
        pids = [
            int(line.split()[-1]) for line in a.output().splitlines() if line.strip().startswith("worker")
        ]
        assert a.stop(signal.SIGTERM) == 0, a.output()
        assert b.stop(signal.SIGINT) == 0, b.output()
    assert not (tmp_path / "a" / "data" / "stores.json").exists()
    assert pids and not any(alive(pid) for pid in pids)
    log = (tmp_path / "a" / "data" / "postgres.log").read_text()
    assert "database system is shut down" in log
    passwords = json.loads((tmp_path / "a" / "data" / "passwords.json").read_text())
    assert passwords and not any(password in a.output() for password in passwords.values())


def test_a_taken_port_is_one_line_before_any_store_starts(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADCAP_")}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env.update({"LEADCAP_DATA_DIR": str(tmp_path / "data"), "LEADCAP_PORT": str(port)})
        result = servers.leadcap("serve", env=env)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [f"error: port {port} on 127.0.0.1 is already in use"]
    assert not (tmp_path / "data").exists()  # no store was started


def test_a_port_that_is_no_port_is_a_usage_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADCAP_")}
    env["LEADCAP_DATA_DIR"] = str(tmp_path / "data")
    result = servers.leadcap("serve", "--port", "99999", env=env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == ["error: --port 99999 is not a port number (0-65535)"]
    assert not (tmp_path / "data").exists()


def test_a_second_serve_on_one_data_folder_is_refused_naming_the_first(tmp_path: Path) -> None:
    """It would share the first one's stores and answer 503 for ever once the first stopped."""
    first, url, env = start_embedded(tmp_path / "a")
    assert first.popen is not None
    try:
        second = servers.leadcap("serve", env={**env, "LEADCAP_PORT": str(embedded.free_port())}, timeout=30)
        assert second.returncode == 1, second.stdout + second.stderr
        folder = (tmp_path / "a" / "data").resolve()
        assert second.stderr.splitlines() == [
            f"error: another `leadcap serve` (pid {first.popen.pid}) already runs on {folder}; stop it,"
            " or give this one its own LEADCAP_DATA_DIR"
        ]
        assert httpx.get(url + "/api/health/", timeout=5).json()["status"] == "ok"  # the first runs on
    finally:
        assert first.stop() == 0, first.output()
    # Once the first is gone, the folder serves again.
    again, url, _ = start_embedded_in(tmp_path / "a", env)
    assert again.stop() == 0, again.output()


def test_two_serves_started_at_once_on_one_folder_leave_one_running(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADCAP_")}
    env.update({"LEADCAP_DATA_DIR": str(folder), "PYTHONUNBUFFERED": "1"})
    both = [
        Process(("serve",), {**env, "LEADCAP_PORT": str(embedded.free_port())}, tmp_path / f"{n}.log").start()
        for n in (1, 2)
    ]
    try:
        servers.wait_until(
            lambda: any(p.popen and p.popen.poll() is not None for p in both),
            "neither serve stopped",
            timeout=60,
            every=0.1,
        )
        loser, winner = both if both[0].popen and both[0].popen.poll() is not None else both[::-1]
        assert loser.popen and winner.popen and loser.popen.returncode == 1, loser.output()
        assert f"(pid {winner.popen.pid}) already runs on {folder.resolve()}" in loser.output()
        assert winner.popen.poll() is None, winner.output()
    finally:
        for process in both:
            process.stop()
