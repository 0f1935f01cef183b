"""Query limits, and the parse and validation caches that keep them cheap."""

from strawberry.extensions.validation_cache import _get_validate_cache

DEEP = '{ member(slug: "kaiserslautern") { ' + "parent { " * 14 + "slug" + " }" * 15 + " }"
ALIASES = "{ " + " ".join(f"a{i}: __typename" for i in range(40)) + " }"


async def test_too_deep_and_too_many_aliases_are_refused_every_time(client):
    for _ in range(2):  # the second time the validation comes from the cache
        deep = await client.errors(DEEP)
        assert "exceeds maximum operation depth" in deep[0]["message"]
        aliases = await client.errors(ALIASES)
        assert "aliases" in aliases[0]["message"]


async def test_a_repeated_query_is_validated_once(client):
    cache = _get_validate_cache(1024)
    query = "{ alliance { slug foundedOn } }"
    await client.data(query)
    hits = cache.cache_info().hits
    await client.data(query)
    await client.data(query)
    assert cache.cache_info().hits == hits + 2
