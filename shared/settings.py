"""Settings shared by every service and the gateway, read from the environment (or `.env`).

Each service subclasses `ServiceSettings` and sets `service_name`. Nothing reads settings at
import time: `create_app(settings)` receives them, so tests can build apps with other values.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import ClassVar

from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Refused unless ENV is dev or test (see `check_secrets`).
DEV_JWT_SECRET = "promo-dev-secret-change-me-0123456789abcdef"


class Env(StrEnum):
    DEV = "dev"
    TEST = "test"
    PROD = "prod"


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    env: Env = Env.PROD
    log_level: str = "INFO"
    log_json: bool = True

    # One server (redis://, rediss://) or a Redis Cluster: redis+cluster://host:port[,host:port...]
    # (rediss+cluster:// with TLS), see shared/redis.py make_redis
    redis_url: str = "redis://127.0.0.1:6379/0"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Real Kafka: on. Tansu (the dev/test broker) rejects the idempotent producer, so
    # `make run` and the tests turn it off; the consumers' inbox makes duplicates harmless.
    kafka_enable_idempotence: bool = True

    jwt_algorithm: str = "HS256"
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_public_key: str = ""  # PEM, for RS256 (production)
    jwt_issuer: str = ""  # checked when set
    jwt_audience: str = ""  # checked when set; tokens with an `aud` are accepted either way when unset
    jwt_leeway_seconds: int = 30

    business_timezone: str = "Asia/Shanghai"
    default_locale: str = "zh-CN"

    @property
    def is_dev(self) -> bool:
        return self.env in (Env.DEV, Env.TEST)

    @model_validator(mode="after")
    def check_secrets(self) -> CommonSettings:
        alg = self.jwt_algorithm.upper()
        if alg not in ("HS256", "RS256"):
            raise ValueError(f"JWT_ALGORITHM must be HS256 or RS256, not {self.jwt_algorithm!r}")
        if alg == "RS256" and not self.jwt_public_key.strip():
            raise ValueError("JWT_ALGORITHM=RS256 needs JWT_PUBLIC_KEY (PEM)")
        if alg == "HS256" and not self.is_dev:
            secret = self.jwt_secret.get_secret_value()
            if secret == DEV_JWT_SECRET:
                raise ValueError("the default dev JWT secret is refused unless ENV=dev or ENV=test")
            if len(secret) < 32:
                raise ValueError("JWT_SECRET must be at least 32 characters outside dev/test")
        return self


class ServiceSettings(CommonSettings):
    service_name: ClassVar[str] = ""

    # May hold `{service}`, e.g. mysql+asyncmy://root@127.0.0.1:3306/promo_{service}
    database_url: str = "sqlite+aiosqlite:///var/{service}.db"
    database_pool_size: int = 10
    database_echo: bool = False
    max_body_bytes: int = 1_048_576  # larger request bodies get 413, as at the gateway
    # Browser origins allowed to call the service directly (the operators' console), e.g.
    # ["https://console.mall.example"]; none by default.
    cors_origins: list[str] = []

    outbox_poll_seconds: float = 0.5
    outbox_batch_size: int = 100
    outbox_retention_hours: int = 72
    consumer_group: str = ""  # default: promo-<service>
    consumer_max_attempts: int = 3

    @field_validator("cors_origins")
    @classmethod
    def check_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+", origin):
                raise ValueError(f"CORS_ORIGINS: {origin!r} is not an origin (scheme://host[:port], no path, no *)")
        return origins

    @property
    def db_url(self) -> str:
        return self.database_url.replace("{service}", self.service_name)

    @property
    def kafka_group_id(self) -> str:
        return self.consumer_group or f"promo-{self.service_name}"
