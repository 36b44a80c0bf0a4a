"""API gateway: forwards mobile-app traffic to the services (asyncio Protocols on uvloop,
httptools on both sides, keep-alive upstream pools), checks JWTs early and rate-limits per user /
per IP in Redis."""
