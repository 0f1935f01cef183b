"""Organisations: companies, agencies and offices, at home in a member (docs/domain.md)."""
