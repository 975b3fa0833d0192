"""Pricing rules and a shopping cart."""
