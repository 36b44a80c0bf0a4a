"""`promo`: the suite's command line (dev tokens, migrations, demo data, events, `make run`)."""
