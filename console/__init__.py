"""The operators' console: a Vue app (console/web, built into console/web/dist) and the small
server that serves it with its runtime configuration (console/server.py)."""
