"""The gateway's token check: a bounded LRU of verified Authorization headers, each kept until
its token expires (plus the configured leeway). A flash crowd sends the same tokens over and
over; decoding one costs tens of microseconds, finding it here well under one."""

from __future__ import annotations

import base64
import json
import time
from collections import OrderedDict

import jwt
from jwt.algorithms import Algorithm, get_default_algorithms

from shared.auth import Principal, TokenVerifier

TOKENS_KEPT = 100_000


class TokenCache:
    def __init__(self, verifier: TokenVerifier, size: int = TOKENS_KEPT) -> None:
        prepare_keys_once(verifier.algorithm)
        self.verifier = verifier
        self.size = size
        self._known: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    def principal(self, authorization: str | None) -> Principal | None:
        """None without an Authorization header; InvalidToken (401) for a bad or expired one."""
        if not authorization:
            return None
        known = self._known.get(authorization)
        if known is not None:
            if known[1] > time.time():
                self._known.move_to_end(authorization)
                return known[0]
            del self._known[authorization]
        principal = self.verifier.verify_header(authorization)
        expires = _expiry(authorization.partition(" ")[2].strip()) + self.verifier.leeway
        self._known[authorization] = (principal, expires)
        if len(self._known) > self.size:
            self._known.popitem(last=False)
        return principal


def _expiry(token: str) -> float:
    """The `exp` claim of a token the verifier has just accepted (so it is well formed and has one)."""
    payload = token.split(".")[1]
    return float(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"])


KEYS_KEPT = 8
_prepared_once: set[str] = set()


def prepare_keys_once(name: str) -> None:
    """PyJWT prepares the key again on every decode (HS256: tries the secret as PEM, SSH, DER and
    JSON; RS256: parses the PEM), about half of what checking a token never seen costs. In this
    process the algorithm `name` is registered again (PyJWT's public register_algorithm) as the
    same class whose prepare_key remembers its result per key; the result is the same object."""
    if name in _prepared_once:
        return
    default = get_default_algorithms()[name]

    class KeyPreparedOnce(type(default)):
        prepared: dict = {}

        def prepare_key(self, key):
            try:
                return self.prepared[key]
            except (KeyError, TypeError):  # not seen yet, or not hashable
                found = super().prepare_key(key)  # raises for a key unfit for the algorithm
                if len(self.prepared) < KEYS_KEPT and isinstance(key, str | bytes):
                    self.prepared[key] = found
                return found

    algorithm: Algorithm = KeyPreparedOnce(default.hash_alg)
    jwt.unregister_algorithm(name)
    jwt.register_algorithm(name, algorithm)
    _prepared_once.add(name)
