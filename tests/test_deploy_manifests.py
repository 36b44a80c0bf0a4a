"""deploy/ (Dockerfile, compose, Kubernetes) stays consistent with the code: ports from
shared/ports.py, env names from the settings models, production settings, the entrypoint.

Nothing here needs Docker or a cluster: the manifests are parsed and checked statically, and the
env they give our containers is fed to the real settings classes.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from console.settings import ConsoleSettings
from gateway.settings import GatewaySettings
from promo import registry
from shared.ports import CONSOLE_PORT, GATEWAY_PORT, IMPLEMENTED_SERVICES, SERVICE_PORTS
from shared.settings import DEV_JWT_SECRET, CommonSettings, Env, ServiceSettings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
IMAGE = "promotion-center"  # our image's repository name, in compose and in k8s
COMPONENT = "PROMO_COMPONENT"  # read by deploy/entrypoint.sh, not a settings field
NAMESPACE = "promotion-center"
# Components that are not services: no database, no migration (shared/ports.py)
FRONT_PORTS = {"gateway": GATEWAY_PORT, "console": CONSOLE_PORT}


# --- helpers ------------------------------------------------------------------------------------

def load_all(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def settings_class(component: str) -> type[CommonSettings]:
    if component == "gateway":
        return GatewaySettings
    if component == "console":
        return ConsoleSettings
    return registry.settings_class(component.removeprefix("migrate-"))


def allowed_env(component: str) -> set[str]:
    return {name.upper() for name in settings_class(component).model_fields} | {COMPONENT}


def port_of(component: str) -> int:
    return FRONT_PORTS.get(component) or SERVICE_PORTS[component]


def check_component(component: str) -> None:
    service = component.removeprefix("migrate-")
    assert component in FRONT_PORTS or service in IMPLEMENTED_SERVICES, f"no code for {component!r}"


INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")
COMPOSE_VARS = {"JWT_SECRET": "s" * 48, "MYSQL_PASSWORD": "promo-pw", "MYSQL_ROOT_PASSWORD": "root-pw",
                "SERVICE_TOKEN": "service.jwt.token"}


def interpolate(value: str) -> str:
    """What compose makes of `${VAR:?message}` given COMPOSE_VARS."""
    return INTERPOLATION.sub(lambda m: COMPOSE_VARS[m.group(1)], value).replace("$$", "$")


def build_settings(monkeypatch: pytest.MonkeyPatch, component: str, env: dict[str, str]) -> CommonSettings:
    """The settings our process would build from exactly this environment."""
    cls = settings_class(component)
    for name in cls.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return cls(_env_file=None)


# --- compose ------------------------------------------------------------------------------------

COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def compose_env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {name: "" if value is None else str(value) for name, value in env.items()}


def ours(service: dict) -> bool:
    return "build" in service or IMAGE in str(service.get("image", "")).split("/")[-1].split(":")[0]


OUR_COMPOSE = {name: svc for name, svc in COMPOSE["services"].items() if ours(svc)}


def compose_component(name: str) -> str:
    env = compose_env(OUR_COMPOSE[name])
    assert COMPONENT in env, f"compose service {name} must set {COMPONENT}"
    return env[COMPONENT]


# --- kubernetes ---------------------------------------------------------------------------------

K8S_FILES = sorted(K8S.glob("*.yaml"))
K8S_DOCS = [doc for path in K8S_FILES for doc in load_all(path) if doc.get("kind") != "Kustomization"]


def k8s(kind: str) -> list[dict]:
    return [doc for doc in K8S_DOCS if doc["kind"] == kind]


def k8s_one(kind: str, name: str) -> dict:
    found = [doc for doc in k8s(kind) if doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}"
    return found[0]


def pod_containers(deployment: dict) -> list[dict]:
    spec = deployment["spec"]["template"]["spec"]
    return spec.get("initContainers", []) + spec["containers"]


def container_env(container: dict) -> dict[str, str]:
    """Every variable a container gets: envFrom ConfigMaps/Secrets, then `env` (which wins)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(k8s_one("ConfigMap", source["configMapRef"]["name"])["data"])
        else:
            env.update(k8s_one("Secret", source["secretRef"]["name"])["stringData"])
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = k8s_one("Secret", ref["name"])["stringData"][ref["key"]]
    return env


