"""web/metrics.py's Tally: per-request counts folded into the Prometheus metrics give what
counting each request into them directly gave."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.registry import REGISTRY

from web import metrics

# Exactly on a bucket's bound (it belongs to that bucket), between bounds, and past the last one.
SECONDS = [0.0005, 0.0005, 0.0007, 0.001, 0.0049, 0.005, 0.3, 2.5, 2.6, 40.0, 0.0]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_folded_latency_is_what_observing_each_request_gives() -> None:
    reference = Histogram(
        "reference_seconds", "", ["route"], buckets=metrics._BOUNDS[:-1], registry=CollectorRegistry()
    )
    tally = metrics.Tally()
    for seconds in SECONDS:
        reference.labels("tally_a").observe(seconds)
        tally.request("tally_a", "POST", 202, seconds)
    tally.fold()
    expected = {
        (
            s.name.replace("reference_seconds", "leadcap_http_request_duration_seconds"),
            s.labels.get("le"),
        ): s.value
        for s in next(iter(reference.collect())).samples
        if not s.name.endswith("_created")
    }
    got = {(name, le): sample(name, route="tally_a", **({"le": le} if le else {})) for name, le in expected}
    assert got == expected
    # cumulative: 0.0 and the two exactly on the bound (a bound belongs to its bucket)
    assert expected[("leadcap_http_request_duration_seconds_bucket", "0.0005")] == 3
    assert expected[("leadcap_http_request_duration_seconds_count", None)] == len(SECONDS)


def test_requests_and_leads_are_counted_by_label_set_and_a_fold_adds_only_what_is_new() -> None:
    tally = metrics.Tally()
    for method, status in [("POST", 202), ("POST", 202), ("POST", 422), ("BREW", 202), ("brew", 202)]:
        tally.request("tally_b", method, status, 0.001)
    tally.lead("accepted")
    tally.lead("rejected", "invalid_phone")
    tally.lead("rejected", "invalid_phone")
    tally.fold()
    tally.fold()  # nothing new: adds nothing
    assert sample("leadcap_http_requests_total", route="tally_b", method="POST", status="202") == 2
    assert sample("leadcap_http_requests_total", route="tally_b", method="POST", status="422") == 1
    # an invented method is one label, whatever it is
    assert sample("leadcap_http_requests_total", route="tally_b", method="OTHER", status="202") == 2
    accepted = sample("leadcap_leads_total", outcome="accepted", reason="")
    tally.lead("accepted")
    tally.fold()
    assert sample("leadcap_leads_total", outcome="accepted", reason="") == accepted + 1
    assert sample("leadcap_leads_total", outcome="rejected", reason="invalid_phone") >= 2
