"""The generated `alliance-feed/1` feed: `FeedWriter` makes realistic items (members with
German and Chinese names and identifiers, organisations, persons and their posts, references
only backwards), `write_feed` writes them to a file as one document and `check_feed` reads the
file back with the sync's own parser.

Over 300 lines because `FeedWriter` is one generator: every item builder draws from the same
seeded random stream and the same lists of earlier items (the targets of references), so the
same seed gives the same feed byte for byte; splitting the builders apart would scatter that
shared state without making any of them shorter.
"""

import datetime as dt
import random
from collections import Counter
from pathlib import Path

from sync_bench.words import (
    DE_FIRST,
    DE_LAST,
    DE_PREFIXES,
    DE_QUALIFIERS,
    DE_ROOTS,
    DE_STEMS,
    SECTORS,
    TOPICS,
    UMLAUTS,
    ZH_BUSINESS,
    ZH_GIVEN,
    ZH_PLACE,
    ZH_SUFFIXES,
    ZH_SURNAMES,
)


class FeedWriter:
    """Writes a realistic `alliance-feed/1` document, item by item, references only backwards."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.members: list[str] = []  # item ids, in feed order
        self.regions: list[str] = []
        self.organisations: list[str] = []
        self.info: dict[str, tuple[str, str, str]] = {}  # item id -> (lang, name, romanised)
        self.counters: Counter[str] = Counter()
        self.german_names: Counter[str] = Counter()

    # -- small pieces --

    def serial(self, name: str) -> int:
        self.counters[name] += 1
        return self.counters[name]

    def timestamp(self) -> str:
        start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        moment = start + dt.timedelta(seconds=self.rng.randrange(0, 90_000_000))
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def partial_date(self, first: int = 1990, last: int = 2025) -> str:
        year = self.rng.randint(first, last)
        shape = self.rng.random()
        if shape < 0.4:
            return f"{year}"
        if shape < 0.7:
            return f"{year}-{self.rng.randint(1, 12):02d}"
        return f"{year}-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"

    def wikidata(self) -> dict:
        # Unique per record: an identifier names one record, a repeated one would be a match.
        return {"scheme": "wikidata", "value": f"Q{1_000_003 + 7 * self.serial('wikidata')}"}

    def membership(self) -> list[dict]:
        if self.rng.random() > 0.85:
            return []
        status = self.rng.choices(
            ("member", "observer", "applicant", "guest", "former"), (70, 10, 8, 5, 7)
        )[0]
        period = {"alliance": "isa", "status": status, "start_date": self.partial_date(2005, 2020)}
        if status == "former":
            period["end_date"] = str(self.rng.randint(2021, 2025))
        return [period]

    # -- items --

    def alliance(self) -> dict:
        return {
            "type": "alliance",
            "id": "isa",
            "updated_at": "2026-11-20T10:00:00Z",
            "data": {
                "names": [
                    {"value": "Internationale Städteallianz", "lang": "de", "kind": "official"},
                    {"value": "国际城市联盟", "lang": "zh-Hans", "kind": "official"},
                    {"value": "International City Alliance", "lang": "en", "kind": "official"},
                    {"value": "ISA", "lang": "en", "kind": "short"},
                ],
                "default_lang": "en",
                "founded_on": "2005-06",
                "website": "https://alliance.example.org",
                "identifiers": [self.wikidata()],
            },
        }

    def german_member(self) -> dict:
        rng = self.rng
        name = rng.choice(DE_ROOTS) + rng.choice(DE_STEMS)
        if rng.random() < 0.45:
            prefix = rng.choice(DE_PREFIXES)
            name = prefix + (name if prefix.endswith(" ") else name.lower())
        if rng.random() < 0.4:
            name += rng.choice(DE_QUALIFIERS)
        self.german_names[name] += 1
        n = self.serial("ags")
        ags = f"{1 + n % 16:02d}{n // 16:06d}"
        kind = rng.choices(("city", "district", "region", "city_network"), (80, 12, 6, 2))[0]
        names = [{"value": name, "lang": "de", "kind": "official"}]
        if rng.random() < 0.3:
            chinese = "".join(
                rng.choice("凯泽斯劳滕巴特海姆堡贝格多夫莱因施瓦本林明慕尼黑")
                for _ in range(rng.randint(3, 5))
            )
            names.append({"value": chinese, "lang": "zh-Hans", "kind": "official"})
        if rng.random() < 0.1:
            names.append({"value": name.split(" ")[-1].upper()[:3], "lang": "de", "kind": "short"})
        data = {
            "kind": kind,
            "country": "DE",
            "names": names,
            "default_lang": "de",
            "latitude": round(rng.uniform(47.3, 55.0), 5),
            "longitude": round(rng.uniform(5.9, 15.0), 5),
            "population": int(rng.lognormvariate(9.5, 1.3)),
            "identifiers": [self.wikidata(), {"scheme": "ags", "value": ags}],
        }
        if rng.random() < 0.5:
            data["identifiers"].append(
                {"scheme": "geonames", "value": str(2_800_000 + self.serial("geonames"))}
            )
        memberships = self.membership()
        if memberships:
            data["memberships"] = memberships
        if kind == "district" and self.regions and rng.random() < 0.5:
            data["parent"] = rng.choice(self.regions)
        if rng.random() < 0.3:
            data["sources"] = [{"url": f"https://www.statistikportal.de/gemeinde/{ags}"}]
        item_id = f"de-{ags}"
        roman = name.translate(UMLAUTS).lower()
        return self._member(item_id, kind, ("de", name, roman), data)

    def chinese_member(self) -> dict:
        rng = self.rng
        chars = rng.sample(list(ZH_PLACE), rng.choice((2, 2, 2, 3)))
        suffix, english, kind, _ = rng.choices(ZH_SUFFIXES, [s[3] for s in ZH_SUFFIXES])[0]
        if rng.random() < 0.04:
            suffix, english, kind = "省", "Province", "region"
        zh = "".join(chars) + suffix
        pinyin = "".join(ZH_PLACE[c] for c in chars).capitalize()
        n = self.serial("gbt2260")
        code = f"{11 + n % 55:02d}{n // 55 % 100:02d}{n // 5500:02d}"
        data = {
            "kind": kind,
            "country": "CN",
            "names": [
                {"value": zh, "lang": "zh-Hans", "kind": "official"},
                {"value": pinyin, "lang": "zh-Latn-pinyin", "kind": "transliteration"},
            ],
            "default_lang": "zh-Hans",
            "latitude": round(rng.uniform(20.0, 45.0), 5),
            "longitude": round(rng.uniform(100.0, 122.0), 5),
            "population": int(rng.lognormvariate(12.5, 1.0)),
            "identifiers": [self.wikidata(), {"scheme": "gbt2260", "value": code}],
        }
        if rng.random() < 0.5:
            data["names"].append({"value": f"{pinyin} {english}", "lang": "en", "kind": "official"})
        memberships = self.membership()
        if memberships:
            data["memberships"] = memberships
        if kind == "district" and self.regions and rng.random() < 0.5:
            data["parent"] = rng.choice(self.regions)
        return self._member(f"cn-{code}", kind, ("zh", zh, pinyin.lower()), data)

    def _member(self, item_id: str, kind: str, info: tuple, data: dict) -> dict:
        self.members.append(item_id)
        if kind == "region":
            self.regions.append(item_id)
        self.info[item_id] = info
        return {"type": "member", "id": item_id, "updated_at": self.timestamp(), "data": data}

    def organisation(self) -> dict:
        rng = self.rng
        member = rng.choice(self.members)
        lang, city, roman = self.info[member]
        item_id = f"org-{self.serial('organisation'):06d}"
        if lang == "de":
            surname, other = rng.sample(DE_LAST, 2)
            kind, name, sectors = rng.choice(
                (
                    (
                        "economic_development_agency",
                        f"Wirtschaftsförderungsgesellschaft {city} mbH",
                        [],
                    ),
                    ("utility", f"Stadtwerke {city} GmbH", ["renewable energy"]),
                    ("company", f"{surname} Maschinenbau GmbH", ["Maschinenbau", "automotive"]),
                    ("company", f"{surname} & {other} Software AG", ["software"]),
                    ("research_institution", f"Hochschule {city}", ["education"]),
                    ("research_institution", f"Institut für {rng.choice(TOPICS)} {city}", []),
                    ("association", f"Industrie- und Handelskammer {city}", []),
                    ("government", f"Stadtverwaltung {city}", []),
                )
            )
            names = [{"value": name, "lang": "de", "kind": "official"}]
            if kind == "economic_development_agency":
                names.append({"value": f"WFG {city.split(' ')[0]}", "lang": "de", "kind": "short"})
            data = {"kind": kind, "names": names, "default_lang": "de", "member": member}
            if rng.random() < 0.4:
                register = f"HRB {self.serial('handelsregister')}"
                data["identifiers"] = [{"scheme": "handelsregister", "value": register}]
            domain = f"{name.split(' ')[0].translate(UMLAUTS).lower()}-{roman[:20]}.de"
        else:
            business = rng.choice(list(ZH_BUSINESS))
            kind, zh, english, sectors = rng.choice(
                (
                    (
                        "economic_development_agency",
                        f"{city}经济技术开发区管理委员会",
                        f"{roman.title()} Economic and Technological Development Zone "
                        "Administrative Committee",
                        [],
                    ),
                    (
                        "government",
                        f"{city}投资促进局",
                        f"{roman.title()} Investment Promotion Bureau",
                        [],
                    ),
                    (
                        "company",
                        f"{city}{business}有限公司",
                        f"{roman.title()} {ZH_BUSINESS[business]} Co., Ltd.",
                        [rng.choice(SECTORS)],
                    ),
                    (
                        "research_institution",
                        f"{city}大学",
                        f"{roman.title()} University",
                        ["education"],
                    ),
                    (
                        "utility",
                        f"{city}供电公司",
                        f"{roman.title()} Power Supply Company",
                        ["renewable energy"],
                    ),
                )
            )
            names = [
                {"value": zh, "lang": "zh-Hans", "kind": "official"},
                {"value": english, "lang": "en", "kind": "official"},
            ]
            default = "zh-Hans" if rng.random() < 0.6 else "en"
            data = {"kind": kind, "names": names, "default_lang": default, "member": member}
            if rng.random() < 0.5:
                check = rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY")
                uscc = f"91{self.serial('uscc'):014d}{check}X"
                data["identifiers"] = [{"scheme": "uscc", "value": uscc}]
            domain = f"{roman[:20]}-{item_id}.cn"
        if sectors:
            data["sectors"] = sectors + rng.sample(SECTORS, rng.randint(0, 2))
        if rng.random() < 0.6:
            data["website"] = f"https://www.{domain}"
        if self.organisations and rng.random() < 0.1:
            data["parent"] = rng.choice(self.organisations)
        if rng.random() < 0.2:
            data["founded_on"] = self.partial_date(1950, 2024)
        self.organisations.append(item_id)
        self.info[item_id] = (lang, names[0]["value"], roman)
        return {"type": "organisation", "id": item_id, "updated_at": self.timestamp(), "data": data}

    def person_and_post(self) -> tuple[dict, dict]:
        rng = self.rng
        at_member = not self.organisations or rng.random() < 0.2
        body = rng.choice(self.members) if at_member else rng.choice(self.organisations)
        lang = self.info[body][0]
        person_id = f"p-{self.serial('person'):06d}"
        if lang == "de":
            first, last = rng.choice(DE_FIRST), rng.choice(DE_LAST)
            data = {
                "name": f"{first} {last}",
                "sort_name": f"{last}, {first}",
                "default_lang": "de",
            }
            if rng.random() < 0.15:
                data["honorific_prefix"] = "Dr."
            if rng.random() < 0.5:
                email = f"{first[0]}.{last}".translate(UMLAUTS).lower()
                data["contact_details"] = [
                    {"type": "email", "value": f"{email}@example.de", "label": "Büro"}
                ]
            if at_member:
                label, role = rng.choice(
                    (
                        ("Oberbürgermeister", "lord_mayor"),
                        ("Bürgermeisterin", "mayor"),
                        ("Referent für Internationales", "international_officer"),
                    )
                )
            else:
                label, role = rng.choice(
                    (
                        ("Geschäftsführer", "managing_director"),
                        ("Projektleiterin", "project_lead"),
                        ("Präsident", "president"),
                        ("Leiterin Außenwirtschaft", "head_of_foreign_trade"),
                    )
                )
        else:
            surname = rng.choice(list(ZH_SURNAMES))
            given = "".join(rng.sample(list(ZH_GIVEN), rng.randint(1, 2)))
            pinyin = f"{ZH_SURNAMES[surname]} {''.join(ZH_GIVEN[c] for c in given).capitalize()}"
            data = {
                "names": [
                    {"value": surname + given, "lang": "zh-Hans", "kind": "official"},
                    {"value": pinyin, "lang": "zh-Latn-pinyin", "kind": "transliteration"},
                ],
                "default_lang": "zh-Hans",
            }
            if at_member:
                label, role = rng.choice(
                    (
                        ("市长", "mayor"),
                        ("副市长", "deputy_mayor"),
                        ("外事办主任", "international_officer"),
                    )
                )
            else:
                label, role = rng.choice(
                    (
                        ("总经理", "general_manager"),
                        ("主任", "director"),
                        ("局长", "director"),
                        ("校长", "president"),
                    )
                )
        person = {"type": "person", "id": person_id, "updated_at": self.timestamp(), "data": data}
        post_data = {
            "person": person_id,
            "member" if at_member else "organisation": body,
            "label": label,
            "role": role,
            "start_date": self.partial_date(2008, 2025),
        }
        post_id = f"post-{self.serial('post'):06d}"
        post = {"type": "post", "id": post_id, "updated_at": self.timestamp(), "data": post_data}
        return person, post

    def items(self, total: int):
        """`total` items: 1 alliance, ~16% organisations, ~7% persons each with a post, and
        members for the rest; the first 1% are members, so every reference has a target."""
        people = max(round(total * 0.07), 1)
        organisations = round(total * 0.16)
        members = total - 1 - organisations - 2 * people
        if members < 2:
            raise SystemExit("--items must be at least 20")
        head = max(members // 100, 1)
        kinds = (
            ["organisation"] * organisations + ["person"] * people + ["member"] * (members - head)
        )
        self.rng.shuffle(kinds)
        yield self.alliance()
        for kind in ["member"] * head + kinds:
            if kind == "member":
                yield self.german_member() if self.rng.random() < 0.5 else self.chinese_member()
            elif kind == "organisation":
                yield self.organisation()
            else:
                yield from self.person_and_post()


def write_feed(path: Path, total: int, seed: int) -> dict:
    """Writes the feed to `path`; returns what it holds."""
    import orjson

    writer = FeedWriter(random.Random(seed))
    types: Counter[str] = Counter()
    with open(path, "wb") as out:
        out.write(
            b'{"format": "alliance-feed/1", "publisher": {"id": "bench-publisher", '
            b'"name": "Benchmark Publisher", "url": "https://publisher.example.org"}, '
            b'"generated_at": "2026-11-25T08:00:00Z", "complete": true, '
            b'"cursor": "2026-11-25T08:00:00Z", "next": null, "items": [\n'
        )
        for n, item in enumerate(writer.items(total)):
            out.write((b",\n" if n else b"") + orjson.dumps(item))
            types[item["type"]] += 1
        out.write(b"\n]}\n")
    repeated = [count for count in writer.german_names.values() if count > 1]
    return {
        "items": sum(types.values()),
        "types": dict(types),
        "bytes": path.stat().st_size,
        "seed": seed,
        "german_names_repeated": len(repeated),
        "german_members_sharing_a_name": sum(repeated),
    }


CHANGED_AT = "2026-11-30T00:00:00Z"  # later than every generated `updated_at`


def _change(item: dict) -> None:
    """One field of the item's record changed, as a partner's next export would."""
    data = item["data"]
    if item["type"] == "member":
        data["population"] = (data.get("population") or 0) + 1
    elif item["type"] == "organisation":
        data["names"][0]["value"] += " (neu)"
    elif item["type"] == "person":  # a German person has a `name`, a Chinese one `names`
        data["honorific_prefix"] = "Prof. h.c."
    else:  # a post: not its label, which with its holders is what names it
        data["start_date"] = "2026-11"
    item["updated_at"] = CHANGED_AT


def write_changed(source: Path, path: Path, every: int = 10) -> int:
    """A copy of the feed `write_feed` wrote with every `every`-th item changed (the alliance
    never): how many changed. Read and written a line, one item, at a time."""
    import orjson

    changed = 0
    with open(source, "rb") as feed, open(path, "wb") as out:
        out.write(feed.readline())  # the envelope, up to `"items": [`
        for n, line in enumerate(feed):
            if line.startswith(b"]"):
                out.write(line)
                continue
            body = line.rstrip(b"\n")
            comma = body.endswith(b",")
            item = orjson.loads(body.rstrip(b","))
            if n % every == every - 1 and item["type"] != "alliance":
                _change(item)
                changed += 1
            out.write(orjson.dumps(item) + (b",\n" if comma else b"\n"))
    return changed


def check_feed(path: Path, expected: int) -> None:
    """Reads the feed with the sync's own parser; fails loudly on any item error."""
    from sync.formats import alliance_feed
    from sync.items import ItemError, checked

    errors, items = [], 0
    with open(path, "rb") as stream:
        parsed = alliance_feed.parse(stream)
        for entry in checked(parsed):
            if isinstance(entry, ItemError):
                errors.append(entry)
            else:
                items += 1
    if errors:
        shown = "\n".join(
            f"  {e.position} {e.item_type}:{e.item_id}: {e.message} | {e.snippet}"
            for e in errors[:10]
        )
        raise SystemExit(f"the generated feed has {len(errors)} invalid items:\n{shown}")
    if items != expected or parsed.meta.complete is not True:
        raise SystemExit(f"the generated feed read as {items} items, expected {expected}")
