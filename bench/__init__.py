"""`python -m bench` (what `make bench` runs): throughput and latency of a content read endpoint
directly, through the gateway and through nginx, next to a bare FastAPI app. See bench/README.md."""
