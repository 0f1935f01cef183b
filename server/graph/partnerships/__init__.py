"""Partnerships between members or organisations, and their parties (docs/domain.md)."""
