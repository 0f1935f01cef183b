"""Benchmark: syncing one large `alliance-feed/1` feed into SQLite and into PostgreSQL.

Generates a feed of `--items` items (100,000) once: mostly members (German and Chinese cities
with their names and identifiers), organisations that refer to members by item id, persons and
the posts they hold. Checks every item with the feed's own parser, serves the file from a small
HTTP server of its own on loopback (with an ETag; it answers 304 to `If-None-Match`), then for
each database: migrates a fresh one, saves the feed and runs `sync.runs.run` in a child process
three times -- the first sync, the same feed again answered 304, and the same feed again with
the stored validators cleared (a 200 with the same content). Prints one table (and saves it as
JSON under `bench/results/`): seconds, items/s, the child's peak memory and CPU, SQL statements,
and the run's counts. Everything it starts it stops, by process id; the database it made it
drops and the temporary folder it removes (unless `--keep`). See bench/README.md.
"""

import argparse
import asyncio
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import repo_path  # noqa: F401  (bench/ is on the path when run; this puts the repository there)
from scratch_db import create_postgres, drop_postgres

from tests import processes

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
BIN = Path(sys.executable).parent
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
SLUG = "bench-large"
FEED_PATH = "/feed.json"
CHILD = "_sync"  # argv[1] of the child process that runs one sync
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# --- the feed --------------------------------------------------------------------------------

DE_ROOTS = (
    "Lichten Schön Rosen Eichen Linden Buchen Tannen Wolfs Frank Kaisers Königs Mühl Weiß "
    "Schwarz Grün Rot Sonnen Falken Adler Birken Erlen Hasel Stein Wasser Ehren Fried Marien "
    "Ludwigs Karls Wilhelms Oster Sulz Lauter Kirch Alten Neuen Hoh Blanken Bruch Dürr Ebers Frei "
    "Geis Hammel Heil Helm Hild Ilm Jagst Kloster Kron Land Lauf Lohr Mark Meers Mittel Nord "
    "Offen Otter Rems Ravens Rüdes Saal Salz Sieg Sonder Tauber Treis Vils Wald Wein Werder "
    "Wiesen Winter Wolfen Zell Süß Groß Schloss Bären Hirsch Fuchs Kranich Reichen Wendel"
).split()
DE_STEMS = (
    "berg burg feld hausen heim dorf stadt bach au ingen stein brück hagen wald rode kirchen "
    "furt hof weiler born beck büttel leben ried roda stedt tal wede werth zell"
).split()
DE_PREFIXES = ("Bad ", "Groß ", "Klein ", "Ober", "Nieder", "Unter", "Hohen", "Alt", "Neu")
DE_QUALIFIERS = (
    " am Main",
    " an der Lahn",
    " an der Donau",
    " am Rhein",
    " an der Elbe",
    " an der Oder",
    " im Odenwald",
    " im Schwarzwald",
    " in der Oberpfalz",
    " (Pfalz)",
    " (Westf.)",
    " (Saale)",
    " am Neckar",
    " an der Mosel",
    " bei Kassel",
    " bei München",
    " in Holstein",
    " am Harz",
    " im Allgäu",
    " an der Ilm",
)
DE_FIRST = (
    "Anna Maria Ursula Monika Petra Sabine Claudia Susanne Andrea Stefanie Julia Katharina Lena "
    "Laura Sophie Hannah Jürgen Klaus Stefan Michael Thomas Andreas Peter Wolfgang Frank Jörg "
    "Matthias Markus Tobias Florian Lukas Jonas Felix Günter Uwe Dieter Bernd Ralf Sven Björn"
).split()
DE_LAST = (
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch "
    "Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann "
    "Lange Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König "
    "Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Schubert Vogel "
    "Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann Franke Albrecht "
    "Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt Stein Jäger Otto "
    "Sommer Groß Seidel Heinrich Brandt Haas Schreiber Graf Schulte Dietrich Ziegler Kuhn Kühn "
    "Pohl Engel Horn Busch Bergmann Thomas Voigt Sauer Arnold Wolff Pfeiffer Weiler Wirtz"
).split()
ZH_PLACE = dict(
    zip(
        "东西南北新青长宁安平江河山海湖阳林华兴德福宝金明泰昌丰永定嘉和顺庆广清水石云龙凤黄白桂"
        "松合武汉成都苏杭温滨潍坊烟台淄博济惠鞍沙阜连鹤壁信义乌岳万",
        (
            "dong xi nan bei xin qing chang ning an ping jiang he shan hai hu yang lin hua xing de "
            "fu bao jin ming tai chang feng yong ding jia he shun qing guang qing shui shi yun "
            "long feng huang bai gui song he wu han cheng du su hang wen bin wei fang yan tai zi "
            "bo ji hui an sha fu lian he bi xin yi wu yue wan"
        ).split(),
        strict=True,
    )
)
ZH_SUFFIXES = (
    ("市", "City", "city", 6),
    ("区", "District", "district", 3),
    ("县", "County", "district", 2),
    ("镇", "Town", "city", 1),
)
ZH_SURNAMES = dict(
    zip(
        "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗",
        "Wang Li Zhang Liu Chen Yang Zhao Huang Zhou Wu Xu "
        "Sun Hu Zhu Gao Lin He Guo Ma Luo".split(),
        strict=True,
    )
)
ZH_GIVEN = dict(
    zip(
        "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文辉力鹏",
        (
            "wei fang na min jing li qiang lei jun yang yong yan jie juan tao ming chao xiu xia "
            "ping gang gui ying hua jian guo wen hui li peng"
        ).split(),
        strict=True,
    )
)
SECTORS = (
    "automotive",
    "software",
    "logistics",
    "mechanical engineering",
    "chemicals",
    "renewable energy",
    "medical technology",
    "tourism",
    "education",
    "agriculture",
    "Maschinenbau",
    "Kunststofftechnik",
    "新能源",
    "电子信息",
    "生物医药",
)
TOPICS = (
    "Werkstofftechnik",
    "Logistik",
    "Informatik",
    "Biotechnologie",
    "Energiesysteme",
    "Mikroelektronik",
    "Verfahrenstechnik",
    "Umweltforschung",
)
ZH_BUSINESS = dict(
    zip(
        ("科技", "电子", "机械", "物流", "医药", "新材料"),
        ("Technology", "Electronics", "Machinery", "Logistics", "Pharmaceutical", "New Materials"),
        strict=True,
    )
)
UMLAUTS = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "ß": "ss",
        " ": "",
        "-": "",
        ".": "",
        "(": "",
        ")": "",
        "&": "",
    }
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


