"""The Dockerfile, without a Docker engine: hadolint, then the properties the issue asks for,
read from the file itself (stages, user, healthcheck, command). Its HEALTHCHECK command is run
for real in test_commands.py."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field

from tests.deploy import helpers


@dataclass
class Stage:
    name: str
    image: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def stages() -> dict[str, Stage]:
    """The Dockerfile's stages by name, each with its instructions (continuations joined)."""
    text = re.sub(r"\\\n", " ", helpers.DOCKERFILE.read_text())
    found: dict[str, Stage] = {}
    current: Stage | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), " ".join(args.split())
        if keyword == "FROM":
            image, _, name = args.partition(" AS ")
            current = found.setdefault(name, Stage(name, image))
        else:
            assert current is not None, f"{keyword} before FROM"
            current.instructions.append((keyword, args))
    return found


def final_stage() -> Stage:
    return list(stages().values())[-1]


def test_hadolint_passes() -> None:
    result = subprocess.run(
        [helpers.tool("hadolint"), "--no-color", str(helpers.DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_stages_build_the_ui_then_a_slim_runtime() -> None:
    built = stages()
    assert list(built) == ["ui", "build", "edge", "runtime"]
    assert re.fullmatch(r"node:(22|24)-[\w.-]+", built["ui"].image)  # an LTS: Node 20's life ended 2026-04-30
    assert "npm ci --no-audit --no-fund" in built["ui"].all("RUN")
    assert "npm run build" in built["ui"].all("RUN")
    assert re.fullmatch(r"python:3\.11[\w.-]*-slim[\w.-]*", built["runtime"].image)
    assert built["build"].image == built["runtime"].image  # the venv's python links stay valid
    assert "nginx.conf /etc/nginx/nginx.conf" in built["edge"].all("COPY")
    assert any(c.startswith("--from=ui ") and "/assets/" in c for c in built["edge"].all("COPY"))


def test_edge_nginx_understands_nginx_conf() -> None:
    """`server … resolve` (replicas followed through Docker's DNS) is nginx 1.27.3 or later."""
    assert " resolve;" in helpers.NGINX_CONF.read_text()
    version = re.fullmatch(r"nginx:(\d+)\.(\d+)(?:\.(\d+))?-alpine", stages()["edge"].image)
    assert version, stages()["edge"].image
    major, minor, patch = (int(part or 99) for part in version.groups())
    assert (major, minor, patch) >= (1, 27, 3)


def test_runtime_has_no_build_tools_and_is_not_root() -> None:
    runtime = final_stage()
    assert runtime.name == "runtime"  # the default target is the runtime
    for command in runtime.all("RUN"):  # nothing is installed here: it is all copied in
        assert not re.search(r"\b(apt-get|apk|pip|npm|gcc|make)\b", command), command
    copied = runtime.all("COPY")
    assert any(c.startswith("--from=build /opt/leadcap ") for c in copied)
    assert any(c.startswith("--from=ui ") for c in copied)
    users = runtime.all("USER")
    assert users, "runtime stage has no USER"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_runtime_serves_by_default_and_checks_its_health() -> None:
    runtime = final_stage()
    assert [json.loads(c) for c in runtime.all("CMD")] == [["leadcap", "serve"]]
    healthchecks = runtime.all("HEALTHCHECK")
    assert len(healthchecks) == 1
    assert "leadcap health" in healthchecks[0]
    env = " ".join(runtime.all("ENV"))
    assert "LEADCAP_ENV=production" in env  # never an embedded store in a container
    assert "LEADCAP_UI_DIST=/opt/leadcap/ui" in env


def test_dockerignore_keeps_local_state_and_secrets_out() -> None:
    ignored = set((helpers.ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".env", ".env.*", "web/ui/node_modules", "web/ui/dist", ".leadcap"} <= ignored


def healthcheck_argv() -> list[str]:
    """The runtime HEALTHCHECK's CMD as an argv (used by test_commands.py)."""
    (line,) = final_stage().all("HEALTHCHECK")
    argv: list[str] = json.loads(line.split(" CMD ", 1)[1])
    return argv