def k8s_component(container: dict) -> str:
    values = [item["value"] for item in container.get("env", []) if item["name"] == COMPONENT]
    assert len(values) == 1, f"container {container['name']} must set {COMPONENT} once"
    return values[0]


def main_container(deployment: dict) -> dict:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def deployments() -> dict[str, dict]:
    """component -> Deployment"""
    return {k8s_component(main_container(dep)): dep for dep in k8s("Deployment")}


def services_selecting(deployment: dict) -> list[dict]:
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    return [svc for svc in k8s("Service")
            if svc["spec"]["selector"].items() <= labels.items()]


def resolve_port(container: dict, port: int | str) -> int:
    if isinstance(port, int):
        return port
    named = [p["containerPort"] for p in container.get("ports", []) if p.get("name") == port]
    assert named, f"container {container['name']} has no port named {port!r}"
    return named[0]


# --- every file ---------------------------------------------------------------------------------

def test_every_yaml_file_parses():
    paths = sorted(DEPLOY.rglob("*.yaml"))
    names = {p.relative_to(DEPLOY).as_posix() for p in paths}
    assert {"compose.yaml", "k8s/namespace.yaml", "k8s/configmap.yaml", "k8s/secret.example.yaml",
            "k8s/content.yaml", "k8s/gateway.yaml", "k8s/console.yaml"} <= names
    for path in paths:
        docs = load_all(path)
        assert docs, f"{path} is empty"
        assert all(isinstance(doc, dict) for doc in docs), path


def test_k8s_docs_have_identity_and_namespace():
    assert K8S_DOCS
    for doc in K8S_DOCS:
        assert doc.get("apiVersion") and doc.get("kind"), doc
        assert doc.get("metadata", {}).get("name"), doc
        if doc["kind"] == "Namespace":
            assert doc["metadata"]["name"] == NAMESPACE
        else:
            assert doc["metadata"].get("namespace") == NAMESPACE, doc["metadata"]["name"]


def test_kustomization_applies_everything_but_the_example_secret():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    expected = {p.name for p in K8S_FILES} - {"kustomization.yaml", "secret.example.yaml"}
    assert set(kustomization["resources"]) == expected


def test_api_versions():
    expected = {"Deployment": "apps/v1", "Service": "v1", "HorizontalPodAutoscaler": "autoscaling/v2",
                "Ingress": "networking.k8s.io/v1", "ConfigMap": "v1", "Secret": "v1", "Namespace": "v1"}
    for doc in K8S_DOCS:
        assert doc["apiVersion"] == expected[doc["kind"]], doc["metadata"]["name"]


# --- Dockerfile and entrypoint ------------------------------------------------------------------

def test_dockerfile():
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    low, high = map(int, re.search(r"^EXPOSE (\d+)-(\d+)$", text, re.M).groups())
    assert all(low <= port <= high for port in [*FRONT_PORTS.values(), *SERVICE_PORTS.values()])
    user = re.findall(r"^USER (\S+)", text, re.M)[-1]
    assert user.split(":")[0].isdigit() and user.split(":")[0] != "0", "run as a numeric non-root user"
    assert re.search(r"^HEALTHCHECK .*promo-healthcheck", text, re.M)
    assert "deploy/entrypoint.sh" in text and "deploy/healthcheck.py" in text
    assert "requirements.lock" in text and "--no-deps" in text


def dockerignore_excludes(path: str) -> bool:
    """Whether the build context leaves `path` out (the file's patterns, last match wins; `**`,
    `*` and leading `!` as BuildKit reads them, enough for the patterns deploy/ uses)."""
    excluded = False
    for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate, pattern = line.startswith("!"), line.lstrip("!").strip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
        # a pattern matches the path itself or a folder above it
        if re.fullmatch(f"{regex}(/.*)?", path):
            excluded = not negate
    return excluded


