"""People and the posts they hold in organisations or for members (docs/domain.md)."""
