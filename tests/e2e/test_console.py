"""The operator console in a real browser: headless Chromium (the system's, driven by
Playwright) against `alliance serve --demo` on loopback, with a partner feed of our own beside
the demo's. Each test asserts what the page shows, and that no request left 127.0.0.1.

With `ALLIANCE_CONSOLE_SCREENSHOTS=<folder>` the tests also save PNGs of the pages they reach,
at desktop and phone widths (docs/console.md shows them).
"""

import asyncio
import contextlib
import os
import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from store import seed
from tests import factories
from tests.sync.feedserver import FeedServer, respond

from .server_process import clean_env, make_key

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium installed (Debian: apt-get install chromium)"
)

PEPPER = "the console tests' pepper, 32 chars"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 760}
BIG = 3000  # six batches: a run long enough to watch
ENDED = {"SUCCEEDED", "PARTIAL", "FAILED", "NOT_MODIFIED", "SKIPPED_LOCKED", "ABANDONED"}
# An item id a careless page would turn into markup, and run
HOSTILE = '<img src=x onerror="document.title=1">'


def partner_feed(refused: int) -> bytes:
    """Five cities, the first `refused` of them not valid (a village is no kind of member),
    and one more item that is never valid, with an id made to look like markup."""
    cities = factories.cities("partner", 5)
    for city in cities[:refused]:
        city["data"]["kind"] = "village"
    hostile = factories.member(HOSTILE, "Nirgendwo", kind="village")
    return factories.document(*cities, hostile, publisher="partner")


