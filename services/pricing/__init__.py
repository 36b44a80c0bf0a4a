"""Pricing service: limited-time discounts, spend-and-save, the price calculator, checkout."""
