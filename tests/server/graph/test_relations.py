"""Relations answer the same whether a connection prefetched them or a loader fetched them."""

from sqlalchemy import insert, select

from server.graph import relations
from store import seed, tables

from ..conftest import Client

THROUGH_CONNECTION = """
{
  members(filter: {slug: {eq: "kaiserslautern"}}) {
    edges {
      node {
        ...Posts
        ... on Named { slug }
        organisations(first: 10) {
          nodes {
            slug
            boss: posts { label person { slug posts { label } } }
            parent { slug }
            ... on Organisation { member { slug } }
            ... on Entity { sources { note } }
          }
        }
      }
    }
  }
}
fragment Posts on Member { posts { label person { slug } } }
"""
ONE_BY_ONE = """
query($id: ID!) {
  node(id: $id) {
    ... on Organisation {
      slug
      boss: posts { label person { slug posts { label } } }
      parent { slug }
      member { slug }
      sources { note }
    }
  }
}
"""
ORGANISATION_IDS = """
{ member(slug: "kaiserslautern") { organisations(first: 10) { nodes { id slug } } } }
"""


async def test_prefetched_and_loaded_relations_agree(client):
    data = await client.data(THROUGH_CONNECTION)
    member = data["members"]["edges"][0]["node"]
    assert member["slug"] == "kaiserslautern"
    assert member["posts"] == [{"label": "Oberbürgermeister", "person": {"slug": "klaus-weichel"}}]
    prefetched = {o["slug"]: o for o in member["organisations"]["nodes"]}
    ids = await client.data(ORGANISATION_IDS)
    for node in ids["member"]["organisations"]["nodes"]:
        loaded = (await client.data(ONE_BY_ONE, {"id": node["id"]}))["node"]
        assert prefetched[node["slug"]] == loaded
    office = prefetched["wfk-internationalisierungsbuero"]
    assert office["parent"] == {"slug": "wfk-kaiserslautern"}
    assert office["boss"][0]["person"] == {"slug": "nico-au", "posts": [{"label": "Projektleiter"}]}


def test_relations_are_found_by_graphql_name():
    from server.graph.organisations.types import Organisation
    from server.graph.people.types import Post

    assert set(relations.relations_of(Post)) >= {"person", "organisation", "member", "sources"}
    assert set(relations.relations_of(Organisation)) >= {"posts", "parent", "subsidiaries"}


async def test_secretariats_through_their_link_table(databases):
    database = await databases.create()
    await seed.seed(database.engine)
    async with database.engine.begin() as conn:
        isa = await conn.scalar(select(tables.Alliance.id))
        wfk = await conn.scalar(
            select(tables.Organisation.id).where(tables.Organisation.slug == "wfk-kaiserslautern")
        )
        await conn.execute(
            insert(tables.AllianceSecretariat).values(alliance_id=isa, organisation_id=wfk)
        )
    data = await Client(database, database.settings()).data(
        "{ alliances { nodes { slug secretariats { slug } } } }"
    )
    assert data["alliances"]["nodes"] == [
        {"slug": "isa", "secretariats": [{"slug": "wfk-kaiserslautern"}]}
    ]
