"""Events, their participants and whom they acted for (docs/domain.md)."""