def check_feed(path: Path, expected: int) -> None:
    """Reads the feed with the sync's own parser; fails loudly on any item error."""
    from sync.formats import alliance_feed
    from sync.items import ItemError

    errors, items = [], 0
    with open(path, "rb") as stream:
        parsed = alliance_feed.parse(stream)
        for entry in parsed:
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


# --- the feed server (its own process) -------------------------------------------------------

SERVER_SCRIPT = r'''
"""Serves one file at /feed.json with an ETag (its SHA-256) and Last-Modified; answers 304 to
If-None-Match naming that ETag (or, without If-None-Match, to an equal If-Modified-Since)."""
import email.utils, hashlib, http.server, os, shutil, sys

path, log_path = sys.argv[1], sys.argv[2]
digest = hashlib.sha256()
with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
        digest.update(block)
ETAG = '"%s"' % digest.hexdigest()[:32]
LAST_MODIFIED = email.utils.formatdate(os.stat(path).st_mtime, usegmt=True)
SIZE = os.path.getsize(path)
log = open(log_path, "a", buffering=1)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path.split("?", 1)[0] != "/feed.json":
            self.send_error(404)
            return
        inm, ims = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
        fresh = (
            inm is not None and (inm.strip() == "*" or ETAG in [t.strip() for t in inm.split(",")])
        ) or (inm is None and ims == LAST_MODIFIED)
        self.send_response(304 if fresh else 200)
        self.send_header("ETag", ETAG)
        self.send_header("Last-Modified", LAST_MODIFIED)
        if fresh:
            self.end_headers()
            return
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(SIZE))
        self.end_headers()
        with open(path, "rb") as f:
            shutil.copyfileobj(f, self.wfile, 1 << 20)

    def log_message(self, fmt, *args):
        log.write("%s %s\n" % (fmt % args, self.headers.get("If-None-Match") or "-"))


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], ETAG, flush=True)
server.serve_forever()
'''


