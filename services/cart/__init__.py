"""Cart service (port 8008): device and member carts, merge on login, the priced cart page; see README.md."""
