"""docs/openapi.json is the published description of the API; schemathesis keeps it true by
generating requests from it and checking every real answer against it (status, headers, body)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from leadcap.intake.submission import MAX_BODY
from tests import servers
from tests.servers import Server

SPEC = servers.ROOT / "docs" / "openapi.json"
schema = schemathesis.openapi.from_path(SPEC)


@pytest.fixture(scope="module")
def open_server(env: dict[str, str], run_dir: Path) -> Iterator[Server]:
    """A server with a rate limit high enough that generated cases meet the other answers too,
    and phone verification on (log provider), so its endpoints answer as described."""
    verifying = {
        "LEADCAP_VERIFY": "sms",
        "LEADCAP_SMS_PROVIDER": "log",
        "LEADCAP_SMS_BUDGET": "100000/hour",
        "LEADCAP_SMS_PER_IP": "100000/hour",
    }
    with servers.serving(
        {
            **env,
            "LEADCAP_RATE_LIMIT": "100000/minute",
            "LEADCAP_API_RATE_LIMIT": "100000/minute",
            **verifying,
        },
        run_dir / "openapi.log",
    ) as running:
        yield running


@pytest.fixture(scope="module")
def api_key(env: dict[str, str]) -> str:
    """A read API key, so generated reads of /api/v1/leads reach its pages and query errors too."""
    added = servers.leadcap("api-keys", "add", "openapi", env=env)
    assert added.returncode == 0, added.stderr
    return next(line for line in added.stdout.splitlines() if line.startswith("leadcap_"))


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_matches_its_description(case: schemathesis.Case, open_server: Server, api_key: str) -> None:
    # A schema cannot say which strings are mobile numbers, so a schema-valid body may rightly
    # get 422: that check is left out. A form carries only strings (a repeated field reads as its
    # last value), so "wrong types" there are not wrong: no negative check for forms either.
    excluded = [checks.positive_data_acceptance]
    if case.media_type == "application/x-www-form-urlencoded":
        excluded.append(checks.negative_data_rejection)
    if case.path == "/api/v1/leads":
        # With the key, generated reads get past 401 to the pages and the query's errors. The
        # key is added here, not by schemathesis, so its "request without the header" checks
        # would send it too: tests/web/test_read_api.py checks the 401s instead.
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {api_key}"}
        excluded += [checks.missing_required_header, checks.ignored_auth]
    response = case.call(base_url=open_server.url)
    if response.status_code == 413:
        # A body over 4 KiB is refused before it is read, whatever it holds, and the description
        # cannot state a size limit: such a refusal is not "invalid data accepted".
        body = response.request.body
        assert isinstance(body, bytes | str) and len(body) > MAX_BODY
        excluded.append(checks.negative_data_rejection)
    case.validate_response(response, excluded_checks=excluded)


def test_every_route_is_described() -> None:
    import json

    paths = json.loads(SPEC.read_text())["paths"]
    assert set(paths) == {
        "/api/leads/",
        "/api/health/",
        "/api/health/live",
        "/api/health/ready",
        "/",
        "/api/leads/{id}/verify",
        "/api/leads/{id}/resend",
        "/api/v1/leads",
    }
    assert set(paths["/api/leads/"]["post"]["responses"]) == {
        "202",
        "303",
        "400",
        "403",
        "413",
        "415",
        "422",
        "429",
        "503",
    }


def test_a_lead_is_described_by_the_export_s_columns() -> None:
    import json

    from leadcap.campaign.export import COLUMNS
    from leadcap.lead import STATUSES

    lead = json.loads(SPEC.read_text())["components"]["schemas"]["Lead"]
    assert tuple(lead["properties"]) == COLUMNS and tuple(lead["required"]) == COLUMNS
    assert tuple(lead["properties"]["status"]["enum"]) == STATUSES
