"""Gateway settings: the route table, timeouts and rate limits (env, or `.env`)."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from shared.ports import GATEWAY_PORT, IMPLEMENTED_SERVICES, SERVICE_PORTS
from shared.redis import is_cluster_url
from shared.settings import CommonSettings


class Bucket(BaseModel):
    rate: float = Field(gt=0, description="tokens added per second")
    burst: int = Field(ge=1, description="bucket size")


class RouteLimit(BaseModel):
    """A stricter limit for one path prefix, on top of the default per-user / per-IP ones."""

    prefix: str
    methods: list[str] = []  # empty: every method
    per_user: Bucket | None = None
    per_ip: Bucket | None = None


class GatewaySettings(CommonSettings):
    gateway_host: str = "0.0.0.0"
    gateway_port: int = GATEWAY_PORT

    # Route table: /app-api/<svc>/** and /merchant-api/<svc>/** go to <svc>; /admin-api/** only
    # when gateway_forward_admin is on; /internal/** never.
    gateway_services: list[str] = list(IMPLEMENTED_SERVICES)
    gateway_upstreams: dict[str, str] = {}  # {"content": "http://content:8009"}; default 127.0.0.1:<port>
    gateway_forward_admin: bool = False
    # may be called without a token (the services still check what each endpoint needs)
    gateway_public_prefixes: list[str] = ["/app-api/content/", "/app-api/coupon/templates", "/app-api/pricing/",
                                          "/app-api/seckill/slots", "/app-api/seckill/activities",
                                          "/app-api/groupbuy/activities", "/app-api/groupbuy/groups",
                                          "/app-api/bargain/activities", "/app-api/bargain/records/",
                                          "/app-api/points/activities",
                                          "/app-api/voucher/stores/nearby", "/app-api/voucher/products/",
                                          "/app-api/cart"]

    gateway_timeout_seconds: float = 10.0
    gateway_route_timeouts: dict[str, float] = {}  # {"/app-api/pricing/": 3.0}: longest prefix wins
    gateway_get_retries: int = 1  # GET/HEAD retried on connection errors only
    gateway_max_body_bytes: int = 1_048_576
    gateway_max_header_bytes: int = 32_768  # request line and headers; beyond: 431
    gateway_pool_size: int = 512  # connections per service, per worker
    gateway_upstream_idle_seconds: float = Field(default=4.0, gt=0)  # below the services' keep-alive (uvicorn: 5 s)
    gateway_client_timeout_seconds: float = Field(default=30.0, gt=0)  # to send a whole request; to read on
    gateway_keepalive_seconds: float = Field(default=75.0, gt=0)  # an idle client connection is closed after this
    # Processes, each with its own event loop, all listening on the port (SO_REUSEPORT): one per
    # CPU core by default (0).
    gateway_workers: int = Field(default=0, ge=0, le=256)

    rate_limit_enabled: bool = True
    rate_limit_timeout_ms: int = Field(default=100, ge=1, le=5000)  # a request waits at most this for Redis
    rate_limit_retry_seconds: float = Field(default=1.0, gt=0)  # after a failure, ask Redis again after this
    # Redis Cluster: one script call per hash tag (a script cannot span slots); one server: one call.
    # On by itself when REDIS_URL names a cluster.
    rate_limit_cluster_safe: bool = False
    rate_limit_user: Bucket = Bucket(rate=20, burst=40)
    rate_limit_ip: Bucket = Bucket(rate=50, burst=100)
    # A flash crowd grabbing stock: each buyer and each address gets a small, strict bucket.
    rate_limit_routes: list[RouteLimit] = [
        RouteLimit(prefix="/app-api/seckill/reservations", methods=["POST"], per_user=Bucket(rate=1, burst=3),
                   per_ip=Bucket(rate=20, burst=40)),
    ]
    # Behind N proxies that each append to X-Forwarded-For, the client is the N-th entry from the
    # right (entries further left are whatever the client sent). 0: the TCP peer is the client.
    trusted_proxy_hops: int = Field(default=0, ge=0, le=10)

    @model_validator(mode="after")
    def cluster_safe_on_a_cluster(self) -> GatewaySettings:
        if is_cluster_url(self.redis_url):
            self.rate_limit_cluster_safe = True
        return self

    def upstream(self, service: str) -> str:
        return self.gateway_upstreams.get(service) or f"http://127.0.0.1:{SERVICE_PORTS[service]}"
