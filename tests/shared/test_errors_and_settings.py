import pytest
from pydantic import ValidationError

from shared.errors import Conflict, NotFound, negotiate_locale
from shared.settings import DEV_JWT_SECRET, CommonSettings


@pytest.mark.parametrize("header, locale", [
    (None, "zh-CN"), ("", "zh-CN"), ("en", "en"), ("en-US,en;q=0.9", "en"), ("zh-TW", "zh-CN"),
    ("fr-FR, en;q=0.5, zh;q=0.8", "zh-CN"), ("fr", "zh-CN"), ("en;q=0, zh;q=0.1", "zh-CN"),
])
def test_locale_negotiation(header, locale):
    assert negotiate_locale(header) == locale


def test_error_messages_are_formatted_from_details():
    class GoneError(NotFound):
        code = "THING_GONE"
        messages = {"en": "Thing {id} is gone", "zh-CN": "{id} 不见了"}

    error = GoneError(id=7)
    assert error.status == 404
    assert error.body("en") == {"error": {"code": "THING_GONE", "message": "Thing 7 is gone", "details": {"id": 7}}}
    assert error.body("zh-CN")["error"]["message"] == "7 不见了"
    assert Conflict().body("en")["error"]["code"] == "CONFLICT"


def test_dev_secret_refused_outside_dev(monkeypatch):
    monkeypatch.delenv("JWT_SECRET", raising=False)
    with pytest.raises(ValidationError, match="dev JWT secret is refused"):
        CommonSettings(_env_file=None, env="prod")
    assert CommonSettings(_env_file=None, env="dev").jwt_secret.get_secret_value() == DEV_JWT_SECRET
    assert CommonSettings(_env_file=None, env="test").is_dev


def test_production_needs_a_strong_secret_or_a_public_key():
    with pytest.raises(ValidationError, match="at least 32"):
        CommonSettings(_env_file=None, env="prod", jwt_secret="short")
    CommonSettings(_env_file=None, env="prod", jwt_secret="x" * 40)
    with pytest.raises(ValidationError, match="JWT_PUBLIC_KEY"):
        CommonSettings(_env_file=None, env="prod", jwt_algorithm="RS256")
    with pytest.raises(ValidationError, match="HS256 or RS256"):
        CommonSettings(_env_file=None, env="dev", jwt_algorithm="none")


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("ENV", "prod")
    monkeypatch.setenv("JWT_SECRET", "y" * 48)
    monkeypatch.setenv("KAFKA_ENABLE_IDEMPOTENCE", "false")
    settings = CommonSettings(_env_file=None)
    assert settings.env == "prod" and not settings.kafka_enable_idempotence
