"""The baseline: a bare FastAPI app served by the same uvicorn command line as the services.
It answers any GET path, so the gateway and nginx can also be measured in front of it: with a
backend this fast, what the proxy itself costs is what shows."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/{path:path}")
async def hello(path: str) -> dict[str, str]:
    return {"hello": "world"}
