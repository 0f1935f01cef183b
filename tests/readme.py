"""The README's nested query, read from the README itself, and the facts it must return."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
WFK = "Wirtschaftsförderungsgesellschaft Stadt und Landkreis Kaiserslautern mbH"


def readme_query() -> str:
    """The first GraphQL block of the README: the query a newcomer pastes."""
    found = re.search(r"```graphql\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert found, "README.md has no ```graphql block"
    return found.group(1)


def assert_kaiserslautern(data: dict) -> None:
    """Kaiserslautern in German and Chinese, WFK's managing director and its office's lead."""
    member = data["member"]
    assert (member["de"], member["zh"]) == ("Kaiserslautern", "凯泽斯劳滕")
    facts = {
        (organisation["name"], post["label"], post["person"]["name"])
        for organisation in member["organisations"]["nodes"]
        for post in organisation["posts"]
    }
    assert facts == {
        (WFK, "Geschäftsführer", "Stefan Weiler"),
        ("Internationalisierungsbüro der WFK", "Projektleiter", "Nico Au"),
    }
