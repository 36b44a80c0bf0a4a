"""API gateway: forwards mobile-app traffic to the services (aiohttp server + pooled aiohttp
client), checks JWTs early and rate-limits per user / per IP in Redis."""
