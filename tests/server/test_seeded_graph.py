"""The seeded ISA through the API: the README's nested query and every kind of edge."""

README_QUERY = """
query Kaiserslautern {
  member(slug: "kaiserslautern") {
    de: name(lang: "de")
    zh: name(lang: "zh-Hans")
    organisations(first: 10) {
      nodes { name posts { label person { name } } }
    }
  }
}
"""


async def test_readme_query_returns_the_seeded_facts(client):
    data = await client.data(README_QUERY)
    member = data["member"]
    assert member["de"] == "Kaiserslautern"
    assert member["zh"] == "凯泽斯劳滕"
    posts = {
        (o["name"], p["label"], p["person"]["name"])
        for o in member["organisations"]["nodes"]
        for p in o["posts"]
    }
    assert posts == {
        (
            "Wirtschaftsförderungsgesellschaft Stadt und Landkreis Kaiserslautern mbH",
            "Geschäftsführer",
            "Stefan Weiler",
        ),
        ("Internationalisierungsbüro der WFK", "Projektleiter", "Nico Au"),
    }