def test_dockerignore_keeps_the_consoles_built_app():
    assert dockerignore_excludes("console/web/node_modules/vue/package.json")
    assert dockerignore_excludes(".venv/bin/python") and dockerignore_excludes("shared/__pycache__/x.pyc")
    built = [p.relative_to(ROOT).as_posix() for p in (ROOT / "console" / "web" / "dist").rglob("*") if p.is_file()]
    assert "console/web/dist/index.html" in built
    for path in [*built, "console/server.py", "pyproject.toml", "deploy/entrypoint.sh"]:
        assert not dockerignore_excludes(path), path


def test_the_installed_package_carries_the_consoles_built_app(tmp_path: Path):
    """What the Dockerfile's `pip install /src` installs: a wheel built from the packages (and
    pyproject.toml) has console/web/dist, which console/server.py serves from site-packages."""
    pytest.importorskip("setuptools")
    context = tmp_path / "src"
    context.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, context / name)
    ignore = shutil.ignore_patterns("node_modules", "__pycache__")
    for package in ("shared", "services", "gateway", "promo", "console"):
        shutil.copytree(ROOT / package, context / package, ignore=ignore)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path / "out"), str(context)], check=True, capture_output=True, timeout=120)
    [wheel] = (tmp_path / "out").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    built = {p.relative_to(ROOT).as_posix() for p in (ROOT / "console" / "web" / "dist").rglob("*") if p.is_file()}
    assert "console/web/dist/index.html" in built and len(built) > 1
    assert built <= names, sorted(built - names)
    assert "console/server.py" in names and not any("node_modules" in name for name in names)


@pytest.fixture(scope="module")
def fake_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """uvicorn, promo and `python -m` that print their command line instead of running."""
    folder = tmp_path_factory.mktemp("bin")
    scripts = {
        "uvicorn": 'echo "uvicorn $*"',
        "promo": 'echo "promo $*"',
        "python": f'if [ "$1" = "-m" ]; then echo "python $*"; exit 0; fi\nexec "{sys.executable}" "$@"',
    }
    for name, body in scripts.items():
        path = folder / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
    return folder


