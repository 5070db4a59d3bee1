"""Session fixtures of the image checks (nox -s images): the Docker engine, the stand-in base
images, every stage of the Dockerfile built, and docker-compose.yml's leadcap services run from
what was built against the suite's stores. The build times and sizes are printed at the end and
kept in test-output/images.json."""

from __future__ import annotations

import json
import re
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests import servers
from tests.deploy import helpers
from tests.deploy.conftest import drop_database_and_roles
from tests.images import engine, standins
from tests.images.engine import docker
from tests.images.relay import Relays
from tests.images.stack import BACKEND_GATEWAY, Stack, edge_conf, override
from tests.servers import Stores

REPORT: dict[str, Any] = {}
MB = 1_000_000


@dataclass
class Built:
    """The Dockerfile's stages, built: each stage's tag, wall time and size."""

    tags: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)


def stage_names() -> list[str]:
    return re.findall(
        r"^FROM\s+\S+\s+AS\s+(\S+)", helpers.DOCKERFILE.read_text(), re.MULTILINE | re.IGNORECASE
    )


@pytest.fixture(scope="session")
def engine_running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with engine.running(tmp_path_factory.mktemp("engine") / "dockerd.log") as how:
        REPORT["engine"] = how
        yield how


@pytest.fixture(scope="session")
def made(engine_running: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, standins.Made]:
    started = time.monotonic()
    made = standins.make_all(helpers.DOCKERFILE, tmp_path_factory.mktemp("standins"))
    REPORT["standins_s"] = round(time.monotonic() - started, 1)
    REPORT["standins"] = {
        m.tag: {"how": m.how, "s": round(m.seconds, 1), "mb": round(m.size / MB)} for m in made.values()
    }
    return made


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    return helpers.compose_config()


@pytest.fixture(scope="session")
def built(made: dict[str, standins.Made], compose: dict[str, Any]) -> Built:
    """Every stage in order, each tagged leadcap-images/<stage>, and under compose's image name
    where a service builds that target. The legacy builder builds the stages before a target
    too: from its layer cache, so each build's time is about that stage's own."""
    builds = [service for service in compose["services"].values() if "build" in service]
    images: dict[str, list[str]] = {}
    for service in builds:
        images.setdefault(service["build"].get("target", stage_names()[-1]), []).append(service["image"])
    (context,) = {service["build"]["context"] for service in builds}
    (dockerfile,) = {service["build"].get("dockerfile", "Dockerfile") for service in builds}
    assert Path(context, dockerfile) == helpers.DOCKERFILE
    result = Built()
    for stage in stage_names():
        tags = [f"leadcap-images/{stage}:test", *images.get(stage, [])]
        started = time.monotonic()
        names = (part for tag in tags for part in ("-t", tag))
        docker("build", "--quiet", "--target", stage, *names, "-f", str(Path(context, dockerfile)), context)
        result.seconds[stage] = time.monotonic() - started
        result.tags[stage] = tags[-1]
        result.sizes[stage] = int(docker("image", "inspect", "--format", "{{.Size}}", tags[0]).stdout)
    REPORT["build_s"] = {stage: round(s, 1) for stage, s in result.seconds.items()}
    REPORT["sizes_mb"] = {stage: round(size / MB) for stage, size in result.sizes.items()}
    return result


@dataclass
class Deployed:
    stack: Stack
    database_url: str  # the app role's, on this machine
    redis_url: str
    container_urls: dict[str, dict[str, str]]  # what each service was given (through the relays)


def write_campaign(path: Path, headline: str | None) -> None:
    """The demo campaign with the example's logo (from the mounted assets folder) and, if given,
    this Persian headline."""
    data = json.loads((servers.ROOT / "web" / "campaign.default.json").read_text(encoding="utf-8"))
    data["logo"] = {"src": "logo.svg", "width": 32, "height": 32}
    if headline:
        data["locales"]["fa"]["headline"] = headline
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    path.chmod(0o644)


@pytest.fixture(scope="session")
async def deployed(
    built: Built, stores: Stores, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Deployed]:
    """migrate, web, worker and nginx as compose runs them, on their own PostgreSQL database (with
    the roles the postgres image's init script makes), Redis database and MongoDB database."""
    folder = tmp_path_factory.mktemp("compose")
    database_url = await servers.create_database(stores.database)
    roles = helpers.make_roles(database_url)
    redis_url = servers.with_database(stores.redis, "3")
    mongo_url = servers.with_database(stores.mongo, f"leadcap_images_{uuid.uuid4().hex[:8]}")
    tls, acme = folder / "tls", folder / "acme"  # empty: tls-bootstrap makes the first pair
    tls.mkdir()
    acme.mkdir(mode=0o755)  # nginx's workers (not root) read certbot's files
    acme.chmod(0o755)
    # ./campaign as compose mounts it into web: the campaign file and its images, read at run time.
    campaign = folder / "campaign"
    (campaign / "assets").mkdir(parents=True)
    for path in (campaign, campaign / "assets"):
        path.chmod(0o755)  # web runs as uid 10001
    shutil.copy(servers.ROOT / "web" / "assets.example" / "logo.svg", campaign / "assets" / "logo.svg")
    write_campaign(campaign / "campaign.json", headline=None)
    stack = Stack(folder / "override.yml", tls, acme, campaign)
    relays = Relays(BACKEND_GATEWAY)
    try:
        # The suite's MongoDB-wire server answers as a replica set member at its loopback address,
        # which a driver that discovers the set would then dial inside the container.
        container_mongo = relays.url(mongo_url) + ("&" if "?" in mongo_url else "?") + "directConnection=true"
        shared = {"LEADCAP_REDIS_URL": relays.url(redis_url), "LEADCAP_MONGO_URL": container_mongo}
        app = {"LEADCAP_DATABASE_URL": relays.url(roles.app_url), **shared}
        urls = {
            "migrate": {**app, "LEADCAP_DATABASE_URL": relays.url(roles.owner_url)},
            "web": app,
            "worker": app,
        }
        stack.override.write_text(override(urls, edge_conf(folder), tls, acme, campaign))
        started = time.monotonic()
        stack.start()
        REPORT["compose_up_s"] = round(time.monotonic() - started, 1)
        yield Deployed(stack, roles.app_url, redis_url, urls)
    finally:
        stack.down()
        relays.close()
        await drop_database_and_roles(stores.database, database_url, roles)


@pytest.fixture(scope="session")
async def stack_pg(deployed: Deployed) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(deployed.database_url, min_size=1, max_size=2)
    yield pool
    await pool.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not REPORT:
        return
    terminalreporter.section("images")
    for key, value in REPORT.items():
        terminalreporter.write_line(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    out = helpers.ROOT / "test-output"
    out.mkdir(exist_ok=True)
    (out / "images.json").write_text(json.dumps(REPORT, indent=2) + "\n")
