"""The seckill functions that open and commit their own transactions.

Everywhere else (service.py) use cases only flush, and the request's session (or the consumer
runner's) commits. These cannot: what they do outside MySQL must follow a commit, or happen
between transactions:

- admin.py: slot and activity writes, then the per-process catalog forgotten and the stock
  loaded into (or removed from) Redis, after the commit;
- reconcile.py: Redis derived from MySQL (warm-up, and reconciliation: a drift seen twice is
  reloaded);
- reservations.py: the crowd path, Redis first, then MySQL through the writer;
- writer.py: the coalesced MySQL writes of the reservations Redis let through (one transaction
  per batch, then one per reservation when a check fails);
- orders.py: a reservation's life by order id (hold, commit, release, expiry): one conditional
  update in MySQL, committed, then Redis follows;
- payments.py: a payment after the reservation gave its stock back (taken again or refused);
- repair.py: a user's count in Redis checked against a fresh MySQL read, and repaired.
"""
