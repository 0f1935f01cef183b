"""The embedded ISA seed: what the article and the cited sources say, each fact sourced."""

import json

import pytest
from sqlalchemy import func, select

from store import seed, tables, versions
from store.errors import SeedError


async def _scalar(engine, statement):
    async with engine.connect() as conn:
        return await conn.scalar(statement)


async def test_members_of_the_isa_after_2018_04_23(seeded):
    isa_members = (
        select(func.count(tables.MembershipPeriod.member_id.distinct()))
        .join(tables.Member, tables.Member.id == tables.MembershipPeriod.member_id)
        .where(tables.Member.country == "DE")
    )
    assert await _scalar(seeded.engine, isa_members) == 17
    new = select(func.count()).where(tables.MembershipPeriod.start_date == "2018-04-23")
    assert await _scalar(seeded.engine, new) == 5


async def test_chinese_members_and_when_the_sources_say_they_joined(seeded):
    joined = (
        select(tables.Member.slug, tables.MembershipPeriod.start_date)
        .join(tables.Member, tables.Member.id == tables.MembershipPeriod.member_id)
        .where(tables.Member.country == "CN")
    )
    async with seeded.engine.connect() as connection:
        found = dict((await connection.execute(joined)).all())
    assert len(found) == 17  # the eleven founders and six that joined later
    assert [slug for slug, start in found.items() if start == "2016-04-25"] == [
        "foshan", "jiangmen", "zhuzhou", "zhaoqing", "jieyang", "yunfu", "jiaozuo", "nanning",
        "taizhou", "guiyang", "liuzhou",
    ]  # fmt: skip
    later = {slug: start for slug, start in found.items() if start != "2016-04-25"}
    assert later == {
        "nanchang": "2016-08",  # a month, as the source gives it
        "maanshan": "2016-08",
        "baoan": "2016-08",
        "maoming": "2017-04-24",
        "deyang": "2017-04-24",
        "nansha": "2017-04-24",
    }


async def test_every_record_has_a_source(seeded):
    for model, kind in [
        (tables.Alliance, "alliance"),
        (tables.Member, "member"),
        (tables.MembershipPeriod, "membership_period"),
        (tables.Organisation, "organisation"),
        (tables.Person, "person"),
        (tables.Post, "post"),
        (tables.Event, "event"),
    ]:
        sourced = select(tables.Source.entity_id).where(tables.Source.entity_type == kind)
        unsourced = select(func.count()).select_from(model).where(model.id.not_in(sourced))
        assert await _scalar(seeded.engine, unsourced) == 0, kind


async def test_seeding_twice_changes_nothing(seeded):
    before = await _scalar(seeded.engine, select(func.count()).select_from(tables.Member))
    version = await _scalar(seeded.engine, versions.CURRENT)
    report = await seed.seed(seeded.engine)
    assert report.already_seeded
    assert await _scalar(seeded.engine, select(func.count()).select_from(tables.Member)) == before
    assert await _scalar(seeded.engine, versions.CURRENT) == version


async def test_the_seed_moves_the_data_version_once(databases):
    database = await databases.create()
    assert await _scalar(database.engine, versions.CURRENT) == 0
    await seed.seed(database.engine)
    assert await _scalar(database.engine, versions.CURRENT) == 1


async def test_a_broken_seed_leaves_nothing_behind(databases, tmp_path):
    data = json.loads(seed.DATA.read_text(encoding="utf-8"))
    data["organisations"][0]["member"] = "atlantis"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data), encoding="utf-8")
    database = await databases.create()
    with pytest.raises(SeedError, match="atlantis"):
        await seed.seed(database.engine, broken)
    assert await _scalar(database.engine, select(func.count()).select_from(tables.Member)) == 0
    assert await _scalar(database.engine, versions.CURRENT) == 0
