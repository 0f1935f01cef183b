"""The operator API (docs/api.md, "Operating the hub"): feeds, their runs and quarantined
items, and the mutations that manage feeds, trigger syncs and lock fields. Every field here is
for `operator` keys only and reads the sync's own state, whose answers are never kept
(`access.OPERATOR_ONLY`)."""