def start_feed_server(folder: Path, feed: Path) -> tuple[subprocess.Popen, int, str]:
    script = folder / "serve_feed.py"
    script.write_text(SERVER_SCRIPT)
    process = subprocess.Popen(
        [sys.executable, str(script), str(feed), str(folder / "server.log")],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a Ctrl-C reaches only us; we stop it by pid
    )
    RUNNING.add(process)
    line = process.stdout.readline().split()
    if len(line) != 2:
        stop(process)
        raise SystemExit("the feed server did not start")
    return process, int(line[0]), line[1]


# --- processes ----------------------------------------------------------------------------------

RUNNING: set[subprocess.Popen] = set()


def stop(process: subprocess.Popen) -> None:
    """Stop a process this script started, by its pid (`tests/processes.py`)."""
    RUNNING.discard(process)
    processes.stop(process)


def peak_rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def postgres_cpu_ticks() -> dict[int, int]:
    """utime + stime of every local process named postgres (server and backends), by pid."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        name, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        if name.startswith("postgres"):
            parts = fields.split()
            found[int(entry.name)] = int(parts[11]) + int(parts[12])
    return found


# --- the child: one sync run -------------------------------------------------------------------


_SELECTED = re.compile(r"^SELECT .*? FROM ")
_VALUES = re.compile(r"^(INSERT INTO \S+) .*")
_SET = re.compile(r"^(UPDATE \S+ SET) .*? WHERE ")
_LISTS = re.compile(r"\((?:\$\d+|\?)(?:, (?:\$\d+|\?))*\)")


@functools.cache  # the same few dozen statements, hundreds of thousands of times
def statement_kind(sql: str) -> str:
    """A statement with its column lists and parameters left out, to add up time by kind."""
    sql = " ".join(sql.split())
    sql = _VALUES.sub(r"\1 …", _SET.sub(r"\1 … WHERE ", _SELECTED.sub("SELECT … FROM ", sql)))
    return _LISTS.sub("(…)", sql)[:160]


def child(url: str, slug: str) -> None:
    """Runs the feed once and prints the Outcome and the process's own figures as JSON; one
    JSON line per committed batch to stderr. Stopped by SIGTERM, it prints what it has."""
    import httpx
    from sqlalchemy import event

    from store.config import StoreSettings
    from store.db import create_engine
    from sync import runs

    sql: dict[str, list] = {}  # statement kind -> [count, seconds in the driver and database]
    totals = {"statements": 0}
    # Seconds with at least one statement in flight. Statements may overlap (the lease
    # heartbeat runs beside the batches), so this is less than the sum over kinds.
    waiting = {"in_flight": 0, "since": 0.0, "seconds": 0.0}

    def figures() -> dict:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "statements": totals["statements"],
            "sql": {kind: [n, round(s, 3)] for kind, (n, s) in sql.items()},
            "sql_waiting_s": round(waiting["seconds"], 3),
            "peak_rss_kib": usage.ru_maxrss,
            "cpu_s": usage.ru_utime + usage.ru_stime,
        }

    def stopped(*_) -> None:
        print(json.dumps({"interrupted": True, **figures()}), flush=True)
        os._exit(143)

    signal.signal(signal.SIGTERM, stopped)

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        now = conn.info["bench_started"] = time.perf_counter()
        if not waiting["in_flight"]:
            waiting["since"] = now
        waiting["in_flight"] += 1

    def after(conn, cursor, statement, parameters, context, executemany) -> None:
        now = time.perf_counter()
        took = now - conn.info.pop("bench_started")
        waiting["in_flight"] -= 1
        if not waiting["in_flight"]:
            waiting["seconds"] += now - waiting["since"]
        entry = sql.setdefault(statement_kind(statement), [0, 0.0])
        entry[0] += 1
        entry[1] += took
        totals["statements"] += 1

    async def go() -> dict:
        engine = create_engine(StoreSettings(database_url=url))
        event.listen(engine.sync_engine, "before_cursor_execute", before)
        event.listen(engine.sync_engine, "after_cursor_execute", after)
        started = time.perf_counter()

        def progress(counts) -> None:
            line = {"t": round(time.perf_counter() - started, 3), **totals}
            sys.stderr.write(json.dumps({**dataclasses.asdict(counts), **line}) + "\n")
            sys.stderr.flush()

        try:
            async with httpx.AsyncClient(trust_env=False) as client:
                outcome = await runs.run(
                    engine, slug, client, triggered_by="bench/sync_large.py", progress=progress
                )
            seconds = time.perf_counter() - started
        finally:
            await engine.dispose()
        return {"outcome": dataclasses.asdict(outcome), "seconds": seconds}

    result = asyncio.run(go())
    print(json.dumps(result | figures(), default=str))


def run_child(url: str, where: str, label: str, args, pg: bool, profile_to: Path | None) -> dict:
    """Runs `child` as its own process and watches it: peak memory (VmHWM), PostgreSQL's CPU,
    progress; stops it by pid after `--timeout` seconds."""
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), CHILD, url, SLUG],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,
    )
    RUNNING.add(process)
    spy = None
    if profile_to is not None:
        spy = subprocess.Popen(
            [
                str(BIN / "py-spy"),
                "record",
                "--pid",
                str(process.pid),
                "--rate",
                "100",
                "--format",
                "raw",
                "--nolineno",
                "--output",
                str(profile_to),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        RUNNING.add(spy)
    out: list[str] = []
    progress: list[dict] = []
    other: list[str] = []

    def read_stderr() -> None:
        for line in process.stderr:
            try:
                progress.append(json.loads(line))
            except ValueError:
                other.append(line.rstrip())

    readers = [
        threading.Thread(target=lambda: out.extend(process.stdout), daemon=True),
        threading.Thread(target=read_stderr, daemon=True),
    ]
    for reader in readers:
        reader.start()
    started = time.perf_counter()
    pg_first = postgres_cpu_ticks() if pg else {}
    pg_last = dict(pg_first)
    peak = 0
    shown = started
    timed_out = False
    while process.poll() is None:
        peak = max(peak, peak_rss_kib(process.pid) or 0)
        if pg:
            pg_last.update(postgres_cpu_ticks())
        now = time.perf_counter()
        if args.timeout and now - started > args.timeout:
            timed_out = True
            stop(process)
            break
        if now - shown >= 30 and progress:
            shown = now
            last = progress[-1]
            print(f"    {where}: {last['seen']:,} items in {last['t']:.0f} s", flush=True)
        time.sleep(0.1)
    wall = time.perf_counter() - started
    RUNNING.discard(process)
    if spy is not None:
        try:
            spy.wait(30)  # it ends when the process it samples ends
        except subprocess.TimeoutExpired:
            stop(spy)
        RUNNING.discard(spy)
    for reader in readers:
        reader.join(10)
    pg_cpu = (
        sum(ticks - pg_first.get(pid, 0) for pid, ticks in pg_last.items()) / CLOCK_TICKS
        if pg
        else None
    )
    row = {
        "case": label,
        "process_wall_s": round(wall, 2),
        "postgres_cpu_s": None if pg_cpu is None else round(pg_cpu, 1),
        "progress": progress,
        "timed_out": timed_out,
        "profiled": profile_to is not None,
    }
    if timed_out:
        # What the run had committed by its last batch: its counts, time and statements.
        last = progress[-1] if progress else {"t": wall, "statements": None}
        row |= {
            "status": f"timed out ({args.timeout:g} s)",
            "seconds": last["t"],
            "statements": last["statements"],
            "peak_mib": peak / 1024,
            "counts": {k: v for k, v in last.items() if k not in ("t", "statements")},
            "log": other[-20:],
        }
        try:  # what the process said when it was stopped: up to that moment, not the last batch
            said = json.loads(out[-1])
            row |= {
                "sql": said["sql"],
                "sql_waiting_s": said["sql_waiting_s"],
                "sql_window_s": round(wall, 2),
                "cpu_s": said["cpu_s"],
            }
        except (IndexError, ValueError, KeyError):
            pass
        return row
    try:
        result = json.loads(out[-1])
    except (IndexError, ValueError):
        tail = "\n".join(other[-30:])
        raise SystemExit(
            f"{where}: the sync process exited with {process.returncode}:\n{tail}"
        ) from None
    outcome = result["outcome"]
    row |= {
        "status": outcome["status"],
        "http_status": outcome["http_status"],
        "error": outcome["error"],
        "bytes": outcome["bytes"],
        "counts": outcome["counts"],
        "seconds": round(result["seconds"], 3),
        "statements": result["statements"],
        "cpu_s": round(result["cpu_s"], 1),
        "sql": result["sql"],
        "sql_waiting_s": result["sql_waiting_s"],
        "sql_window_s": round(result["seconds"], 3),
        # The process's own high-water mark; the polled one is the same figure seen from outside.
        "peak_mib": result["peak_rss_kib"] / 1024,
        "peak_mib_polled": peak / 1024,
        "log": other[-20:],
    }
    return row


def rates(progress: list[dict], total: int) -> dict | None:
    """items/s over the first and the last tenth of the run: equal for linear cost."""
    if len(progress) < 4 or total < 10:
        return None
    tenth = total / 10
    first = next((p for p in progress if p["seen"] >= tenth), None)
    late = [p for p in progress if p["seen"] <= total - tenth]
    if first is None or not late:
        return None
    last = progress[-1]
    end_rate = (last["seen"] - late[-1]["seen"]) / max(last["t"] - late[-1]["t"], 1e-9)
    return {"first_tenth": round(first["seen"] / first["t"]), "last_tenth": round(end_rate)}


def curve(progress: list[dict], total: int, steps: int = 10) -> str:
    """items/s over each tenth of the feed, as far as the run got: flat for linear cost."""
    shown, previous = [], {"seen": 0, "t": 0.0}
    for step in range(1, steps + 1):
        point = next((p for p in progress if p["seen"] >= total * step / steps), None)
        if point is None:  # the run stopped in this tenth: up to where it got
            point = progress[-1] if progress else previous
        if point["seen"] <= previous["seen"]:
            continue
        rate = (point["seen"] - previous["seen"]) / max(point["t"] - previous["t"], 1e-9)
        shown.append(f"to {point['seen']:,}: {rate:.0f}")
        previous = point
    return "; ".join(shown) or "-"


# --- the databases ------------------------------------------------------------------------------


async def _with_engine(url: str, work):
    from store.config import StoreSettings
    from store.db import create_engine

    engine = create_engine(StoreSettings(database_url=url))
    try:
        return await work(engine)
    finally:
        await engine.dispose()


async def prepare(url: str, feed_url: str) -> None:
    """Migrates the database and saves the feed."""
    from store import migrate
    from sync import config

    async def work(engine) -> None:
        await migrate.upgrade(engine)
        spec = config.spec(
            slug=SLUG,
            url=feed_url,
            format="alliance-feed/1",
            allow_private=True,  # the feed is on loopback
            max_bytes=2**31 - 1,  # the column is a 32-bit integer
            deadline=600,
            read_timeout=60,
        )
        await config.save(engine, spec)

    await _with_engine(url, work)


async def feed_validators(url: str) -> tuple[str | None, str | None]:
    from sqlalchemy import select

    from store.registry import FEED as table

    async def work(engine):
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    select(table.c.etag, table.c.last_modified).where(table.c.slug == SLUG)
                )
            ).one()
        return row.etag, row.last_modified

    return await _with_engine(url, work)


async def clear_validators(url: str) -> None:
    """Forget the stored ETag and Last-Modified, so the next fetch is a plain GET (a 200)."""
    from sqlalchemy import update

    from store.registry import FEED as table

    async def work(engine) -> None:
        async with engine.begin() as connection:
            await connection.execute(
                update(table).where(table.c.slug == SLUG).values(etag=None, last_modified=None)
            )

    await _with_engine(url, work)


async def database_facts(url: str, pg: bool) -> dict:
    from sqlalchemy import text

    async def work(engine) -> dict:
        async with engine.connect() as connection:
            if pg:
                return {
                    "version": await connection.scalar(text("SHOW server_version")),
                    "size_mib": round(
                        await connection.scalar(text("SELECT pg_database_size(current_database())"))
                        / 2**20,
                        1,
                    ),
                }
            return {"version": await connection.scalar(text("SELECT sqlite_version()"))}

    return await _with_engine(url, work)


# --- one database -------------------------------------------------------------------------------


def bench_database(name: str, url: str, feed_url: str, etag: str, total: int, args) -> list[dict]:
    pg = name == "postgresql"
    asyncio.run(prepare(url, feed_url))
    rows = []

    def measure(case: str) -> dict:
        profile = profile_path(name, case) if args.profile else None
        print(f"  {name}: {case} ...", flush=True)
        code = code_fingerprint()
        row = run_child(url, f"{name}, {case}", case, args, pg, profile)
        row |= {"database": name, "code": code}
        rows.append(row)
        counts = row.get("counts") or {}
        print(
            f"  {name}: {case}: {row['status']} in {row['seconds']:.2f} s, "
            f"seen {counts.get('seen', 0):,}, peak {row['peak_mib']:.0f} MiB",
            flush=True,
        )
        return row

    first = measure("first sync")
    first["rates"] = None if first["timed_out"] else rates(first["progress"], total)
    print(f"  {name}: items/s, by items done {curve(first['progress'], total)}")
    print_sql(first)
    if first["timed_out"]:
        print(
            f"  {name}: the first sync did not finish within --timeout {args.timeout:g} s; "
            "the cases after it are skipped"
        )
        first["problems"] = []
        return rows
    facts = asyncio.run(database_facts(url, pg))
    first["database_facts"] = facts
    if pg:
        print(f"  {name}: database size after the first sync {facts['size_mib']} MiB")
    problems = expect(first, "succeeded", created=total, quarantined=0, updated=0)
    stored = asyncio.run(feed_validators(url))
    if stored[0] != etag:
        problems.append(f"the stored ETag is {stored[0]!r}, the server's {etag!r}")

    measure("304 not modified")
    problems += expect(rows[-1], "not_modified", seen=0)
    if rows[-1].get("http_status") != 304:
        problems.append(f"304 case: HTTP {rows[-1].get('http_status')}")

    asyncio.run(clear_validators(url))
    measure("200 same content")
    problems += expect(rows[-1], "succeeded", unchanged=total, created=0, updated=0, deleted=0)
    if rows[-1].get("http_status") != 200:
        problems.append(f"200 case: HTTP {rows[-1].get('http_status')}")
    for row in rows:
        row["problems"] = problems if row is rows[0] else []
    for problem in problems:
        print(f"  {name}: PROBLEM: {problem}", file=sys.stderr)
    return rows


def expect(row: dict, status: str, **counts: int) -> list[str]:
    found = []
    if row["status"] != status:
        found.append(f"{row['case']}: status {row['status']} ({row.get('error')}), not {status}")
    for key, wanted in counts.items():
        got = (row.get("counts") or {}).get(key)
        if got != wanted:
            found.append(f"{row['case']}: {key} = {got}, expected {wanted}")
    return found


# --- output -------------------------------------------------------------------------------------


def cells_of(row: dict) -> list[str]:
    counts = row.get("counts") or {}
    seen = counts.get("seen", 0)
    seconds = row["seconds"]
    rate = f"{seen / seconds:,.0f}" if seen and seconds else "-"
    statements = row.get("statements")
    cpu = row.get("cpu_s")
    return [
        row["database"],
        row["case"] + (" *" if row.get("profiled") else ""),
        row["status"],
        f"{seconds:.2f}",
        rate,
        f"{row['peak_mib']:.0f}",
        "-" if cpu is None else f"{cpu:.1f}",
        "-" if row.get("postgres_cpu_s") is None else f"{row['postgres_cpu_s']:.1f}",
        "-" if statements is None else f"{statements:,}",
        "-" if not seen or statements is None else f"{statements / seen:.1f}",
        f"{counts.get('created', 0)}/{counts.get('updated', 0)}/{counts.get('unchanged', 0)}",
        str(counts.get("quarantined", 0)),
    ]


def print_sql(row: dict, top: int = 8) -> None:
    """Where the run's time went, by statement: time in the driver and the database (one round
    trip each), and what is left for Python between them."""
    if not row.get("sql"):
        return
    window, spent = row["sql_window_s"], row["sql_waiting_s"]
    print(
        f"    {window:.0f} s: {spent:.0f} s ({100 * spent / window:.0f}%) with a statement in "
        f"flight, {window - spent:.0f} s in Python between them; time by kind of statement:"
    )
    ranked = sorted(row["sql"].items(), key=lambda kind: -kind[1][1])
    for kind, (count, seconds) in ranked[:top]:
        print(
            f"    {100 * seconds / window:5.1f}%  {seconds:7.1f} s  {count:>8,} x "
            f"{1000 * seconds / count:7.3f} ms  {kind}"
        )


def print_table(rows: list[dict]) -> None:
    titles = [
        "database",
        "case",
        "status",
        "seconds",
        "items/s",
        "peak MiB",
        "cpu s",
        "pg cpu s",
        "statements",
        "stmts/item",
        "created/updated/unchanged",
        "quar.",
    ]
    lines = [titles] + [cells_of(row) for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(titles))]
    for n, line in enumerate(lines):
        print(
            "  ".join(
                c.ljust(w) if i < 3 else c.rjust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def profile_path(database: str, case: str) -> Path:
    return RESULTS / f"sync_large-profile-{database}-{case.split()[0]}.txt"


def print_profile(path: Path, top: int = 15) -> None:
    """Own time by function and by package from py-spy's raw output (`stack;...;leaf count`)."""
    if not path.exists():
        print(f"no profile at {path}")
        return
    own: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames = stack.split(";")
        own[frames[-1]] += int(count)
        by_package[package_of(frames[-1])] += int(count)
        for frame in set(frames):
            if "(sync/" in frame or "(store/" in frame:
                inclusive[frame] += int(count)
    samples = sum(own.values()) or 1
    # SQLAlchemy runs each statement in a greenlet; py-spy shows its stack without the frames
    # that awaited it, so project functions' inclusive shares leave that part out.
    in_greenlets = sum(
        int(line.rpartition(" ")[2])
        for line in path.read_text().splitlines()
        if line.startswith("Connection.execute (sqlalchemy/engine/base.py)")
    )
    print(f" py-spy, {samples} busy samples at 100 Hz ({path.relative_to(ROOT)})")
    print("top by own time:")
    for frame, count in own.most_common(top):
        print(f"  {100 * count / samples:5.1f}%  {frame}")
    print("own time by package:")
    for package, count in by_package.most_common(10):
        print(f"  {100 * count / samples:5.1f}%  {package}")
    print(
        f"project functions by inclusive time (not counting the {100 * in_greenlets / samples:.0f}%"
        " of samples inside SQLAlchemy's greenlets, whose callers py-spy cannot see):"
    )
    for frame, count in inclusive.most_common(top):
        print(f"  {100 * count / samples:5.1f}%  {frame}")


