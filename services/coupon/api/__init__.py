"""HTTP routers of the coupon service: thin, one use case per route."""
