"""The GraphQL schema of the hub: a core every area shares, and one package per area.

An area (`members`, `organisations`, `people`, `partnerships`, `events`) holds its types, the
filter input, order and counts of its lists, and its root fields; each field's meaning (its
column, or the relation it follows) is declared there once, as data. Areas refer to each other's
types through `strawberry.lazy`, so imports run one way. `schema` composes the root `Query`.
"""
