"""Base classes of every service's request and response bodies."""

from pydantic import BaseModel, ConfigDict


class Input(BaseModel):
    """A request body: unknown fields are refused (a typo is a 422, not silently ignored)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Output(BaseModel):
    """A response body, read from ORM rows or plain objects."""

    model_config = ConfigDict(from_attributes=True)
