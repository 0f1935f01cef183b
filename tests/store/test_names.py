import pytest

from store import names

KAISERSLAUTERN = [
    {"value": "Kaiserslautern", "lang": "de", "kind": "official"},
    {"value": "Barbarossastadt", "lang": "de", "kind": "alias"},
    {"value": "凯泽斯劳滕", "lang": "zh-Hans", "kind": "official"},
]
FOSHAN = [
    {"value": "佛山", "lang": "zh-Hans", "kind": "official"},
    {"value": "Fatshan", "lang": "en", "kind": "former"},
    {"value": "Foshan", "lang": "zh-Latn-pinyin", "kind": "transliteration"},
]


def test_asked_language_first_and_official_before_alias():
    assert names.resolve(KAISERSLAUTERN, "de", "de") == "Kaiserslautern"
    assert names.resolve(KAISERSLAUTERN, "zh-Hans", "de") == "凯泽斯劳滕"


def test_language_ranges_match_by_prefix_both_ways():
    assert names.resolve(KAISERSLAUTERN, "zh", "de") == "凯泽斯劳滕"
    assert names.resolve(KAISERSLAUTERN, "zh-Hans-CN", "de") == "凯泽斯劳滕"
    assert names.resolve(KAISERSLAUTERN, "DE-at", "en") == "Kaiserslautern"


def test_fallback_chain_own_language_then_english_then_any():
    assert names.resolve(KAISERSLAUTERN, "fr", "de") == "Kaiserslautern"
    assert names.resolve(FOSHAN, "fr", "xx") == "佛山"  # no own, no current English: any
    only_english = [{"value": "Liuzhou", "lang": "en", "kind": "official"}]
    assert names.resolve(only_english, "de", "zh-Hans") == "Liuzhou"


def test_former_names_only_when_nothing_else():
    assert names.resolve(FOSHAN, "en", "zh-Hans") == "佛山"
    assert names.resolve([FOSHAN[1]], "de", "de") == "Fatshan"
    assert names.resolve([], "de", "de") is None


def test_fold_and_search_text():
    assert names.fold("Köln") == "koln" and names.fold("RÜSSELSHEIM") == "russelsheim"
    text = names.search_text(KAISERSLAUTERN)
    assert "barbarossastadt" in text and "凯泽斯劳滕" in text


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Kaiserslautern", "kaiserslautern"),  # ASCII: lowered, nothing else
        ("Straße", "strasse"),  # casefold
        ("Ｆｒａｎｋｆｕｒｔ", "frankfurt"),  # full-width forms, NFKD
        ("Bra\u0308unlingen", "braunlingen"),  # an already decomposed umlaut
        ("İzmir", "izmir"),
        ("𝐁onn\U0001d167", "bonn"),  # a mark outside the Basic Multilingual Plane
        ("凯泽斯劳滕", "凯泽斯劳滕"),
    ],
)
def test_fold_drops_every_combining_mark_and_folds_case_and_width(text, folded):
    assert names.fold(text) == folded
