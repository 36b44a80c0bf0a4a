"""deploy/ against the specifications it is written for: every Kubernetes document against the
Kubernetes API schemas (kubernetes-validate, which bundles them), the compose file against the
Compose Specification's JSON schema (vendored in tests/schemas/). Offline: both validators only
read files, and the tests below fail if anything opens a connection while they validate.
"""

from __future__ import annotations

import copy
import hashlib
import json
import socket
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, all_versions, major_minor

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE_SCHEMA = ROOT / "tests" / "schemas" / "compose-spec.json"

# The oldest and the newest of the three minor versions Kubernetes supports at the end of 2026
# (1.35, 1.36, 1.37); the newest is also the newest kubernetes-validate 1.37.0 bundles.
K8S_VERSIONS = ("1.35", "1.37")


def load_all(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


MANIFESTS = sorted(path for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")
# kustomization.yaml is not an API object: test_deploy_manifests.py checks that it lists every file here
K8S_DOCS = [(path.name, index, doc) for path in MANIFESTS for index, doc in enumerate(load_all(path))]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection attempt while validating fails the test: the schemas must come from disk."""
    def refuse(*args, **kwargs):
        raise AssertionError("the validator tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def validate_k8s(doc: dict, version: str) -> None:
    """Strict: unknown fields are errors too. A kind/apiVersion without a schema in this Kubernetes
    version (e.g. a removed beta API) is an error, not the command line tool's warning."""
    used = kubernetes_validate.validate(doc, version, strict=True)
    assert used == version, f"validated against {used}, not {version}"


# --- Kubernetes ---------------------------------------------------------------------------------

def test_the_versions_are_bundled():
    bundled = {major_minor(v) for v in all_versions()}
    assert set(K8S_VERSIONS) <= bundled, sorted(bundled)


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize(("name", "index", "doc"), K8S_DOCS,
                         ids=[f"{name}:{doc['kind']}/{doc['metadata']['name']}" for name, _, doc in K8S_DOCS])
def test_k8s_document_is_valid(name: str, index: int, doc: dict, version: str):
    validate_k8s(doc, version)


def k8s_doc(kind: str, file: str) -> dict:
    return copy.deepcopy(next(doc for name, _, doc in K8S_DOCS if name == file and doc["kind"] == kind))


def broken_port_type(doc: dict) -> None:
    doc["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "eight thousand nine"


def misspelled_probe(doc: dict) -> None:
    container = doc["spec"]["template"]["spec"]["containers"][0]
    container["readynessProbe"] = container.pop("readinessProbe")


def missing_containers(doc: dict) -> None:
    del doc["spec"]["template"]["spec"]["containers"]


def replicas_as_text(doc: dict) -> None:
    doc["spec"]["replicas"] = "two"


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("breakage", [broken_port_type, misspelled_probe, missing_containers, replicas_as_text])
def test_a_broken_deployment_is_rejected(breakage):
    doc = k8s_doc("Deployment", "content.yaml")
    validate_k8s(copy.deepcopy(doc), K8S_VERSIONS[-1])
    breakage(doc)
    with pytest.raises(jsonschema.ValidationError):
        validate_k8s(doc, K8S_VERSIONS[-1])


@pytest.mark.usefixtures("no_network")
def test_a_removed_api_version_is_rejected():
    hpa = k8s_doc("HorizontalPodAutoscaler", "content.yaml")
    hpa["apiVersion"] = "autoscaling/v2beta2"  # removed in Kubernetes 1.26
    with pytest.raises(SchemaNotFoundError):
        validate_k8s(hpa, K8S_VERSIONS[0])


@pytest.mark.usefixtures("no_network")
def test_a_broken_service_and_hpa_are_rejected():
    service = k8s_doc("Service", "gateway.yaml")
    service["spec"]["ports"][0]["protocol"] = 6
    hpa = k8s_doc("HorizontalPodAutoscaler", "gateway.yaml")
    hpa["spec"]["minReplicas"] = "2"
    for doc in (service, hpa):
        with pytest.raises(jsonschema.ValidationError):
            validate_k8s(doc, K8S_VERSIONS[-1])


# --- compose ------------------------------------------------------------------------------------

def compose_validator() -> jsonschema.Draft7Validator:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    assert schema["$schema"].startswith("https://json-schema.org/draft-07/")
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def compose_errors(document: dict) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
            for error in compose_validator().iter_errors(document)]


def compose_file() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_the_vendored_compose_schema_names_its_source():
    note = (COMPOSE_SCHEMA.parent / "README.md").read_text()
    assert "compose-spec.json" in note and "Apache" in note


@pytest.mark.usefixtures("no_network")
def test_compose_file_is_valid():
    assert compose_errors(compose_file()) == []


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize(("where", "breakage"), [
    ("services/content/enviroment", lambda c: c["services"]["content"].update(enviroment={"ENV": "prod"})),
    ("services/redis/healthcheck/interval",
     lambda c: c["services"]["redis"]["healthcheck"].update(interval=5)),
    ("services/content/depends_on/content-migrate/condition",
     lambda c: c["services"]["content"]["depends_on"]["content-migrate"].update(condition="service_done")),
    ("services/gateway/ports/0", lambda c: c["services"]["gateway"]["ports"].__setitem__(0, {"taget": 8000})),
    ("volumes", lambda c: c.update(volumes=["mysql-data"])),
    ("servics", lambda c: c.update(servics={})),
])
def test_a_broken_compose_file_is_rejected(where: str, breakage):
    compose = compose_file()
    breakage(compose)
    errors = compose_errors(compose)
    assert errors, f"{where}: accepted"


def test_the_vendored_compose_schema_is_the_one_named():
    note = (COMPOSE_SCHEMA.parent / "README.md").read_text()
    assert hashlib.sha256(COMPOSE_SCHEMA.read_bytes()).hexdigest() in note, "update tests/schemas/README.md"
