"""Alliances, their members and the periods of membership (docs/domain.md)."""
