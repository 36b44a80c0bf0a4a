"""The baseline: a bare FastAPI app served by the same uvicorn command line as the services."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
