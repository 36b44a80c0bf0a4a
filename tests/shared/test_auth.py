import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.requests import Request

from shared.auth import InvalidDeviceId, Principal, Role, TokenVerifier, issue_token, optional_device_id
from shared.errors import InvalidToken
from shared.settings import CommonSettings


@pytest.fixture
def settings():
    return CommonSettings(_env_file=None, env="test")


def test_round_trip_of_each_role(settings):
    verifier = TokenVerifier(settings)
    assert verifier.verify(issue_token(settings, 42, Role.MEMBER)) == Principal("42", Role.MEMBER)
    merchant = verifier.verify(issue_token(settings, 7, Role.MERCHANT, business_id=3))
    assert merchant.business_id == 3 and merchant.user_id == 7
    assert verifier.verify(issue_token(settings, "order-service", Role.SERVICE)).subject == "order-service"


@pytest.mark.parametrize("claims", [
    {"sub": "1", "role": "member", "exp": int(time.time()) - 3600},  # expired
    {"sub": "1", "role": "root", "exp": int(time.time()) + 60},  # unknown role
    {"sub": "1", "role": "merchant", "exp": int(time.time()) + 60},  # merchant without business_id
    {"sub": "abc", "role": "member", "exp": int(time.time()) + 60},  # non-numeric user id
    {"role": "member", "exp": int(time.time()) + 60},  # no subject
    {"sub": "1", "role": "member"},  # no expiry
    {"sub": "²", "role": "member", "exp": int(time.time()) + 60},  # a digit, but not one int() takes
    {"sub": "1", "role": "merchant", "business_id": True, "exp": int(time.time()) + 60},
    {"sub": "1", "role": "merchant", "business_id": 0, "exp": int(time.time()) + 60},
    {"sub": "1", "role": "merchant", "business_id": 2**63, "exp": int(time.time()) + 60},
    {"sub": "0", "role": "member", "exp": int(time.time()) + 60},  # ids start at 1
    {"sub": str(2**63), "role": "member", "exp": int(time.time()) + 60},  # above BIGINT
    {"sub": "9" * 40, "role": "admin", "exp": int(time.time()) + 60},
])
def test_bad_claims_are_invalid_tokens(settings, claims):
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")
    with pytest.raises(InvalidToken):
        TokenVerifier(settings).verify(token)


def test_the_largest_id_is_a_valid_subject(settings):
    assert TokenVerifier(settings).verify(issue_token(settings, 2**63 - 1, Role.MEMBER)).user_id == 2**63 - 1


def test_wrong_secret_and_alg_none_are_refused(settings):
    claims = {"sub": "1", "role": "member", "exp": int(time.time()) + 60}
    with pytest.raises(InvalidToken):
        TokenVerifier(settings).verify(jwt.encode(claims, "another-secret-of-enough-length-123456", algorithm="HS256"))
    with pytest.raises(InvalidToken):
        TokenVerifier(settings).verify(jwt.encode(claims, None, algorithm="none"))


def test_header_parsing(settings):
    verifier = TokenVerifier(settings)
    assert verifier.verify_header(None) is None
    with pytest.raises(InvalidToken):
        verifier.verify_header("Basic abc")
    with pytest.raises(InvalidToken):
        verifier.verify_header("Bearer ")


def test_rs256_verifies_with_the_public_key_only():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    settings = CommonSettings(_env_file=None, env="prod", jwt_algorithm="RS256", jwt_public_key=public,
                              jwt_issuer="mall-idp")
    claims = {"sub": "9", "role": "admin", "exp": int(time.time()) + 60, "iss": "mall-idp"}
    token = jwt.encode(claims, key, algorithm="RS256")
    assert TokenVerifier(settings).verify(token).role is Role.ADMIN
    with pytest.raises(InvalidToken):  # wrong issuer
        TokenVerifier(settings).verify(jwt.encode({**claims, "iss": "evil"}, key, algorithm="RS256"))
    with pytest.raises(InvalidToken):  # HS256 signed with the public key text (alg confusion)
        TokenVerifier(settings).verify(jwt.encode(claims, "x" * 64, algorithm="HS256"))
    with pytest.raises(RuntimeError):
        issue_token(settings, 1, Role.ADMIN)


def test_audience_is_accepted_when_unset_and_checked_when_set(settings):
    claims = {"sub": "1", "role": "member", "exp": int(time.time()) + 60, "aud": "mall-app"}
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")
    assert TokenVerifier(settings).verify(token).subject == "1"  # IdP tokens usually carry aud
    strict = CommonSettings(_env_file=None, env="test", jwt_audience="mall-app")
    assert TokenVerifier(strict).verify(token).subject == "1"
    assert TokenVerifier(strict).verify(issue_token(strict, 1, Role.MEMBER)).subject == "1"
    with pytest.raises(InvalidToken):
        TokenVerifier(strict).verify(jwt.encode({**claims, "aud": "other"}, settings.jwt_secret.get_secret_value(),
                                                algorithm="HS256"))
    with pytest.raises(InvalidToken):  # audience required once configured
        TokenVerifier(strict).verify(issue_token(settings, 1, Role.MEMBER))


def request_with(headers: dict[str, str]) -> Request:
    return Request({"type": "http", "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]})


def test_device_id_header_is_optional_and_validated():
    assert optional_device_id(request_with({})) is None
    assert optional_device_id(request_with({"X-Device-Id": "a1b2c3d4-e5f6"})) == "a1b2c3d4-e5f6"
    for bad in ("short", "x" * 65, "has space 123", "semi;colon12"):
        with pytest.raises(InvalidDeviceId):
            optional_device_id(request_with({"X-Device-Id": bad}))


def test_a_remembered_token_still_expires_and_a_forged_one_is_not_remembered():
    settings = CommonSettings(_env_file=None, env="test", jwt_leeway_seconds=0)
    verifier = TokenVerifier(settings)
    token = issue_token(settings, 42, Role.MEMBER, ttl_seconds=1)
    assert verifier.verify(token).user_id == 42 and verifier.verify(token).user_id == 42
    time.sleep(1.1)
    with pytest.raises(InvalidToken):
        verifier.verify(token)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for _ in range(2):
        with pytest.raises(InvalidToken):
            verifier.verify(forged)
