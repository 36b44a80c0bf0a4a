"""HTTP routers of the content service: thin, one use case per route."""
