"""Where each part of the suite listens (docs/architecture.md) and which services exist yet."""

GATEWAY_PORT = 8000
CONSOLE_PORT = 8010  # the operators' console (console/)

SERVICE_PORTS: dict[str, int] = {
    "coupon": 8001,
    "seckill": 8002,
    "groupbuy": 8003,
    "bargain": 8004,
    "points": 8005,
    "pricing": 8006,
    "voucher": 8007,
    "cart": 8008,
    "content": 8009,
}

# Services that have code under services/. `make run`, the gateway's default route table and
# the migration command use this list; each service's issue adds its name here.
IMPLEMENTED_SERVICES: tuple[str, ...] = ("coupon", "seckill", "groupbuy", "bargain", "points", "pricing", "voucher",
                                         "cart", "content")
