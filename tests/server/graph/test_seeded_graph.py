"""The seeded ISA through the API: the README's nested query returns the seeded facts."""

from tests.readme import assert_kaiserslautern, readme_query


async def test_readme_query_returns_the_seeded_facts(client):
    assert_kaiserslautern(await client.data(readme_query()))
