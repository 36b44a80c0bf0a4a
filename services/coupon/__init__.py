"""Coupon service: templates, issued coupons, codes (ARCHITECTURE.md §2, port 8001). In progress (issue 3)."""
