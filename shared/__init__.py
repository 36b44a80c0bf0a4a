"""The suite's plumbing: settings, database, auth, errors, money, clock, events, outbox,
consumer runner, Redis, app factory. No business rules here, and nothing imports a service."""
