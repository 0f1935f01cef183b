"""The answer cache's keys, versions and ETag matching (server/web/answers.py)."""

from server.config import Settings
from server.web import answers
from server.web.answers import Answer, Answers
from store.enums import Role

READER = Role.READER

QUERY = "query Q($a: Int, $b: Int) { members(first: $a) { nodes { slug } } }"
JSON = "application/json"


def made(**settings) -> Answers:
    return Answers(Settings(**settings), sdl="type Query { members: [String] }")


def test_the_key_is_the_same_for_the_same_request_however_its_variables_are_written():
    cache = made()
    ordered = cache.key({"query": QUERY, "variables": {"a": 1, "b": 2}}, JSON, READER)
    shuffled = cache.key({"query": QUERY, "variables": {"b": 2, "a": 1}}, JSON, READER)
    assert ordered == shuffled
    bare = cache.key({"query": QUERY}, JSON, READER)
    assert bare == cache.key({"query": QUERY, "variables": {}}, JSON, READER)
    assert cache.key({"query": QUERY, "variables": {"a": 2, "b": 1}}, JSON, READER) != ordered


def test_each_role_has_answers_of_its_own():
    cache = made()
    keys = {cache.key({"query": QUERY}, JSON, role) for role in Role}
    assert len(keys) == len(Role)


def test_the_key_changes_with_the_hub_that_answers():
    params = {"query": QUERY}
    hub = made().key(params, JSON, READER)
    assert hub != made(default_page_size=10).key(params, JSON, READER)
    assert hub != Answers(Settings(), sdl="type Query { x: Int }").key(params, JSON, READER)


def test_a_newer_data_version_drops_what_older_ones_kept_and_an_older_one_keeps_nothing():
    cache = made()
    cache.keep("k", 1, Answer(b"one", 200))
    assert cache.get("k", 1) == Answer(b"one", 200)

    assert cache.get("k", 2) is None  # version 2 seen: version 1's answers are gone
    cache.keep("k", 1, Answer(b"late", 200))  # a request that read version 1 finishes late
    assert cache.get("k", 1) is None and cache.get("k", 2) is None


def test_the_cache_holds_no_more_than_its_bytes():
    cache = made(answer_cache_bytes=16 * 1024, answer_cache_entries=1000)
    for number in range(100):
        cache.keep(f"k{number}", 1, Answer(b"x" * 500, 200))
    kept = [number for number in range(100) if cache.get(f"k{number}", 1) is not None]
    assert 10 <= len(kept) < 100 and kept[-1] == 99  # the newest stay
    assert cache.get("k0", 1) is None


def test_nothing_is_kept_with_no_bytes_for_it():
    cache = made(answer_cache_bytes=0)
    cache.keep("k", 1, Answer(b"{}", 200))
    assert cache.get("k", 1) is None


def test_if_none_match_is_compared_weakly_alone_or_in_a_list():
    tag = answers.etag("abc", 7)
    assert tag == 'W/"7-abc"'
    assert answers.matches(tag, tag)
    assert answers.matches('"7-abc"', tag)
    assert answers.matches('W/"1-x", W/"7-abc"', tag)
    assert not answers.matches('W/"8-abc"', tag)
    assert not answers.matches("*", tag)
    assert not answers.matches(None, tag)
