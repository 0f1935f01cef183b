"""Global ids: every entity round-trips through node(id:) and nodes(ids:)."""

import base64

import pytest

from server.graph import ids

IDS = """
{
  alliance { id slug }
  member(slug: "kaiserslautern") {
    id memberships { id }
    organisations(first: 1) { nodes { id posts { id } } }
    events { nodes { id } }
  }
  person(slug: "stefan-weiler") { id }
}
"""
INTEGER_MAX = 2**31 - 1  # the largest id an INTEGER column holds on PostgreSQL
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Named { slug name }
    ... on Event { slug }
  }
}
"""


async def test_every_id_fetches_its_record(client):
    data = await client.data(IDS)
    member = data["member"]
    found = [
        data["alliance"]["id"],
        member["id"],
        member["memberships"][0]["id"],
        member["organisations"]["nodes"][0]["id"],
        member["events"]["nodes"][0]["id"],
        data["person"]["id"],
    ]
    types = []
    for global_id in found:
        node = (await client.data(NODE, {"id": global_id}))["node"]
        assert node["id"] == global_id
        types.append(node["__typename"])
    assert types == ["Alliance", "Member", "MembershipPeriod", "Organisation", "Event", "Person"]
    many = await client.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": found})
    assert [n["id"] for n in many["nodes"]] == found


async def test_unknown_records_are_null(client):
    assert (await client.data(NODE, {"id": ids.encode("Member", 999999)}))["node"] is None
    assert (await client.data(NODE, {"id": ids.encode("Member", INTEGER_MAX)}))["node"] is None


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "bad",
    [
        "not-an-id",
        "TWVtYmVyOng",
        "",
        ids.encode("Spaceship", 1),  # no such type
        ids.encode("Member", INTEGER_MAX + 1),  # beyond what an INTEGER id column holds
        ids.encode("Member", 0),
        _b64("Member:-1"),
        _b64("Member:+1"),
        _b64("Member:01"),
        _b64("Member:1 "),
        _b64("member:1"),
        "*" + ids.encode("Member", 1),  # base64 with a stray character
    ],
)
async def test_malformed_ids_are_refused(client, bad):
    for query, variables in ((NODE, {"id": bad}), (NODES, {"ids": [ids.encode("Member", 1), bad]})):
        errors = await client.errors(query, variables)
        assert errors[0]["extensions"]["code"] == "INVALID_ID", errors


async def test_too_many_ids_at_once(client):
    errors = await client.errors(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": [ids.encode("Member", i) for i in range(101)]},
    )
    assert errors[0]["extensions"]["code"] == "INVALID_ARGUMENT"
