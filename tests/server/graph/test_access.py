"""What each role may read (server/graph/access.py): people's contact details only for partner
and operator keys, refused whole to the others on either read path."""

import pytest
from sqlalchemy import update

from server.graph.compiled import FORBIDDEN, Compiled
from store import seed
from store.enums import Role
from store.registry import PERSON
from tests.server.conftest import Client

CONTACTS = [
    {"type": "email", "value": "s.weiler@example.org", "label": "Büro"},
    {"type": "voice", "value": "+49 631 00000", "note": "weekdays"},
]
ASK = '{ person(slug: "stefan-weiler") { slug contactDetails { type value label note } } }'
# The same field, asked from a fragment under a directive that leaves it out.
HIDDEN = """
query ($hide: Boolean = true) {
  people(first: 1) { nodes { ...Reach @skip(if: $hide) } }
}
fragment Reach on Person { contactDetails { value } }
"""


@pytest.fixture(scope="module")
async def client(databases) -> Client:
    database = await databases.create()
    await seed.seed(database.engine)
    async with database.engine.begin() as connection:
        await connection.execute(
            update(PERSON).where(PERSON.c.slug == "stefan-weiler").values(contact_details=CONTACTS)
        )
    return Client(database, database.settings())


@pytest.mark.parametrize("role", [Role.PARTNER, Role.OPERATOR])
async def test_partners_and_operators_read_contact_details(client, role):
    data = await client.data(ASK, role=role)
    assert data["person"]["contactDetails"] == [
        {"type": "email", "value": "s.weiler@example.org", "label": "Büro", "note": None},
        {"type": "voice", "value": "+49 631 00000", "label": None, "note": "weekdays"},
    ]


@pytest.mark.parametrize("query", [ASK, HIDDEN])
async def test_a_reader_asking_for_contact_details_is_refused_the_whole_operation(client, query):
    result = await client.execute(query, role=Role.READER)

    assert result.data is None
    [error] = [e.formatted for e in result.errors]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "partner" in error["message"]


async def test_a_reader_reads_the_rest_of_a_person(client):
    data = await client.data('{ person(slug: "stefan-weiler") { slug name } }', role=Role.READER)
    assert data["person"]["slug"] == "stefan-weiler"


async def test_the_compiled_path_refuses_what_the_resolvers_refuse_and_plans_per_role(client):
    public = '{ person(slug: "stefan-weiler") { slug name } }'
    await client.execute(ASK, role=Role.PARTNER)  # validated once, as a request would
    await client.execute(public, role=Role.READER)

    assert client.compiler.prepare(ASK, None, {}, Role.READER) is FORBIDDEN
    reader_plan = client.compiler.prepare(public, None, {}, Role.READER)
    partner_plan = client.compiler.prepare(public, None, {}, Role.PARTNER)
    assert isinstance(reader_plan, Compiled) and isinstance(partner_plan, Compiled)
    assert reader_plan.key != partner_plan.key
