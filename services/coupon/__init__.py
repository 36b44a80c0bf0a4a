"""Coupon service (port 8001): templates, issued coupons, codes, matching and order holds; see README.md."""
