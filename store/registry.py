"""The one list of the hub's tables, the item types feeds carry, and the feed formats.

Every other module takes its table handles from here (`registry.MEMBER.c.slug`) rather than
aliasing `tables.Member.__table__` again, so a table, a type or a format is added in one place.
"""

from sqlalchemy import Table

from . import feeds, keys, persisted, tables

# The records of the graph (docs/domain.md).
ALLIANCE: Table = tables.Alliance.__table__
SECRETARIAT: Table = tables.AllianceSecretariat.__table__
MEMBER: Table = tables.Member.__table__
PERIOD: Table = tables.MembershipPeriod.__table__
ORGANISATION: Table = tables.Organisation.__table__
PERSON: Table = tables.Person.__table__
POST: Table = tables.Post.__table__
PARTNERSHIP: Table = tables.Partnership.__table__
PARTY: Table = tables.PartnershipParty.__table__
EVENT: Table = tables.Event.__table__
PARTICIPANT: Table = tables.EventParticipant.__table__
IDENTIFIER: Table = tables.Identifier.__table__
SOURCE: Table = tables.Source.__table__
# The one row whose number moves with every commit that changes the graph (store/versions.py).
DATA_VERSION: Table = tables.DataVersion.__table__
# Every record created, updated or deleted, in commit order (store/versions.py).
CHANGE: Table = tables.Change.__table__

# The sync's own tables (docs/feeds.md).
FEED: Table = feeds.Feed.__table__
RUN: Table = feeds.SyncRun.__table__
ISSUE: Table = feeds.SyncIssue.__table__
FEED_ITEM: Table = feeds.FeedItem.__table__
LOCKED: Table = feeds.LockedField.__table__

# Who may call the API (docs/api.md, "Keys and roles").
KEY: Table = keys.KEY
# The operations an allowlisted hub runs (docs/api.md, "Persisted queries").
PERSISTED: Table = persisted.PERSISTED

# What a feed item can be, and the table its record lives in.
RECORD_TABLES: dict[str, Table] = {
    "alliance": ALLIANCE,
    "member": MEMBER,
    "organisation": ORGANISATION,
    "person": PERSON,
    "post": POST,
    "partnership": PARTNERSHIP,
    "event": EVENT,
}
ITEM_TYPES: tuple[str, ...] = tuple(RECORD_TABLES)

# Item types whose item also carries rows of a child table (periods, parties, participants),
# with the column that points back at the record.
CHILD_TABLES: dict[str, tuple[Table, str]] = {
    "member": (PERIOD, "member_id"),
    "partnership": (PARTY, "partnership_id"),
    "event": (PARTICIPANT, "event_id"),
}

FEED_FORMATS: tuple[str, ...] = tuple(f.value for f in feeds.FeedFormat)
