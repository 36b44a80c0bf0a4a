"""The error family of the suite and its one wire format.

    DomainError                 400  base; every business error derives from one of these
    ├── Unauthorized            401  no token, or a token that does not verify
    ├── Forbidden               403  authenticated but not allowed
    ├── NotFound                404
    ├── Conflict                409  state does not allow it (duplicate, in use, closed...)
    ├── RuleViolation           422  a business rule says no
    ├── TooManyRequests         429
    ├── UpstreamUnavailable     502  (gateway) the service could not be reached
    └── UpstreamTimeout         504  (gateway) the service did not answer in time

A service subclasses one of them with a stable upper-snake `code` and messages in zh-CN and
en; `{name}` placeholders are filled from the error's details:

    class CategoryNotFound(NotFound):
        code = "ARTICLE_CATEGORY_NOT_FOUND"
        messages = {"en": "Article category {id} does not exist", "zh-CN": "文章分类 {id} 不存在"}

    raise CategoryNotFound(id=7)

A reason inside a message is a `Reason`, declared once with a stable code and both texts, so a
zh-CN message never carries English (a detail that is a `Reason`, or a list of them, is rendered
in the caller's language, and its code is added beside it as `<name>_code(s)`):

    NO_SLOT = Reason("NO_SLOT", en="at least one time slot is needed", zh="至少选择一个时段")
    raise ActivityInvalid(reason=NO_SLOT)

Every error reaches the client as `{"error": {"code", "message", "details"}}`.
"""

from __future__ import annotations

from typing import Any, ClassVar

LOCALES = ("zh-CN", "en")


def negotiate_locale(accept_language: str | None, default: str = "zh-CN") -> str:
    """Pick zh-CN or en from an Accept-Language header, honouring q-values."""
    if not accept_language:
        return default
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        lang, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, position, lang.strip().lower()))
    for neg_q, _, lang in sorted(ranked):
        if neg_q >= 0:
            continue
        if lang.startswith("zh"):
            return "zh-CN"
        if lang.startswith("en"):
            return "en"
    return default


class Reason:
    """Words a person reads beside or inside another message, in zh-CN and en, under a stable
    upper-snake code. `{name}` placeholders are filled by `with_(name=...)`; a value that is a
    Reason itself is rendered in the same language."""

    __slots__ = ("code", "params", "texts")

    def __init__(self, code: str, *, en: str, zh: str, params: dict[str, Any] | None = None) -> None:
        self.code = code
        self.texts = {"en": en, "zh-CN": zh}
        self.params = params or {}

    def with_(self, **params: Any) -> Reason:
        return Reason(self.code, en=self.texts["en"], zh=self.texts["zh-CN"], params={**self.params, **params})

    def render(self, locale: str) -> str:
        template = self.texts.get(locale) or self.texts["en"]
        try:
            return template.format(**{name: localize(value, locale) for name, value in self.params.items()})
        except (KeyError, IndexError, ValueError):
            return template

    def __repr__(self) -> str:
        return f"Reason({self.code}, {self.params})"


SEPARATORS = {"zh-CN": "；"}  # other languages: "; "


def localize(value: Any, locale: str) -> Any:
    """A Reason as its text in `locale`, a list of Reasons as one text; anything else as is."""
    if isinstance(value, Reason):
        return value.render(locale)
    if isinstance(value, list | tuple) and value and all(isinstance(v, Reason) for v in value):
        return SEPARATORS.get(locale, "; ").join(v.render(locale) for v in value)
    return value


