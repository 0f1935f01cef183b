"""The closed vocabularies of the domain (DOMAIN.md). Stored as their lowercase values."""

from enum import Enum


class EntityType(str, Enum):
    ALLIANCE = "alliance"
    MEMBER = "member"
    MEMBERSHIP_PERIOD = "membership_period"
    ORGANISATION = "organisation"
    PERSON = "person"
    POST = "post"
    PARTNERSHIP = "partnership"
    EVENT = "event"


class MemberKind(str, Enum):
    CITY = "city"
    DISTRICT = "district"
    REGION = "region"
    CITY_NETWORK = "city_network"


class MembershipStatus(str, Enum):
    APPLICANT = "applicant"
    OBSERVER = "observer"
    GUEST = "guest"
    MEMBER = "member"
    FORMER = "former"


class OrganisationKind(str, Enum):
    COMPANY = "company"
    ECONOMIC_DEVELOPMENT_AGENCY = "economic_development_agency"
    UTILITY = "utility"
    RESEARCH_INSTITUTION = "research_institution"
    RESEARCH_ALLIANCE = "research_alliance"
    ASSOCIATION = "association"
    GOVERNMENT = "government"
    SECRETARIAT = "secretariat"
    OTHER = "other"


class PartnershipKind(str, Enum):
    TWINNING = "twinning"
    COOPERATION_AGREEMENT = "cooperation_agreement"
    MEMORANDUM = "memorandum"
    TRADE = "trade"
    RESEARCH = "research"
    INVESTMENT = "investment"
    OTHER = "other"


class PartnershipStatus(str, Enum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    ENDED = "ended"


class EventKind(str, Enum):
    PLENARY = "plenary"
    ACCESSION_CEREMONY = "accession_ceremony"
    DELEGATION_VISIT = "delegation_visit"
    TRADE_FAIR = "trade_fair"
    MEETING = "meeting"
    OTHER = "other"


class EventStatus(str, Enum):
    REQUESTED = "requested"
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"


class NameKind(str, Enum):
    OFFICIAL = "official"
    SHORT = "short"
    ALIAS = "alias"
    FORMER = "former"
    TRANSLITERATION = "transliteration"