def package_of(frame: str) -> str:
    path = frame.rpartition("(")[2].rstrip(")")
    parts = path.split("/")
    if len(parts) == 1:
        return path
    package = "/".join(parts[:2]) if len(parts) > 2 else parts[0]
    return f"{package} (project)" if parts[0] in ("server", "store", "sync") else package


def code_fingerprint() -> str:
    """A hash of the code under test as it is on disk now (`sync/`, `store/`): each sync
    process imports it afresh, so a row whose fingerprint differs ran other code."""
    digest = hashlib.sha256()
    for path in sorted([*ROOT.glob("sync/**/*.py"), *ROOT.glob("store/**/*.py")]):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000, help="items in the feed (100000)")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--sqlite-only", action="store_true", help="only SQLite")
    only.add_argument("--postgres-only", action="store_true", help="only PostgreSQL")
    parser.add_argument(
        "--database-url",
        default=ADMIN_URL,
        help=f"PostgreSQL to create the bench database next to (default {ADMIN_URL})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900,
        help="stop a sync run after this many seconds (900; 0: no limit)",
    )
    parser.add_argument("--seed", type=int, default=20261125, help="of the generated feed")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample every sync process with py-spy (100 Hz; slows it a little)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp folder and database")
    args = parser.parse_args()
    if args.items < 20:
        parser.error("--items must be at least 20")
    if not args.sqlite_only and not args.database_url.startswith("postgres"):
        parser.error("--database-url must be a PostgreSQL URL")
    if args.profile and not (BIN / "py-spy").exists():
        parser.error(f"--profile needs py-spy: {BIN / 'pip'} install py-spy")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    RESULTS.mkdir(exist_ok=True)
    started = time.perf_counter()
    commit = git("rev-parse", "--short", "HEAD")
    # Uncommitted changes to the code under test make the figures hard to compare.
    uncommitted = git("status", "--porcelain", "--", "sync", "store").splitlines()
    folder = Path(tempfile.mkdtemp(prefix="alliance_sync_large_"))
    pg_name = server = None
    rows: list[dict] = []
    try:
        feed = folder / "feed.json"
        made = write_feed(feed, args.items, args.seed)
        generated = time.perf_counter() - started
        print(
            f"feed: {made['items']:,} items {made['types']}, {made['bytes'] / 2**20:.1f} MiB, "
            f"written in {generated:.1f} s ({made['german_members_sharing_a_name']:,} German "
            f"members share one of {made['german_names_repeated']:,} repeated names)",
            flush=True,
        )
        checked = time.perf_counter()
        check_feed(feed, made["items"])
        made["check_s"] = round(time.perf_counter() - checked, 1)
        print(f"feed: every item valid (checked with the sync's parser in {made['check_s']} s)")

        server, port, etag = start_feed_server(folder, feed)
        feed_url = f"http://127.0.0.1:{port}{FEED_PATH}"
        print(f"feed server pid {server.pid} on {feed_url}, ETag {etag}", flush=True)

        databases = []
        if not args.postgres_only:
            databases.append(("sqlite", f"sqlite+aiosqlite:///{folder}/sync.db"))
        if not args.sqlite_only:
            pg_name, pg_url = asyncio.run(create_postgres(args.database_url))
            databases.append(("postgresql", pg_url))
        for name, url in databases:
            where = f"database {pg_name}" if name == "postgresql" else f"{folder}/sync.db"
            print(f"{name} ({where}):", flush=True)
            done = bench_database(name, url, feed_url, etag, made["items"], args)
            if name == "sqlite":  # the file with its WAL, after all the runs
                size = sum(p.stat().st_size for p in folder.glob("sync.db*")) / 2**20
                done[0].setdefault("database_facts", {})["size_mib"] = round(size, 1)
            rows += done

        print()
        print_table(rows)
        if any(row.get("profiled") for row in rows):
            print("* sampled by py-spy while it ran (100 Hz), a little slower than unobserved")
        stamp = time.strftime("%Y%m%dT%H%M%S")
        saved = RESULTS / f"sync_large-{stamp}.json"
        saved.write_text(
            json.dumps(
                {
                    "when": stamp,
                    "feed": made,
                    "timeout_s": args.timeout,
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "machine": platform.machine(),
                    "commit": commit,
                    "uncommitted": uncommitted,
                    "commit_at_end": git("rev-parse", "--short", "HEAD"),
                    "code_changed_during_run": len({row["code"] for row in rows}) > 1,
                    "rows": rows,
                },
                indent=2,
                ensure_ascii=False,
                default=str,
            )
            + "\n"
        )
        print(f"\nsaved {saved.relative_to(ROOT)}")
        if args.profile:
            for row in rows:
                print(f"\n{row['database']}, {row['case']}:", end="")
                print_profile(profile_path(row["database"], row["case"]))
        if len({row["code"] for row in rows}) > 1:
            print(
                "\nWARNING: sync/ or store/ changed on disk during the run (see each row's "
                "`code` in the JSON): the rows measured different code."
            )
        if any(row["timed_out"] for row in rows):
            print(
                f"\nA first sync did not finish within --timeout {args.timeout:g} s: its row "
                "shows what it had committed by then, and the cases after it were skipped. "
                "See the items/s by items done above; --timeout 0 waits for the end."
            )
        problems = [p for row in rows for p in row.get("problems", [])]
        if problems:
            raise SystemExit("some runs did not end as expected: " + "; ".join(problems))
    finally:
        for process in list(RUNNING):
            stop(process)
        if args.keep:
            print(f"kept {folder}" + (f" and database {pg_name}" if pg_name else ""))
        else:
            if pg_name:
                asyncio.run(drop_postgres(args.database_url, pg_name))
            shutil.rmtree(folder, ignore_errors=True)
        print(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == CHILD:
        child(*sys.argv[2:4])
    else:
        main()
