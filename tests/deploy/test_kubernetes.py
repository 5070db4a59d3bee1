"""The Kubernetes manifests (deploy/kubernetes/), offline: every overlay renders with kubectl,
is valid against the Kubernetes schemas (strict: an unknown field fails) and KEDA's, keeps the
pod rules (probes, limits, security, no service links), and agrees with what leadcap reads."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from cloudcoil.models.keda import v1alpha1 as keda

import leadcap
from leadcap import keys
from leadcap.intake import shard
from leadcap.settings import PREFIX, declarations, parse
from tests.deploy import kube
from tests.deploy.kube import KUBERNETES, OVERLAYS, VERSIONS, Doc
from tests.servers import ROOT

KEDA_KINDS = {"ScaledObject": keda.ScaledObject, "TriggerAuthentication": keda.TriggerAuthentication}
KEDA_OVERLAYS = ("gitops", "production", "sharded")
# The undelivered entries per worker that KEDA aims at with one Redis server, as components/keda
# sets it.
ONE_SERVERS_LAG = int(
    next(
        trigger["metadata"]["lagCount"]
        for doc in yaml.safe_load_all((KUBERNETES / "components" / "keda" / "scaledobject.yaml").read_text())
        if doc["kind"] == "ScaledObject"
        for trigger in doc["spec"]["triggers"]
        if trigger["type"] == "redis-streams"
    )
)
DOCS = ROOT / "docs" / "kubernetes.md"


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Doc]]:
    started = time.monotonic()
    docs = {name: kube.overlay(name) for name in OVERLAYS}
    print(f"\nkubectl kustomize, {len(OVERLAYS)} overlays: {time.monotonic() - started:.2f} s")
    return docs


def test_production_renders_what_the_docs_list(rendered: dict[str, list[Doc]]) -> None:
    kinds = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in rendered["production"])
    assert {"Deployment/leadcap-web", "Deployment/leadcap-worker", "Service/leadcap-edge"} <= set(kinds)
    assert {"HorizontalPodAutoscaler/leadcap-web", "ScaledObject/leadcap-worker"} <= set(kinds)
    assert {"PodDisruptionBudget/leadcap-web", "PodDisruptionBudget/leadcap-worker"} <= set(kinds)
    assert "HorizontalPodAutoscaler/leadcap-worker" in {
        f"{d['kind']}/{d['metadata']['name']}" for d in rendered["no-keda"]
    }
    assert "Job/leadcap-migrate" in {f"{d['kind']}/{d['metadata']['name']}" for d in rendered["gitops"]}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", OVERLAYS)
def test_valid_against_the_kubernetes_schemas(
    rendered: dict[str, list[Doc]], name: str, version: str
) -> None:
    for doc in rendered[name]:
        if doc["kind"] in KEDA_KINDS:
            continue  # KEDA's own schema: below
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_schema_check_refuses_an_unknown_field(rendered: dict[str, list[Doc]]) -> None:
    """Strict validation is what catches a misspelt field (Kubernetes would drop it silently)."""
    docs = kube.broken(
        rendered["production"], "Deployment", "leadcap-web", "spec.template.spec.enableServiceLinks"
    )
    web = kube.find(docs, "Deployment", "leadcap-web")
    web["spec"]["template"]["spec"]["enableServiceLink"] = False
    with pytest.raises(kubernetes_validate.ValidationError, match="enableServiceLink"):
        kubernetes_validate.validate(web, VERSIONS[0], strict=True)


def keda_problems(doc: Doc) -> list[str]:
    """Validate against KEDA's CRD (cloudcoil's models of it): a wrong type or a missing field
    raises; a field the CRD lacks is dropped by the model, so a round trip must give it back."""
    model = KEDA_KINDS[doc["kind"]].model_validate(doc)
    again = model.model_dump(by_alias=True, exclude_unset=True, mode="json")
    return [] if again == doc else [f"{doc['kind']}: fields KEDA does not know: {_diff(doc, again)}"]


def _diff(given: Any, kept: Any, path: str = "") -> list[str]:
    if isinstance(given, dict) and isinstance(kept, dict):
        return [p for key in given for p in _diff(given[key], kept.get(key), f"{path}.{key}")]
    if isinstance(given, list) and isinstance(kept, list) and len(given) == len(kept):
        return [
            p for i, (g, k) in enumerate(zip(given, kept, strict=True)) for p in _diff(g, k, f"{path}[{i}]")
        ]
    return [] if given == kept else [path]


def test_the_overlays_with_keda_are_the_ones_checked_below(rendered: dict[str, list[Doc]]) -> None:
    with_keda = {name for name in OVERLAYS if any(d["kind"] in KEDA_KINDS for d in rendered[name])}
    assert with_keda == set(KEDA_OVERLAYS)


@pytest.mark.parametrize("name", KEDA_OVERLAYS)
def test_keda_objects_match_kedas_crd(rendered: dict[str, list[Doc]], name: str) -> None:
    found = [doc for doc in rendered[name] if doc["kind"] in KEDA_KINDS]
    assert {doc["kind"] for doc in found} == set(KEDA_KINDS)
    for doc in found:
        assert keda_problems(doc) == []


def test_the_keda_check_refuses_what_keda_does_not_know(rendered: dict[str, list[Doc]]) -> None:
    scaled = kube.find(rendered["production"], "ScaledObject", "leadcap-worker")
    misspelt = {**scaled, "spec": {**scaled["spec"], "minReplicas": 2}}
    assert keda_problems(misspelt) == ["ScaledObject: fields KEDA does not know: ['.spec.minReplicas']"]
    wrong_type = {**scaled, "spec": {**scaled["spec"], "maxReplicaCount": "many"}}
    with pytest.raises(ValueError, match="maxReplicaCount"):
        keda_problems(wrong_type)


def shard_problems(docs: list[Doc]) -> list[str]:
    """How the worker's ScaledObject fails to read every Redis server of the intake. Shard i is
    named as health names it (`redis`, `redis-1`, …); its TriggerAuthentication `leadcap-<shard>`
    reads the Secret's `<shard>-address` and `<shard>-password`; and it has one redis-streams
    trigger of its own, in order, on leadcap's stream and group, aiming at one server's backlog
    per worker divided by the number of servers."""
    scaled = kube.find(docs, "ScaledObject", "leadcap-worker")
    triggers = [t for t in scaled["spec"]["triggers"] if t["type"] == "redis-streams"]
    auths = {d["metadata"]["name"]: d for d in docs if d["kind"] == "TriggerAuthentication"}
    shards = [shard.name(i) for i in range(len(auths))]
    problems = [f"{n}: not a shard's name" for n in auths if n.removeprefix("leadcap-") not in shards]
    named = [t.get("authenticationRef", {}).get("name") for t in triggers]
    problems += [f"shard {s}: no trigger" for s in shards if f"leadcap-{s}" not in named]
    problems += [
        f"trigger {i}: reads {n}, not {s}"
        for i, (n, s) in enumerate(zip(named, shards, strict=False))
        if n != f"leadcap-{s}"
    ]
    problems += [f"trigger {i}: no such shard" for i in range(len(shards), len(named))]
    for server in shards:
        refs = auths.get(f"leadcap-{server}", {}).get("spec", {}).get("secretTargetRef", [])
        wanted = [("address", f"{server}-address"), ("password", f"{server}-password")]
        if sorted((r["parameter"], r["key"]) for r in refs if r["name"] == "leadcap-secrets") != wanted:
            problems.append(f"shard {server}: not the Secret's {server}-address and {server}-password")
    for i, trigger in enumerate(triggers):
        metadata = trigger.get("metadata", {})
        if (metadata.get("stream"), metadata.get("consumerGroup")) != (keys.LEAD_STREAM, keys.CONSUMER_GROUP):
            problems.append(f"trigger {i}: not leadcap's stream and group")
        if "lagCount" not in metadata:  # the backlog, not the pending list (see scaledobject.yaml)
            problems.append(f"trigger {i}: no lagCount")
        # KEDA follows the largest trigger, one shard's backlog, while every worker drains all.
        elif int(metadata["lagCount"]) * len(triggers) != ONE_SERVERS_LAG:
            problems.append(f"trigger {i}: lagCount is not {ONE_SERVERS_LAG} / {len(triggers)}")
    return problems


@pytest.mark.parametrize("name", KEDA_OVERLAYS)
def test_keda_reads_every_shard_on_leadcaps_stream_and_group(
    rendered: dict[str, list[Doc]], name: str
) -> None:
    assert shard_problems(rendered[name]) == []
    scaled = kube.find(rendered[name], "ScaledObject", "leadcap-worker")
    assert scaled["spec"]["minReplicaCount"] >= 1  # workers also deliver webhooks: never zero
    shards = [d for d in rendered[name] if d["kind"] == "TriggerAuthentication"]
    assert len(shards) == (2 if name == "sharded" else 1)


SHARD_BREAKAGES = [
    ("a shard without a trigger", lambda so, auth: so["spec"]["triggers"].pop(), "shard redis-1: no trigger"),
    (
        "a trigger on another stream",
        lambda so, auth: so["spec"]["triggers"][-1]["metadata"].update(stream="leads"),
        "trigger 1: not leadcap's stream and group",
    ),
    (
        "one server's backlog target kept for two",
        lambda so, auth: [
            t["metadata"].update(lagCount=str(ONE_SERVERS_LAG)) for t in so["spec"]["triggers"]
        ],
        f"trigger 0: lagCount is not {ONE_SERVERS_LAG} / 2",
    ),
    (
        "the second shard reading the first's address",
        lambda so, auth: auth["spec"]["secretTargetRef"][0].update(key="redis-address"),
        "shard redis-1: not the Secret's redis-1-address and redis-1-password",
    ),
]


@pytest.mark.parametrize(
    ("what", "break_it", "problem"), SHARD_BREAKAGES, ids=[b[0] for b in SHARD_BREAKAGES]
)
def test_the_shard_check_fails_a_broken_copy(
    rendered: dict[str, list[Doc]], what: str, break_it: Any, problem: str
) -> None:
    docs = copy.deepcopy(rendered["sharded"])
    break_it(
        kube.find(docs, "ScaledObject", "leadcap-worker"),
        kube.find(docs, "TriggerAuthentication", "leadcap-redis-1"),
    )
    assert problem in shard_problems(docs), what


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_pod_keeps_the_rules(rendered: dict[str, list[Doc]], name: str) -> None:
    assert list(kube.pod_specs(rendered[name]))
    assert kube.pod_problems(rendered[name]) == []


WEB = ("Deployment", "leadcap-web")
WEB_POD = "spec.template.spec"
BREAKAGES = [
    (WEB, f"{WEB_POD}.containers[web].readinessProbe", None, "leadcap-web/web: no readinessProbe"),
    (WEB, f"{WEB_POD}.containers[edge].livenessProbe", None, "leadcap-web/edge: no livenessProbe"),
    (
        ("Deployment", "leadcap-worker"),
        f"{WEB_POD}.containers[worker].livenessProbe",
        None,
        "worker: no livenessProbe",
    ),
    (WEB, f"{WEB_POD}.containers[edge].resources.limits.memory", None, "edge: no memory limit"),
    (WEB, f"{WEB_POD}.initContainers[migrate].resources.limits", None, "migrate: no cpu limit"),
    (WEB, f"{WEB_POD}.containers[web].securityContext", None, "web: the root file system is not read-only"),
    (
        WEB,
        f"{WEB_POD}.containers[web].securityContext.capabilities",
        None,
        "web: capabilities are not all dropped",
    ),
    (
        WEB,
        f"{WEB_POD}.containers[edge].securityContext.allowPrivilegeEscalation",
        True,
        "edge: privilege escalation",
    ),
    (WEB, f"{WEB_POD}.securityContext.seccompProfile", None, "seccompProfile is not RuntimeDefault"),
    (WEB, f"{WEB_POD}.securityContext.runAsNonRoot", None, "the pod is not runAsNonRoot"),
    (WEB, f"{WEB_POD}.enableServiceLinks", None, "leadcap-web: enableServiceLinks is not false"),
    (
        ("Job", "leadcap-migrate"),
        f"{WEB_POD}.enableServiceLinks",
        True,
        "Job/leadcap-migrate: enableServiceLinks",
    ),
]


@pytest.mark.parametrize(("target", "path", "value", "problem"), BREAKAGES)
def test_the_checker_fails_a_broken_copy(
    rendered: dict[str, list[Doc]], target: tuple[str, str], path: str, value: object, problem: str
) -> None:
    """The rule checker, seen failing: each deliberately broken copy is named for what it lacks."""
    docs = kube.broken(rendered["gitops"], *target, path, value)
    problems = kube.pod_problems(docs)
    assert any(problem in p for p in problems), problems


def service_variables(service: str, ports: list[Doc]) -> set[str]:
    """The variables Kubernetes puts into a pod for `service` when service links are on."""
    base = service.upper().replace("-", "_")
    names = {f"{base}_SERVICE_HOST", f"{base}_SERVICE_PORT", f"{base}_PORT"}
    for port in ports:
        number, protocol = port["port"], port.get("protocol", "TCP")
        prefix = f"{base}_PORT_{number}_{protocol}"
        names |= {prefix, f"{prefix}_PROTO", f"{prefix}_PORT", f"{prefix}_ADDR"}
        if "name" in port:
            names.add(f"{base}_SERVICE_PORT_{port['name'].upper().replace('-', '_')}")
    return names


def test_no_service_injects_a_setting_leadcap_reads(rendered: dict[str, list[Doc]]) -> None:
    """Besides enableServiceLinks: false, a pod that leaves it on (a debugging pod from the same
    image) still finds no LEADCAP_* setting set by a Service's name."""
    settings = {PREFIX + d.env for d in declarations().values()}
    settings |= {name + "_FILE" for name in settings}
    assert "LEADCAP_PORT" in service_variables("leadcap", [{"port": 80}])  # the trap named above
    for name in OVERLAYS:
        for doc in rendered[name]:
            if doc["kind"] == "Service":
                clash = service_variables(doc["metadata"]["name"], doc["spec"]["ports"]) & settings
                assert not clash, f"Service {doc['metadata']['name']} would set {clash}"