class Hub:
    """The hub under test, as an operator's script would call it beside the browser."""

    def __init__(self, base_url: str, operator: str, reader: str, feeds: FeedServer):
        self.base_url, self.operator, self.reader, self.feeds = base_url, operator, reader, feeds

    async def ask(self, query: str, **variables) -> dict:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30.0) as client:
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"authorization": f"Bearer {self.operator}"},
            )
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        return body["data"]

    async def add_feed(self, slug: str, path: str) -> None:
        made = await self.ask(
            "mutation ($slug: String!, $url: String!) { createFeed(slug: $slug, settings: "
            '{url: $url, allowPrivate: true, schedule: "1d"}) { errors { code } } }',
            slug=slug,
            url=self.feeds.url(path),
        )
        assert made["createFeed"]["errors"] == []

    async def synced(self, slug: str, timeout: float = 60.0) -> dict:
        """Trigger a run of `slug` and wait for its end; a run already under way is waited for."""
        asked = await self.ask(
            "mutation ($feed: String!) { triggerSync(feed: $feed) { run { id } } }", feed=slug
        )
        run_id = asked["triggerSync"]["run"]["id"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = await self.ask(
                "query ($feed: String) { syncRuns(feed: $feed, first: 5) "
                "{ nodes { id status quarantined } } }",
                feed=slug,
            )
            run = next(r for r in runs["syncRuns"]["nodes"] if r["id"] == run_id)
            if run["status"] in ENDED:
                return run
            await asyncio.sleep(0.2)
        raise AssertionError(f"run {run_id} of {slug} did not end in {timeout} s")


@pytest.fixture(scope="module")
async def hub(databases, tmp_path_factory):
    """`alliance serve --demo` (its scheduler on) with keys, and the partner feed synced
    twice: once whole but for one item, then with its first city refused."""
    from .server_process import start

    database = await databases.create()
    await seed.seed(database.engine)
    await database.engine.dispose()
    work = tmp_path_factory.mktemp("console")
    env = clean_env(DATABASE_URL=database.url, ALLIANCE_KEY_PEPPER=PEPPER)
    operator = make_key("console-operator", "operator", env=env, cwd=work)
    reader = make_key("console-reader", "reader", env=env, cwd=work)
    async with FeedServer() as feeds:
        feeds.route("/partner", respond(200, partner_feed(0)))
        feeds.route("/big", respond(200, factories.document(*factories.cities("big", BIG))))
        server = await start(["--demo"], env, work, work / "server.log")
        try:
            ours = Hub(server.base_url, operator, reader, feeds)
            await ours.add_feed("partner", "/partner")
            await ours.add_feed("big", "/big")
            await ours.add_feed("broken", "/nowhere")  # answered 404: it fails, then rests
            assert (await ours.synced("broken"))["status"] == "FAILED"
            assert (await ours.synced("partner"))["quarantined"] == 1
            feeds.route("/partner", respond(200, partner_feed(1)))
            assert (await ours.synced("partner"))["quarantined"] == 2
            yield ours
        finally:
            server.stop()


@pytest.fixture(scope="module")
async def chromium():
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        await browser.close()


@contextlib.asynccontextmanager
async def browsing(chromium):
    """A fresh browser tab (its own session storage); at its end, every request it made,
    WebSockets included, went to 127.0.0.1, and the page logged no error."""
    context = await chromium.new_context(viewport=DESKTOP, locale="de-DE")
    asked: list[str] = []
    problems: list[str] = []
    context.on("request", lambda request: asked.append(request.url))
    tab = await context.new_page()
    tab.on("websocket", lambda socket: asked.append(socket.url))
    tab.on("pageerror", lambda error: problems.append(str(error)))
    tab.on(
        "console",
        lambda message: (
            message.type == "error"
            and "Failed to load resource" not in message.text  # a refused key's 401, on purpose
            and "WebSocket connection" not in message.text  # a hub that is down, on purpose
            and problems.append(message.text)
        ),
    )
    yield tab
    await context.close()
    outside = [url for url in asked if urlsplit(url).hostname != "127.0.0.1"]
    assert asked and outside == [], outside
    assert problems == [], problems


@pytest.fixture
async def page(chromium, hub):
    async with browsing(chromium) as tab:
        yield tab


async def signed_in(page, hub: Hub) -> None:
    await page.goto(f"{hub.base_url}/console")
    await page.fill("#key", hub.operator)
    await page.click("#sign-in button[type=submit]")
    await page.wait_for_selector("article.feed")


def card(page, slug: str):
    return page.locator(f'article.feed[data-feed="{slug}"]')


async def screenshot(page, name: str) -> None:
    folder = os.environ.get("ALLIANCE_CONSOLE_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for width, size in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(size)
        await page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)


async def test_without_an_operator_key_the_console_shows_only_the_sign_in_box(page, hub):
    # given: the console, opened with no key
    response = await page.goto(f"{hub.base_url}/console")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert await page.locator("#key").is_visible()
    assert await page.locator("#nav").is_hidden()

    # when: a key the hub does not know is pasted; then: it says so, and shows nothing else
    await page.fill("#key", "ahk_0000000000_not-a-key-of-this-hub")
    await page.click("#sign-in button[type=submit]")
    await page.wait_for_function("() => document.querySelector('#key-error').textContent !== ''")
    assert "does not know this key" in await page.inner_text("#key-error")
    assert await page.locator("article.feed").count() == 0

    # when: a reader's key; then: refused as not an operator's
    await page.fill("#key", hub.reader)
    await page.click("#sign-in button[type=submit]")
    await page.wait_for_function(
        "() => /operator/.test(document.querySelector('#key-error').textContent)"
    )
    assert "--role operator" in await page.inner_text("#key-error")
    assert await page.evaluate("sessionStorage.length") == 0
    assert await page.locator("#nav").is_hidden()


async def test_signed_in_it_lists_every_feed_with_its_state_and_last_run(page, hub):
    # when: the operator signs in
    await signed_in(page, hub)

    # then: every feed is there, with its format, schedule, state and how its last run ended
    slugs = await page.locator("article.feed").evaluate_all(
        "cards => cards.map(c => c.dataset.feed)"
    )
    assert set(slugs) >= {
        "partner",
        "big",
        "broken",
        "kaiserslautern-demo",
        "kaiserslautern-popolo-demo",
    }
    partner = card(page, "partner")
    assert "alliance-feed/1 · snapshot · every 1d" in await partner.locator(".meta").inner_text()
    assert await partner.locator(".state").inner_text() == "enabled"
    assert "partial" in await partner.locator(".last").inner_text()
    # the chart: one bar per ended run, with its count in its title
    assert await partner.locator("svg rect.bar-partial").count() >= 2
    assert "6 items" in await partner.locator("svg rect").first.locator("title").text_content()

    # and: a feed that failed rests, saying until when, its failed run a red bar
    broken = card(page, "broken")
    assert await broken.locator(".state").inner_text() == "resting"
    resting = await broken.locator(".resting").inner_text()
    assert "Resting after 1 failed run; its schedule runs it again in" in resting, resting
    assert await broken.locator(".resting time").get_attribute("datetime")
    assert await broken.locator("svg rect.bar-failed").count() == 1
    assert "failed" in await broken.locator(".last").inner_text()

    # and: the key is in this tab's session storage, never in the address
    assert await page.evaluate("sessionStorage.getItem('alliance-hub.console.key')") == hub.operator
    assert hub.operator not in page.url
    await screenshot(page, "feeds")


async def test_sync_now_shows_the_run_as_it_goes_and_its_summary_at_the_end(page, hub):
    # given: the console on the feeds page, recording every state of the big feed's bar
    await signed_in(page, hub)
    big = card(page, "big")
    await page.evaluate(
        """() => {
        window.seen = [];
        new MutationObserver(() => {
          const counts = document.querySelector('article.feed[data-feed="big"] .counts');
          if (counts && counts.textContent) window.seen.push(counts.textContent);
        }).observe(document.querySelector('main'),
                   {subtree: true, childList: true, characterData: true});
    }"""
    )

    # when: Sync now
    await big.get_by_role("button", name="Sync now").click()

    # then: the bar shows the run under way, then reaches its end with the run's summary
    await page.wait_for_function(
        "() => { const b = document.querySelector('article.feed[data-feed=\"big\"] progress');"
        " return b && b.dataset.status === 'SUCCEEDED' && b.value === b.max; }",
        timeout=60_000,
    )
    summary = await card(page, "big").locator(".summary").inner_text()
    assert f"{BIG:,}".replace(",", ".") + " items" in summary  # the page's locale is de-DE
    assert "succeeded" in summary and "created" in summary
    seen = await page.evaluate("window.seen")
    assert any("queued" in text or "running" in text for text in seen), seen

    # when: it runs again with every item changed, the bar runs against the last run's count
    changed = factories.cities("big", BIG)
    for city in changed:
        city["data"]["population"] = 12_345
    hub.feeds.route("/big", respond(200, factories.document(*changed)))
    await card(page, "big").get_by_role("button", name="Sync now").click()
    await page.wait_for_function(
        "() => /running: [0-9.]+ of about/.test(document.querySelector("
        "'article.feed[data-feed=\"big\"] .counts')?.textContent || '')",
        timeout=60_000,
    )
    await screenshot(page, "run")
    await page.wait_for_function(
        "() => document.querySelector('article.feed[data-feed=\"big\"] progress')"
        "?.dataset.status === 'SUCCEEDED'",
        timeout=60_000,
    )
    assert "updated" in await card(page, "big").locator(".summary").inner_text()

    # and: a demo feed's run, unchanged since (304), still ends with a full bar and a summary
    await card(page, "kaiserslautern-demo").get_by_role("button", name="Sync now").click()
    await page.wait_for_function(
        "() => { const b = document.querySelector("
        "'article.feed[data-feed=\"kaiserslautern-demo\"] progress');"
        " return b && ['NOT_MODIFIED', 'SUCCEEDED'].includes(b.dataset.status)"
        " && b.value === b.max; }",
        timeout=60_000,
    )
    demo = await card(page, "kaiserslautern-demo").locator(".summary").inner_text()
    assert "not modified" in demo or "succeeded" in demo, demo


async def test_a_dry_run_says_what_it_would_do_and_writes_nothing(page, hub):
    await signed_in(page, hub)
    before = await hub.ask('{ feed(slug: "partner") { runs { id } } }')
    await card(page, "partner").get_by_role("button", name="Dry run").click()
    await page.wait_for_function(
        "() => document.querySelector('article.feed[data-feed=\"partner\"] .summary')"
        "?.textContent.startsWith('Dry run')"
    )
    said = await card(page, "partner").locator(".summary").inner_text()
    assert "nothing written" in said and "6 items" in said and "2 quarantined" in said, said
    after = await hub.ask('{ feed(slug: "partner") { runs { id } } }')
    assert after == before  # a dry run leaves no run


async def test_a_quarantined_item_opens_to_its_reason_and_its_record(page, hub):
    # given: the partner feed's runs quarantined its first city, and an item with a hostile id
    await signed_in(page, hub)
    await page.click("#nav >> text=Quarantine")
    await page.select_option("#issue-feed", "partner")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_selector('ul.issues[data-feed="partner"]:not([aria-busy])')
    assert await page.locator("ul.issues li").count() == 3

    # then: each shows its type, id and stage; the hostile id is text, not markup
    items = page.locator("ul.issues li")
    ids = await items.locator(".item-id").all_inner_texts()
    assert sorted(ids) == sorted([HOSTILE, HOSTILE, "partner-0"])
    assert await page.locator("ul.issues img").count() == 0
    assert await page.title() != "1"

    # when: the filter narrows them to the city, and its item is opened
    await page.fill("#issue-filter", "partner-0")
    await page.wait_for_function("() => document.querySelectorAll('ul.issues li').length === 1")
    assert "1 of 3" in await page.inner_text(".tally")
    await page.click("ul.issues summary")

    # then: the reason is shown, naming the field, and a link leads to the record it stands for
    reason = await page.inner_text("ul.issues .message")
    assert "village" in reason
    await screenshot(page, "quarantine")
    # and: one run's items, by the run filter
    runs = await hub.ask('{ syncRuns(feed: "partner", first: 1) { nodes { id quarantined } } }')
    (newest,) = runs["syncRuns"]["nodes"]
    await page.fill("#issue-run", str(newest["id"]))
    await page.fill("#issue-filter", "")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_selector(f'ul.issues[data-run="{newest["id"]}"]:not([aria-busy])')
    assert await page.locator("ul.issues li").count() == newest["quarantined"]

    await page.locator("ul.issues li", has_text="partner-0").locator("summary").click()
    await page.click("text=Open the record it stands for")
    await page.wait_for_selector("h1:has-text('Member')")
    assert "partner-stadt-0" in await page.inner_text("h1")


async def test_pause_and_delete_from_the_keyboard_with_a_confirmation(page, hub):
    # given: a feed of its own
    await hub.add_feed("short-lived", "/partner")
    await signed_in(page, hub)
    doomed = card(page, "short-lived")

    # when: its Pause button is reached by the keyboard and pressed with Enter
    await doomed.get_by_role("button", name="Pause").focus()
    await page.keyboard.press("Enter")

    # then: it shows as paused, with Resume in its place
    await page.wait_for_function(
        "() => "
        "document.querySelector('article.feed[data-feed=\"short-lived\"] .state')"
        ".textContent === 'paused'"
    )
    assert await card(page, "short-lived").get_by_role("button", name="Resume").count() == 1
    paused = await hub.ask('{ feed(slug: "short-lived") { state } }')
    assert paused["feed"]["state"] == "PAUSED"

    # when: Resume; then: enabled again
    await card(page, "short-lived").get_by_role("button", name="Resume").click()
    await page.wait_for_function(
        "() => document.querySelector('article.feed[data-feed=\"short-lived\"] .state')"
        "?.textContent === 'enabled'"
    )

    # when: Delete, then Escape; then: nothing is deleted
    await card(page, "short-lived").get_by_role("button", name="Delete").click()
    assert await page.locator("#confirm").is_visible()
    assert "short-lived" in await page.inner_text("#confirm-title")
    await page.keyboard.press("Escape")
    assert await page.locator("#confirm").is_hidden()
    assert await card(page, "short-lived").count() == 1

    # when: Delete, confirmed; then: the feed is gone
    await card(page, "short-lived").get_by_role("button", name="Delete").click()
    await page.click("#confirm-ok")
    await page.wait_for_function(
        "() => "
        "!document.querySelector('article.feed[data-feed=\"short-lived\"]')"
        " && document.querySelectorAll('article.feed').length > 0"
    )
    left = await hub.ask("{ feeds { slug } }")
    assert "short-lived" not in [f["slug"] for f in left["feeds"]]


async def test_a_refused_change_shows_its_typed_error_beside_the_field(page, hub):
    # given: the partner feed's page
    await signed_in(page, hub)
    await card(page, "partner").get_by_role("link", name="partner").click()
    await page.wait_for_selector("form.settings")

    # when: a schedule the hub cannot read is saved
    await page.fill("#setting-schedule", "now and then")
    await page.click("form.settings button[type=submit]")

    # then: its error is beside the schedule, and nothing else is said to be wrong
    await page.wait_for_function(
        "() => document.querySelector('#setting-schedule-error').textContent"
    )
    assert "INVALID_VALUE" in await page.inner_text("#setting-schedule-error")
    assert await page.inner_text("#setting-url-error") == ""
    kept = await hub.ask('{ feed(slug: "partner") { schedule } }')
    assert kept["feed"]["schedule"] == "1d"

    # and: an action the hub refuses is said beside the feed's buttons, with its code
    await hub.add_feed("gone-soon", "/partner")
    await page.click("text=← All feeds")
    await card(page, "gone-soon").wait_for()
    await hub.ask('mutation { deleteFeed(slug: "gone-soon") { errors { code } } }')
    await card(page, "gone-soon").get_by_role("button", name="Sync now").click()
    refused = card(page, "gone-soon").locator(".field-error")
    await page.wait_for_function(
        "() => document.querySelector('article.feed[data-feed=\"gone-soon\"] .field-error')"
        "?.textContent.includes('NOT_FOUND')"
    )
    assert "feed" in await refused.inner_text()  # the field the mutation names


async def test_lock_and_unlock_a_field_from_the_records_page(page, hub):
    # given: a seeded city's page, its names in German and Chinese
    found = await hub.ask('{ member(slug: "kaiserslautern") { id } }')
    record = found["member"]["id"]
    await signed_in(page, hub)
    await page.goto(f"{hub.base_url}/console#/record/{record}")
    await page.wait_for_selector("form.lock")
    names = await page.locator("ul.names .name").evaluate_all(
        "names => names.map(n => [n.lang, n.textContent])"
    )
    assert ["de", "Kaiserslautern"] in names
    assert any(lang.startswith("zh") for lang, _ in names), names

    # when: population is locked; then: it is listed on the page and in the hub
    await page.select_option("#lock-field", "population")
    await page.click("form.lock button[type=submit]")
    await page.wait_for_selector("text=Unlock population")
    locks = await hub.ask("{ lockedFields { record field } }")
    assert {"record": record, "field": "population"} in locks["lockedFields"]

    # and: the locked fields page lists it, linking back
    await page.click("#nav >> text=Locked fields")
    await page.wait_for_selector(f"ul.locks a:has-text('{record}')")

    # when: it is unlocked from the record's page; then: it is gone
    await page.click(f"ul.locks a:has-text('{record}')")
    await page.click("text=Unlock population")
    await page.wait_for_selector("text=Feeds may write every field of this record.")
    locks = await hub.ask("{ lockedFields { record field } }")
    assert {"record": record, "field": "population"} not in locks["lockedFields"]


async def test_a_lost_connection_is_said_and_the_page_comes_back_by_itself(page, hub):
    # given: the feeds page
    await signed_in(page, hub)
    assert await page.locator("#connection").is_hidden()

    # when: the network goes away and the operator moves on
    await page.context.set_offline(True)
    await page.click("#nav >> text=Locked fields")

    # then: the page says the connection was lost
    await page.wait_for_selector("#connection:not([hidden])")
    assert "reconnecting" in await page.inner_text("#connection")

    # when: it comes back; then: the page loads by itself and the banner goes
    await page.context.set_offline(False)
    await page.wait_for_selector("h1:has-text('Locked fields')", timeout=20_000)
    await page.wait_for_selector("#connection[hidden]", state="attached", timeout=20_000)

    # and: runs move live again: a run started elsewhere shows on its card as it ends
    await page.click("#nav >> text=Feeds")
    await card(page, "partner").wait_for()
    run = await hub.synced("partner")
    await page.wait_for_function(
        "(id) => document.querySelector('article.feed[data-feed=\"partner\"] progress')"
        "?.dataset.run === String(id)",
        arg=run["id"],
        timeout=20_000,
    )


async def test_at_phone_width_nothing_runs_off_the_page(page, hub):
    await page.set_viewport_size(PHONE)
    await signed_in(page, hub)
    for view in ("#/feeds", "#/quarantine", "#/locks", "#/feeds/partner"):
        await page.evaluate(f"location.hash = '{view}'")
        await page.wait_for_timeout(300)
        await page.wait_for_selector("main h1")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (view, width)


async def test_the_live_connection_comes_back_by_itself_when_the_hub_restarts(
    chromium, databases, tmp_path, start_hub
):
    # given: a hub of this test's own, and the console signed in to it
    database = await databases.create()
    await database.engine.dispose()
    env = clean_env(DATABASE_URL=database.url, ALLIANCE_KEY_PEPPER=PEPPER)
    operator = make_key("restart-operator", "operator", env=env, cwd=tmp_path)
    async with FeedServer() as feeds, browsing(chromium) as page:
        feeds.route("/partner", respond(200, partner_feed(0)))
        first = await start_hub([], env, tmp_path)
        hub = Hub(first.base_url, operator, "", feeds)
        await hub.add_feed("partner", "/partner")
        await signed_in(page, hub)

        # when: the hub stops; then: the page says the connection was lost
        first.stop()
        await page.wait_for_selector("#connection:not([hidden])", timeout=20_000)

        # when: it starts again at the same address; then: the console reconnects by itself
        await start_hub([], env, tmp_path, port=urlsplit(first.base_url).port)
        await page.wait_for_selector("#connection[hidden]", state="attached", timeout=30_000)

        # and: its subscription is live again: Sync now drives the bar to the end
        await card(page, "partner").get_by_role("button", name="Sync now").click()
        await page.wait_for_function(
            "() => document.querySelector('article.feed[data-feed=\"partner\"] progress')"
            "?.dataset.status === 'PARTIAL'",
            timeout=60_000,
        )