def entrypoint(fake_bin: Path, *args: str, component: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{fake_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    if component is not None:
        env[COMPONENT] = component
    return subprocess.run(["sh", str(DEPLOY / "entrypoint.sh"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=30, check=False)


needs_sh = pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")


@needs_sh
@pytest.mark.parametrize(("service", "port"), sorted(SERVICE_PORTS.items()))
def test_entrypoint_starts_a_service_on_its_port(fake_bin: Path, service: str, port: int):
    expected = f"uvicorn {registry.app_factory(service)} --factory --host 0.0.0.0 --port {port} "
    by_arg = entrypoint(fake_bin, service)
    by_env = entrypoint(fake_bin, component=service)
    for result in (by_arg, by_env):
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(expected)
        assert "--lifespan on" in result.stdout


@needs_sh
def test_entrypoint_gateway_migrations_and_commands(fake_bin: Path):
    assert entrypoint(fake_bin, component="gateway").stdout == "python -m gateway\n"
    assert entrypoint(fake_bin, "console").stdout == "python -m console\n"
    assert entrypoint(fake_bin, component="console").stdout == "python -m console\n"
    assert entrypoint(fake_bin, "migrate-content").stdout == "promo migrate content\n"
    assert entrypoint(fake_bin, component="migrate-content").stdout == "promo migrate content\n"
    assert entrypoint(fake_bin, "echo", "hello").stdout == "hello\n"
    assert entrypoint(fake_bin).returncode == 64
    assert entrypoint(fake_bin, component="nope").returncode == 64


def test_healthcheck_probes_the_components_port(monkeypatch: pytest.MonkeyPatch):
    spec = importlib.util.spec_from_file_location("promo_healthcheck", DEPLOY / "healthcheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    urls: list[str] = []

    class Response:
        status = 200

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def urlopen(url: str, timeout: float) -> Response:
        urls.append(url)
        return Response()

    monkeypatch.setattr(module.urllib.request, "urlopen", urlopen)
    monkeypatch.delenv("GATEWAY_PORT", raising=False)
    monkeypatch.delenv("CONSOLE_PORT", raising=False)
    for component, port in [*FRONT_PORTS.items(), *SERVICE_PORTS.items()]:
        monkeypatch.setenv(COMPONENT, component)
        assert module.main() == 0
        assert urls.pop() == f"http://127.0.0.1:{port}/healthz"
    monkeypatch.setenv(COMPONENT, "migrate-content")
    assert module.main() == 0 and not urls  # a one-shot migration has nothing to probe
    monkeypatch.setenv(COMPONENT, "nope")
    assert module.main() == 1


# --- compose ------------------------------------------------------------------------------------

def test_compose_runs_content_and_gateway_from_our_image():
    components = {compose_component(name) for name in OUR_COMPOSE}
    assert {"gateway", "content", "migrate-content"} <= components
    for name in OUR_COMPOSE:
        check_component(compose_component(name))
        assert OUR_COMPOSE[name]["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (DEPLOY / OUR_COMPOSE[name]["build"]["context"] / "pyproject.toml").is_file()


def test_compose_env_names_are_settings_fields():
    for name, service in OUR_COMPOSE.items():
        unknown = set(compose_env(service)) - allowed_env(compose_component(name))
        assert not unknown, f"compose service {name}: unknown env {sorted(unknown)}"


def test_compose_is_production_with_a_required_secret():
    for name, service in OUR_COMPOSE.items():
        env = compose_env(service)
        assert env.get("ENV") == "prod", name
        assert DEV_JWT_SECRET not in (DEPLOY / "compose.yaml").read_text()
        if env.get("JWT_ALGORITHM", "HS256").upper() == "HS256":
            # only ever from the caller's environment / deploy/.env, and compose stops without it
            assert re.fullmatch(r"\$\{JWT_SECRET:\?[^}]+\}", env.get("JWT_SECRET", "")), name
        if "DATABASE_URL" in env:
            assert "{service}" in env["DATABASE_URL"]
            assert re.search(r"://[^:]+:\$\{\w+:\?[^}]+\}@", env["DATABASE_URL"]), "password from the env"


def test_compose_ports_and_upstreams():
    gateway = next(name for name in OUR_COMPOSE if compose_component(name) == "gateway")
    published = [str(p).split(":")[-1] for p in OUR_COMPOSE[gateway]["ports"]]
    assert published == [str(GATEWAY_PORT)]
    env = compose_env(OUR_COMPOSE[gateway])
    upstreams = json.loads(env["GATEWAY_UPSTREAMS"])
    assert set(json.loads(env["GATEWAY_SERVICES"])) == set(upstreams)
    by_component = {compose_component(name): name for name in OUR_COMPOSE}
    for service, url in upstreams.items():
        parts = urlsplit(url)
        assert parts.hostname == by_component[service], f"{service}: no compose service at {url}"
        assert parts.port == SERVICE_PORTS[service], f"{service}: {url} is not on its port"


def test_compose_startup_order():
    services = COMPOSE["services"]
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            target = services[dependency]
            if rule["condition"] == "service_healthy":
                has_check = "healthcheck" in target or ours(target)
                assert has_check and not target.get("healthcheck", {}).get("disable"), (name, dependency)
            if rule["condition"] == "service_completed_successfully":
                assert compose_component(dependency).startswith("migrate-"), (name, dependency)
    for name in OUR_COMPOSE:
        component = compose_component(name)
        if component in SERVICE_PORTS:
            rule = OUR_COMPOSE[name]["depends_on"]
            migrate = next(n for n in OUR_COMPOSE if compose_component(n) == f"migrate-{component}")
            assert rule[migrate]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", sorted(OUR_COMPOSE))
def test_compose_env_builds_production_settings(monkeypatch: pytest.MonkeyPatch, name: str):
    component = compose_component(name)
    env = {key: interpolate(value) for key, value in compose_env(OUR_COMPOSE[name]).items()}
    settings = build_settings(monkeypatch, component, env)
    assert settings.env is Env.PROD and not settings.is_dev
    assert settings.jwt_secret.get_secret_value() == COMPOSE_VARS["JWT_SECRET"]
    assert settings.kafka_enable_idempotence
    if isinstance(settings, ServiceSettings):
        assert settings.db_url == f"mysql+asyncmy://promo:promo-pw@mysql:3306/promo_{settings.service_name}"


# --- kubernetes ---------------------------------------------------------------------------------

def test_k8s_runs_content_and_gateway_from_our_image():
    assert {"content", "gateway"} <= set(deployments())
    for deployment in k8s("Deployment"):
        for container in pod_containers(deployment):
            check_component(k8s_component(container))
            repository = container["image"].rsplit(":", 1)[0]
            assert repository.split("/")[-1] == IMAGE, container["image"]


def test_k8s_env_names_are_settings_fields():
    common = {name.upper() for name in CommonSettings.model_fields}
    config = k8s_one("ConfigMap", "promo-config")
    assert set(config["data"]) <= common, "the shared ConfigMap goes to the gateway and the console too"
    for deployment in k8s("Deployment"):
        for container in pod_containers(deployment):
            unknown = set(container_env(container)) - allowed_env(k8s_component(container))
            assert not unknown, f"{container['name']}: unknown env {sorted(unknown)}"


def test_k8s_ports_match_shared_ports():
    for component, deployment in deployments().items():
        container = main_container(deployment)
        port = port_of(component)
        assert [p["containerPort"] for p in container["ports"]] == [port], component
        for probe in ("readinessProbe", "livenessProbe"):
            assert resolve_port(container, container[probe]["httpGet"]["port"]) == port, (component, probe)
        services = services_selecting(deployment)
        assert [svc["metadata"]["name"] for svc in services] == [component]
        for svc_port in services[0]["spec"]["ports"]:
            assert svc_port["port"] == port, component
            assert resolve_port(container, svc_port.get("targetPort", svc_port["port"])) == port, component


def test_k8s_probes_and_migrations():
    for component, deployment in deployments().items():
        container = main_container(deployment)
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert "resources" in container and "limits" in container["resources"]
        init = deployment["spec"]["template"]["spec"].get("initContainers", [])
        if component in FRONT_PORTS:  # no database: nothing to migrate, ready when it answers
            assert not init
            assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
            continue
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert [k8s_component(c) for c in init] == [f"migrate-{component}"]
        assert init[0]["image"] == container["image"]
        assert init[0]["envFrom"] == container["envFrom"], "migrate with the same DATABASE_URL"


def test_k8s_every_deployment_has_an_hpa():
    targets = {}
    for hpa in k8s("HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        assert (ref["apiVersion"], ref["kind"]) == ("apps/v1", "Deployment")
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        targets[ref["name"]] = hpa
    for component, deployment in deployments().items():
        if component == "console":  # static files: a fixed count, two for availability
            assert deployment["metadata"]["name"] not in targets
            assert deployment["spec"]["replicas"] >= 2
            continue
        assert deployment["metadata"]["name"] in targets
        assert "replicas" not in deployment["spec"], "the HPA owns the replica count"


def test_k8s_uses_rs256_and_no_dev_secret():
    config = k8s_one("ConfigMap", "promo-config")["data"]
    assert config["ENV"] == "prod"
    assert config["JWT_ALGORITHM"] == "RS256"
    secret = k8s_one("Secret", "promo-secrets")["stringData"]
    assert "PUBLIC KEY" in secret["JWT_PUBLIC_KEY"]
    assert "{service}" in secret["DATABASE_URL"]
    for path in K8S_FILES:
        assert DEV_JWT_SECRET not in path.read_text(), path


def test_k8s_gateway_routes_and_ingress():
    gateway = main_container(deployments()["gateway"])
    env = container_env(gateway)
    assert "DATABASE_URL" not in env, "the gateway gets only the Secret keys it needs"
    upstreams = json.loads(env["GATEWAY_UPSTREAMS"])
    assert set(json.loads(env["GATEWAY_SERVICES"])) == set(upstreams)
    assert set(upstreams) == set(deployments()) - set(FRONT_PORTS), "route every deployed service"
    for service, url in upstreams.items():
        parts = urlsplit(url)
        assert parts.hostname == services_selecting(deployments()[service])[0]["metadata"]["name"]
        assert parts.port == SERVICE_PORTS[service], f"{service}: {url} is not on its port"
    gateway_service = services_selecting(deployments()["gateway"])[0]["metadata"]["name"]
    paths = [path for ingress in k8s("Ingress") for rule in ingress["spec"]["rules"]
             for path in rule["http"]["paths"]]
    assert paths
    for path in paths:
        assert (path["path"], path["pathType"]) == ("/", "Prefix")
        assert path["backend"]["service"] == {"name": gateway_service, "port": {"number": GATEWAY_PORT}}


@pytest.mark.parametrize("component", [*FRONT_PORTS, *IMPLEMENTED_SERVICES])
def test_k8s_env_builds_production_settings(monkeypatch: pytest.MonkeyPatch, component: str):
    deployment = deployments()[component]
    for container in pod_containers(deployment):
        settings = build_settings(monkeypatch, k8s_component(container), container_env(container))
        assert settings.env is Env.PROD and not settings.is_dev
        assert settings.jwt_algorithm == "RS256" and settings.jwt_public_key.strip()
        assert settings.kafka_enable_idempotence
        if isinstance(settings, GatewaySettings):
            assert settings.trusted_proxy_hops == 1, "behind the Ingress"
            for service in settings.gateway_services:
                assert settings.upstream(service) == f"http://{service}:{SERVICE_PORTS[service]}"
        if isinstance(settings, ServiceSettings):
            assert settings.db_url.startswith("mysql+asyncmy://")
            assert settings.db_url.endswith(f"/promo_{settings.service_name}")
            assert settings.cors_origins, "the console's origin"
        if isinstance(settings, ConsoleSettings):
            assert not settings.is_dev, "no /dev/token"
            assert urlsplit(settings.console_login_url).scheme == "https"


def test_k8s_console_reaches_every_service_from_the_browser(monkeypatch: pytest.MonkeyPatch):
    """The console's page calls each service at CONSOLE_SERVICE_URLS (public, https: the mall's
    Ingress), and each service lets exactly the console's origins in (CORS), never `*`."""
    services = set(deployments()) - set(FRONT_PORTS)
    console = build_settings(monkeypatch, "console", container_env(main_container(deployments()["console"])))
    assert set(console.console_service_urls) == services, "an address for every deployed service"
    for service, url in console.console_service_urls.items():
        parts = urlsplit(url)
        assert parts.scheme == "https" and "." in parts.hostname, f"{service}: {url} is not a public https URL"
        assert not parts.hostname.endswith((".svc", ".local")) and parts.hostname != service, "browser-facing"
    origins = set()
    for service in services:
        env = container_env(main_container(deployments()[service]))
        origins.add(env["CORS_ORIGINS"])
        for origin in json.loads(env["CORS_ORIGINS"]):
            assert "*" not in origin and urlsplit(origin).scheme == "https", (service, origin)
    assert len(origins) == 1, "every service allows the same console"
    login = urlsplit(console.console_login_url)
    assert login.scheme == "https" and login.hostname, "production logs in at the identity provider"


# --- compose: the console ------------------------------------------------------------------------

def published(service: dict) -> dict[int, str]:
    """container port -> the host address it is published on (`[ip:]host:container`)."""
    found = {}
    for entry in service.get("ports", []):
        parts = str(entry).split(":")
        assert parts[-1] == parts[-2], f"{entry}: published on another port than its own"
        found[int(parts[-1])] = parts[0] if len(parts) == 3 else "0.0.0.0"
    return found


def test_compose_console_reaches_the_services_from_the_browser(monkeypatch: pytest.MonkeyPatch):
    by_component = {compose_component(name): name for name in OUR_COMPOSE}
    console = OUR_COMPOSE[by_component["console"]]
    assert published(console) == {CONSOLE_PORT: "127.0.0.1"}
    env = {key: interpolate(value) for key, value in compose_env(console).items()}
    settings = build_settings(monkeypatch, "console", env)
    assert set(settings.console_service_urls) == set(IMPLEMENTED_SERVICES)
    for service, url in settings.service_urls().items():
        parts = urlsplit(url)
        # the browser runs on the host: the service's port as compose publishes it there
        assert (parts.scheme, parts.hostname) == ("http", "localhost"), url
        assert published(OUR_COMPOSE[by_component[service]]) == {parts.port: "127.0.0.1"}, service
        cors = compose_env(OUR_COMPOSE[by_component[service]]).get("CORS_ORIGINS", "[]")
        assert json.loads(cors) == [f"http://localhost:{CONSOLE_PORT}"], service