def config(docs: list[Doc]) -> dict[str, str]:
    data: dict[str, str] = next(
        d["data"]
        for d in docs
        if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("leadcap-config")
    )
    return data


@pytest.mark.parametrize("name", OVERLAYS)
def test_the_settings_are_leadcaps_and_parse(
    rendered: dict[str, list[Doc]], name: str, tmp_path: Path
) -> None:
    """Every variable of the ConfigMap is a setting leadcap declares, and the whole, with the
    Secret's files and the mounted campaign file in place, is a valid production configuration."""
    values = config(rendered[name])
    known = {PREFIX + d.env for d in declarations().values()}
    assert set(values) <= known, set(values) - known
    web = kube.find(rendered[name], "Deployment", "leadcap-web")["spec"]["template"]["spec"]
    (container,) = [c for c in web["containers"] if c["name"] == "web"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    campaign = Path(values["LEADCAP_CAMPAIGN_FILE"])
    volume = next(v for v in web["volumes"] if v["name"] == mounts[str(campaign.parent)])
    configmap = next(
        d
        for d in rendered[name]
        if d["kind"] == "ConfigMap" and d["metadata"]["name"] == volume["configMap"]["name"]
    )
    assert campaign.name in configmap["data"]  # the file LEADCAP_CAMPAIGN_FILE names is mounted
    (tmp_path / campaign.name).write_text(configmap["data"][campaign.name])
    raw = {k.removeprefix(PREFIX): v for k, v in values.items()}
    raw |= {"CAMPAIGN_FILE": str(tmp_path / campaign.name)}
    for env in container["env"]:  # the store URLs and the visitor key, read from the Secret's files
        assert env["name"].endswith(("_URL_FILE", "_KEY_FILE"))
        assert env["value"].startswith("/run/secrets/leadcap/")
        raw[env["name"].removeprefix(PREFIX).removesuffix("_FILE")] = "redis://h:6379/0"
    raw |= {"DATABASE_URL": "postgresql://u:p@h/db", "MONGO_URL": "mongodb://h/db", "VISITOR_KEY": "v" * 64}
    assert "LEADCAP_VISITOR_KEY_FILE" in {env["name"] for env in container["env"]}
    settings = parse(raw)
    assert settings.production and settings.edge_dir is not None
    assert str(settings.edge_dir) in mounts and mounts[str(settings.edge_dir)] == "edgepage"
    assert [str(n) for n in settings.trusted_proxies] == ["127.0.0.1/32"]  # only the pod's nginx


def test_the_campaign_is_the_default_campaign() -> None:
    shipped = json.loads((ROOT / "web" / "campaign.default.json").read_text())
    assert json.loads((KUBERNETES / "base" / "campaign.json").read_text()) == shipped


def secret_keys(docs: list[Doc]) -> set[str]:
    """Every key of `leadcap-secrets` that a manifest reads."""
    found = set()
    for doc in docs:
        for _, pod in kube.pod_specs([doc]):
            for volume in pod.get("volumes", []):
                if volume.get("secret", {}).get("secretName") == "leadcap-secrets":
                    found |= {item["key"] for item in volume["secret"]["items"]}
        for ref in doc.get("spec", {}).get("secretTargetRef", []):
            if ref["name"] == "leadcap-secrets":
                found.add(ref["key"])
    return found


def test_secrets_are_referenced_never_shipped_and_their_keys_documented(
    rendered: dict[str, list[Doc]],
) -> None:
    documented = DOCS.read_text()
    for name in OVERLAYS:
        assert not [d for d in rendered[name] if d["kind"] == "Secret"]  # the operator makes them
        for key in secret_keys(rendered[name]) | {"tls.crt", "tls.key"}:
            assert f"`{key}`" in documented, f"{key} is not in docs/kubernetes.md"
    assert secret_keys(rendered["production"]) == {
        "database-url",
        "redis-url",
        "mongo-url",
        "visitor-key",
        "migrate-database-url",
        "redis-address",
        "redis-password",
    }


def test_the_owner_url_reaches_only_migrations(rendered: dict[str, list[Doc]]) -> None:
    for where, pod in kube.pod_specs(rendered["gitops"]):
        owner = {v["name"] for v in pod["volumes"] if "migrate-database-url" in json.dumps(v)}
        for container in pod.get("initContainers", []) + pod["containers"]:
            mounted = {m["name"] for m in container.get("volumeMounts", [])} & owner
            assert not mounted or container["name"] == "migrate", f"{where}/{container['name']}"


@pytest.mark.parametrize("name", OVERLAYS)
def test_images_are_this_release(rendered: dict[str, list[Doc]], name: str) -> None:
    for where, pod in kube.pod_specs(rendered[name]):
        for container in pod.get("initContainers", []) + pod["containers"]:
            assert container["image"].endswith(":" + leadcap.__version__), (where, container["image"])