def localize_details(details: dict[str, Any], locale: str) -> dict[str, Any]:
    """Details as the client sees them: Reasons as text, their codes beside them."""
    out: dict[str, Any] = {}
    for name, value in details.items():
        if isinstance(value, Reason):
            out[name], out[f"{name}_code"] = value.render(locale), value.code
        elif isinstance(value, list | tuple) and value and all(isinstance(v, Reason) for v in value):
            out[name], out[f"{name}_codes"] = [v.render(locale) for v in value], [v.code for v in value]
        else:
            out[name] = value
    return out


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "BAD_REQUEST"
    messages: ClassVar[dict[str, str]] = {"en": "Bad request", "zh-CN": "请求错误"}

    def __init__(self, **details: Any) -> None:
        self.details = details
        super().__init__(self.message("en"))

    def message(self, locale: str) -> str:
        template = self.messages.get(locale) or self.messages["en"]
        try:
            return template.format(**{name: localize(value, locale) for name, value in self.details.items()})
        except (KeyError, IndexError, ValueError):
            return template

    def body(self, locale: str) -> dict[str, Any]:
        return error_body(self.code, self.message(locale), localize_details(self.details, locale))

    def headers(self) -> dict[str, str] | None:
        retry_after = self.details.get("retry_after")
        return None if retry_after is None else {"Retry-After": str(retry_after)}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


class Unauthorized(DomainError):
    status = 401
    code = "UNAUTHORIZED"
    messages = {"en": "Authentication required", "zh-CN": "请先登录"}


class InvalidToken(Unauthorized):
    code = "AUTH_INVALID_TOKEN"
    messages = {"en": "The access token is invalid or expired", "zh-CN": "访问令牌无效或已过期"}


class Forbidden(DomainError):
    status = 403
    code = "FORBIDDEN"
    messages = {"en": "You are not allowed to do this", "zh-CN": "没有权限执行此操作"}


class NotFound(DomainError):
    status = 404
    code = "NOT_FOUND"
    messages = {"en": "Not found", "zh-CN": "资源不存在"}


class Conflict(DomainError):
    status = 409
    code = "CONFLICT"
    messages = {"en": "The request conflicts with the current state", "zh-CN": "请求与当前状态冲突"}


class RuleViolation(DomainError):
    status = 422
    code = "RULE_VIOLATION"
    messages = {"en": "A business rule does not allow this", "zh-CN": "不符合业务规则"}


class ValidationFailed(DomainError):
    status = 422
    code = "VALIDATION_FAILED"
    messages = {"en": "The request is not valid", "zh-CN": "请求参数不正确"}


class TooManyRequests(DomainError):
    status = 429
    code = "TOO_MANY_REQUESTS"
    messages = {"en": "Too many requests, try again later", "zh-CN": "请求过于频繁，请稍后再试"}


class UpstreamUnavailable(DomainError):
    status = 502
    code = "UPSTREAM_UNAVAILABLE"
    messages = {"en": "Service {service} is unavailable", "zh-CN": "服务 {service} 暂不可用"}


class UpstreamTimeout(DomainError):
    status = 504
    code = "UPSTREAM_TIMEOUT"
    messages = {"en": "Service {service} did not answer in time", "zh-CN": "服务 {service} 响应超时"}


class InternalError(DomainError):
    status = 500
    code = "INTERNAL_ERROR"
    messages = {"en": "Internal error", "zh-CN": "服务器内部错误"}


class ServiceUnavailable(DomainError):
    status = 503
    code = "SERVICE_UNAVAILABLE"
    messages = {"en": "A dependency is unavailable, try again later", "zh-CN": "依赖服务暂不可用，请稍后再试"}


# Framework-level HTTP errors (unknown route, wrong method...) keep the same body.
HTTP_STATUS_CODES: dict[int, tuple[str, str, str]] = {
    400: ("BAD_REQUEST", "Bad request", "请求错误"),
    401: ("UNAUTHORIZED", "Authentication required", "请先登录"),
    403: ("FORBIDDEN", "You are not allowed to do this", "没有权限执行此操作"),
    404: ("NOT_FOUND", "Not found", "资源不存在"),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed", "不支持该请求方法"),
    413: ("PAYLOAD_TOO_LARGE", "Request body too large", "请求体过大"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type", "不支持的媒体类型"),
}


def http_error_body(status: int, locale: str) -> dict[str, Any]:
    code, en, zh = HTTP_STATUS_CODES.get(status, ("HTTP_ERROR", "HTTP error", "HTTP 错误"))
    return error_body(code, zh if locale == "zh-CN" else en)
