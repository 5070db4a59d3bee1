"""The deployment under test: docker-compose.yml's own `migrate`, `web` and `worker` commands run
here against real stores, with the least-privilege PostgreSQL roles the postgres image's init script
makes, and a real nginx with the project's nginx.conf in front of them."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis

from leadcap.ops import embedded
from tests import servers
from tests.deploy import helpers
from tests.deploy.helpers import Nginx, Roles, Running
from tests.servers import Stores

# The built page as the Dockerfile lays it out: the Persian template and hashed files under assets/.
INDEX_HTML = "<!doctype html><html><head><title>deploy test</title></head><body>built page</body></html>"
ASSET_JS = "export const greeting = 'hello from a hashed asset';\n" * 40  # big enough to gzip
ASSET = "index-abc123.js"
EDGE_ONLY_ASSET = "edge-only-def456.js"  # in the edge's copy only: proves nginx answered
WEB_ONLY_ASSET = "web-only-0a1b2c.js"  # in the web's copy only: a newer web image mid-deploy
CAMPAIGN_FILE = servers.ROOT / "web" / "campaign.example.json"  # with Enamad and Samandehi badges
BADGE_ORIGINS = ("https://trustseal.enamad.ir", "https://logo.samandehi.ir")


@dataclass
class Stack:
    """`leadcap migrate` as the owner role, then `leadcap serve` and `leadcap worker` as the app
    role, as compose runs them. `env` is web's and worker's (the app role's URL)."""

    url: str
    env: dict[str, str]
    web: Running
    worker: Running
    database_url: str  # the app role's
    roles: Roles
    migrated: str  # what `leadcap migrate` printed
    redis_url: str
    dist: Path
    edge_root: Path
    edge_page: Path  # LEADCAP_EDGE_DIR: the compose `edgepage` volume web writes and nginx reads


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    return helpers.compose_config()


@pytest.fixture(scope="session")
def deploy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("deploy")


def build_dist(folder: Path) -> tuple[Path, Path]:
    """The web image's /opt/leadcap/ui, and the edge image's copy of its assets."""
    dist = folder / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "template.fa.html").write_text(INDEX_HTML)  # the page leadcap fills (no slots here)
    (dist / "assets" / ASSET).write_text(ASSET_JS)
    edge_root = folder / "edge"
    shutil.copytree(dist / "assets", edge_root / "assets")  # Dockerfile: COPY --from=ui dist/assets
    (edge_root / "assets" / EDGE_ONLY_ASSET).write_text("export const edge = 1;\n")
    (dist / "assets" / WEB_ONLY_ASSET).write_text("export const web = 1;\n")
    return dist, edge_root


@pytest.fixture(scope="session")
async def stack(
    compose: dict[str, Any], env: dict[str, str], stores: Stores, deploy_dir: Path
) -> AsyncIterator[Stack]:
    """Its own PostgreSQL database (empty but for the init script's roles: the migrate command
    makes the schema), Redis database (index 7, flushed first) and MongoDB database, so nothing else
    in the session shares its queue."""
    database_url = await servers.create_database(stores.database)
    roles = helpers.make_roles(database_url)
    redis_url = servers.with_database(stores.redis, "7")
    flush = aioredis.Redis.from_url(redis_url)
    await flush.flushdb()
    await flush.aclose()
    dist, edge_root = build_dist(deploy_dir)
    edge_page = deploy_dir / "edgepage"
    edge_page.mkdir()
    port = embedded.free_port()
    stack_env = helpers.with_venv_path(
        {
            **env,
            "LEADCAP_ENV": "production",  # as in .env.docker: no embedded fallback
            "LEADCAP_DATABASE_URL": roles.app_url,
            "LEADCAP_REDIS_URL": redis_url,
            "LEADCAP_MONGO_URL": servers.with_database(
                stores.mongo, f"leadcap_deploy_{uuid.uuid4().hex[:8]}"
            ),
            "LEADCAP_TRUSTED_PROXIES": "127.0.0.1/32",  # nginx, as 172.30.80.10/32 is in compose
            "LEADCAP_RATE_LIMIT": "10/minute",
            "LEADCAP_VISITOR_KEY": "0123456789abcdef" * 4,  # required to serve in production
            "LEADCAP_UI_DIST": str(dist),
            "LEADCAP_HOST": "127.0.0.1",
            "LEADCAP_PORT": str(port),
            "LEADCAP_WEB_WORKERS": "2",  # as in .env.docker: Sanic's multi-process mode
            "LEADCAP_EDGE_DIR": str(edge_page),
            # A real campaign has trust badges: their image origins must reach the edge's page.
            "LEADCAP_CAMPAIGN_FILE": str(CAMPAIGN_FILE),
            "LEADCAP_ASSETS_DIR": str(CAMPAIGN_FILE.parent / "assets.example"),  # its logo
        }
    )
    home = deploy_dir / "home"  # like the image's empty working directory: no ./.env
    home.mkdir()
    services = compose["services"]
    migrate = subprocess.run(
        helpers.command_argv(services["migrate"]["command"]),
        env={**stack_env, "LEADCAP_DATABASE_URL": roles.owner_url},  # .env.docker.migrate's
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=home,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    web = Running.start(
        helpers.command_argv(services["web"]["command"]), stack_env, deploy_dir / "web.log", home
    )
    worker = Running.start(
        helpers.command_argv(services["worker"]["command"]), stack_env, deploy_dir / "worker.log", home
    )
    url = f"http://127.0.0.1:{port}"
    try:
        helpers.wait_until_answers(url + "/api/health/", web)
        yield Stack(
            url,
            stack_env,
            web,
            worker,
            roles.app_url,
            roles,
            migrate.stdout,
            redis_url,
            dist,
            edge_root,
            edge_page,
        )
    finally:
        worker.stop()
        web.stop()
        await drop_database_and_roles(stores.database, database_url, roles)


async def drop_database_and_roles(admin_url: str, database_url: str, roles: Roles) -> None:
    """Roles belong to the whole server (possibly the machine's, shared): leave none behind."""
    name = database_url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'DROP ROLE IF EXISTS "{roles.owner}", "{roles.app}"')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def edge(stack: Stack, deploy_dir: Path) -> Iterator[Nginx]:
    """nginx.conf as shipped, in front of the stack, with a self-signed certificate."""
    with helpers.edge_nginx(
        deploy_dir / "nginx",
        upstream=stack.url.removeprefix("http://"),
        assets_root=stack.edge_root,
        page_root=stack.edge_page,
    ) as running:
        yield running


@pytest.fixture(scope="session")
async def stack_pg(stack: Stack) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=2)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
async def stack_redis(stack: Stack) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(stack.redis_url, decode_responses=True)
    yield client
    await client.aclose()
