"""The closed vocabularies of the domain (docs/domain.md). Stored as their lowercase values."""

from enum import StrEnum


class EntityType(StrEnum):
    ALLIANCE = "alliance"
    MEMBER = "member"
    MEMBERSHIP_PERIOD = "membership_period"
    ORGANISATION = "organisation"
    PERSON = "person"
    POST = "post"
    PARTNERSHIP = "partnership"
    EVENT = "event"


class MemberKind(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    REGION = "region"
    CITY_NETWORK = "city_network"


class MembershipStatus(StrEnum):
    APPLICANT = "applicant"
    OBSERVER = "observer"
    GUEST = "guest"
    MEMBER = "member"
    FORMER = "former"


class OrganisationKind(StrEnum):
    COMPANY = "company"
    ECONOMIC_DEVELOPMENT_AGENCY = "economic_development_agency"
    UTILITY = "utility"
    RESEARCH_INSTITUTION = "research_institution"
    RESEARCH_ALLIANCE = "research_alliance"
    ASSOCIATION = "association"
    GOVERNMENT = "government"
    SECRETARIAT = "secretariat"
    OTHER = "other"


class PartnershipKind(StrEnum):
    TWINNING = "twinning"
    COOPERATION_AGREEMENT = "cooperation_agreement"
    MEMORANDUM = "memorandum"
    TRADE = "trade"
    RESEARCH = "research"
    INVESTMENT = "investment"
    OTHER = "other"


class PartnershipStatus(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    ENDED = "ended"


class EventKind(StrEnum):
    PLENARY = "plenary"
    ACCESSION_CEREMONY = "accession_ceremony"
    DELEGATION_VISIT = "delegation_visit"
    TRADE_FAIR = "trade_fair"
    MEETING = "meeting"
    OTHER = "other"


class EventStatus(StrEnum):
    REQUESTED = "requested"
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"


class NameKind(StrEnum):
    OFFICIAL = "official"
    SHORT = "short"
    ALIAS = "alias"
    FORMER = "former"
    TRANSLITERATION = "transliteration"


class ChangeAction(StrEnum):
    CREATED = "created"  # also a deleted record that came back
    UPDATED = "updated"
    DELETED = "deleted"


class Role(StrEnum):
    """What an API key may do (docs/api.md, "Keys and roles"); each role may do all that the
    roles before it may."""

    READER = "reader"
    PARTNER = "partner"
    OPERATOR = "operator"

    def may(self, needed: "Role") -> bool:
        """Whether this role may do what `needed` may."""
        order = list(Role)
        return order.index(self) >= order.index(needed)
