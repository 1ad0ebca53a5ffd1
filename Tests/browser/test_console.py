"""The console in a real browser (Debian's Chromium driven by Playwright), against real liaison
processes on 127.0.0.1: two agencies edit the same action, a reviewer settles the conflict, an
edit with a typo writes nothing, a peer that is down shows in health, and /metrics parses."""
import csv
import io
import json
import socket
import urllib.request

import pytest

ACTION = "act-roadmap-early-detection"
TOKEN = "token-NL-MA-browser"


def closed_port():
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def agencies(liaison):
    """MA serves (with its console); NL is a clone of MA with its own console, and a peer that is down."""
    liaison("init", "ma.db", "--site", "MA-DGST", "--sample", "--author", "seed")
    liaison("peer", "add", "ma.db", "NL-NCTV", "http://127.0.0.1:1", "--token", TOKEN, "--read", "*", "--write", "*")
    ma = liaison.start("serve", "ma.db", "--port", "0", "--console-port", "0", "--author", "ma-reviewer")
    ma_url = ma.wait_for(r"serving ma\.db on (http://127\.0\.0\.1:\d+)").group(1)
    ma_console = ma.wait_for(r"console for MA-DGST at (http://127\.0\.0\.1:\d+/\?login=[0-9a-f]+)").group(1)
    # Each operator trusts the other's key as read from 'liaison identity' (out of band).
    ma_identity = json.loads(liaison("identity", "ma.db", "--json").stdout)
    liaison("clone", ma_url, "nl.db", "--site", "NL-NCTV", "--token", TOKEN,
            "--key", ma_identity["publicKey"], "--site-id", ma_identity["siteID"], "--read", "*", "--write", "*")
    nl_identity = json.loads(liaison("identity", "nl.db", "--json").stdout)
    liaison("trust", "ma.db", "NL-NCTV", "--key", nl_identity["publicKey"], "--site-id", nl_identity["siteID"])
    liaison("peer", "add", "nl.db", "FR-DGSI", f"http://127.0.0.1:{closed_port()}", "--token", "token-NL-FR-down")
    nl = liaison.start("console", "nl.db", "--port", "0", "--author", "nl-reviewer")
    nl_console = nl.wait_for(r"^console for NL-NCTV at (http://127\.0\.0\.1:\d+/\?login=[0-9a-f]{64})$").group(1)
    return {"ma_url": ma_url, "ma_console": ma_console, "nl_console": nl_console}


def login(browser, url):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    # A refused edit answers 422 on purpose; anything else (a CSP refusal, a missing file, a script error) counts.
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "status of 422" not in message.text else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    assert page.url.endswith("/"), "the login link redirects to the overview (the token leaves the address bar)"
    return page, errors


def test_reviewer_keeps_the_other_agencys_value_with_a_note(liaison, agencies, browser, screenshots):
    liaison("set", "nl.db", "action", ACTION, "status=in_progress", "--author", "nl-analyst")
    liaison("set", "ma.db", "action", ACTION, "status=done", "--author", "ma-analyst")

    nl, nl_errors = login(browser, agencies["nl_console"])
    cookies = nl.context.cookies()
    session = next(cookie for cookie in cookies if cookie["name"] == "liaison_console")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert "NL-NCTV" in nl.locator("header").inner_text()

    nl.get_by_role("button", name="Sync now").click()
    assert "MA-DGST: pulled 1" in nl.locator(".flash").inner_text()
    if screenshots:
        nl.screenshot(path=str(screenshots / "console-overview.png"), full_page=True)

    nl.get_by_role("link", name="Conflicts").first.click()
    nl.locator("table a").first.click()
    sides = {
        side: {field: nl.locator(f"#{side}-{field}").inner_text() for field in ("value", "site", "author")}
        for side in ("winner", "loser")
    }
    assert "nil" not in nl.locator("main").inner_text()
    assert {tuple(sorted(s.items())) for s in sides.values()} == {
        (("author", "ma-analyst"), ("site", "MA-DGST"), ("value", "done")),
        (("author", "nl-analyst"), ("site", "NL-NCTV"), ("value", "in_progress")),
    }
    assert nl.locator("#base-value").inner_text() == "open", "the three-way view shows the value before both edits"
    conflict_id = nl.url.split("id=")[1]
    assert nl.locator("#conflict-state").inner_text() == "open"
    if screenshots:
        nl.screenshot(path=str(screenshots / "console-conflict.png"), full_page=True)

    nl.get_by_label("Keep MA-DGST's value").check()
    nl.get_by_label("Note").fill("MA's report of 28 Nov closes the action <b>done</b>")
    nl.get_by_role("button", name="Resolve").click()
    assert nl.locator("#conflict-state").inner_text() == "resolved"
    assert nl.locator("#resolution").inner_text().count("nl-reviewer") == 1
    assert nl.locator("#resolution-note").inner_text() == "MA's report of 28 Nov closes the action <b>done</b>"
    assert nl.locator("#resolution-note b").count() == 0, "the note is text, never markup"
    nl.get_by_role("button", name="Sync now").click()
    assert "MA-DGST: pulled 0, pushed 1" in nl.locator(".flash").inner_text()

    ma, ma_errors = login(browser, agencies["ma_console"])
    streams = []
    ma.on("request", lambda request: streams.append(request.url) if "/events" in request.url else None)
    ma.reload()
    assert ma.locator("#live").is_hidden()
    liaison("set", "ma.db", "topic", "topic-live", "name=Arrived while the page was open", "--author", "ma-analyst")
    ma.locator("#live").wait_for(state="visible", timeout=15000)
    assert "New changes have arrived" in ma.locator("#live").inner_text()
    assert streams, "the page listens to server-sent events"
    ma.goto(ma.url.rstrip("/") + f"/conflict?id={conflict_id}")
    assert ma.locator("#conflict-state").inner_text() == "resolved"
    assert "nl-reviewer" in ma.locator("#resolution").inner_text()
    assert ma.locator("#resolution-note").inner_text().startswith("MA's report of 28 Nov")
    for db in ("nl.db", "ma.db"):
        row = json.loads(liaison("get", db, "action", ACTION, "--json").stdout)
        assert row["status"] == "done", db
    assert nl_errors == [] and ma_errors == [], "no script or CSP errors in the browser console"


def test_a_typo_in_a_choice_shows_the_error_and_writes_nothing(liaison, agencies, browser, screenshots):
    page, errors = login(browser, agencies["nl_console"])
    before = liaison("log", "nl.db", "--json").stdout
    page.goto(page.url + f"row?table=action&id={ACTION}")
    readers = page.locator("#readers").inner_text()
    assert readers.startswith("MA-DGST ") and "FR-DGSI" not in readers, "MA reads every scope, FR only public"
    page.get_by_label("status").fill("dnoe")
    page.get_by_role("button", name="Save").click()
    error = page.locator("#edit-error").inner_text()
    assert "takes one of open, in_progress, done, cancelled" in error
    assert "did you mean 'done'?" in error
    assert page.get_by_label("status").input_value() == "dnoe", "the form keeps what was typed"
    assert liaison("log", "nl.db", "--json").stdout == before, "nothing was written"

    page.get_by_label("status").fill("cancelled")
    page.get_by_role("button", name="Save").click()
    assert "Saved 1 field(s) as nl-reviewer" in page.locator(".flash").inner_text()
    history = page.locator("section[aria-labelledby=history] tbody tr").first.inner_text()
    assert "nl-reviewer" in history and "status=cancelled" in history and "verified" in history
    if screenshots:
        page.screenshot(path=str(screenshots / "console-row-history.png"), full_page=True)
    assert errors == []


def test_a_peer_that_is_down_shows_in_health_and_metrics(liaison, agencies, browser, screenshots):
    liaison("set", "nl.db", "action", ACTION, "due=2027-03-01", "--author", "nl-analyst")
    liaison("set", "ma.db", "topic", "topic-markup", 'name=<img src=x id=injected onerror="document.title=1">',
            "description=<script>document.title='pwned'</script>", "--author", "ma-analyst")
    liaison("set", "ma.db", "topic", "topic-formula", 'name==HYPERLINK("http://evil.example","x")', "--author", "ma-analyst")
    page, errors = login(browser, agencies["nl_console"])
    page.get_by_role("button", name="Sync now").click()
    flash = page.locator(".flash").inner_text()
    assert "FR-DGSI: failed:" in flash and "connection refused" in flash
    page.get_by_role("link", name="Peers").click()
    down = page.locator("#peer-FR-DGSI").inner_text()
    assert "failing" in down and "connection refused" in down
    assert "ok" in page.locator("#peer-MA-DGST").inner_text()
    assert page.locator("#compare-MA-DGST").inner_text().startswith("in step"), "digests compared at the sync"
    assert page.locator("#compare-FR-DGSI").inner_text() == "never"
    fingerprint = json.loads(liaison("identity", "ma.db", "--json").stdout)["fingerprint"]
    assert fingerprint in page.locator("#peer-MA-DGST").inner_text(), "the key NL trusts for MA"

    # Another agency's text is data: markup from MA shows as text on NL's pages and never runs.
    title = page.title()
    for path in ("/table?name=topic&q=img", "/row?table=topic&id=topic-markup", "/log?author=ma-analyst"):
        page.goto(page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2] + path)
        assert "<img src=x id=injected" in page.locator("main").inner_text(), path
        assert page.locator("#injected").count() == 0 and page.locator("main script").count() == 0, path
        assert page.title() != "pwned"

    page.goto(page.url.replace("/peers", "/table?name=action&sort=due&dir=desc"))
    assert page.locator("tbody tr").count() > 0
    if screenshots:
        page.screenshot(path=str(screenshots / "console-table.png"), full_page=True)

    # The CSV download of a filtered view: only the matching rows, and no formula a spreadsheet would run.
    origin = "/".join(page.url.split("/")[:3])
    answer = page.context.request.get(origin + "/table.csv?name=action&f.status=open")
    assert answer.ok and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text())))
    assert rows and all(row["status"] == "open" for row in rows)
    topics = {row["id"]: row for row in csv.DictReader(io.StringIO(
        page.context.request.get(origin + "/table.csv?name=topic").text()))}
    assert topics["topic-formula"]["name"].startswith("'=HYPERLINK(")

    from prometheus_client.parser import text_string_to_metric_families

    base = agencies["nl_console"].split("/?")[0]
    text = urllib.request.urlopen(base + "/metrics").read().decode()
    families = {family.name: family for family in text_string_to_metric_families(text)}
    ok = {s.labels["peer"]: s.value for s in families["liaison_peer_last_round_ok"].samples
          if s.labels["direction"] == "out"}
    assert ok == {"FR-DGSI": 0.0, "MA-DGST": 1.0}
    rounds = families["liaison_round_duration_seconds"]
    assert rounds.type == "histogram"
    counts = {s.labels["result"]: s.value for s in rounds.samples if s.name.endswith("_count")}
    assert counts["ok"] >= 1 and counts["failed"] >= 1
    for family in families.values():
        for sample in family.samples:
            assert set(sample.labels) <= {"peer", "direction", "table", "result", "source", "reason", "le"}, sample

    served = urllib.request.urlopen(agencies["ma_url"] + "/metrics").read().decode()
    ma = {family.name: family for family in text_string_to_metric_families(served)}
    inbound = {s.labels["peer"]: s.value for s in ma["liaison_peer_last_round_ok"].samples
               if s.labels["direction"] == "in"}
    assert inbound == {"NL-NCTV": 1.0}, "MA's server recorded NL's inbound round"
    assert any(s.labels.get("source") == "push" for s in ma["liaison_apply_duration_seconds"].samples)
    assert errors == []


def test_a_held_transaction_is_reviewed_and_released(liaison, agencies, browser, screenshots):
    # NL lets MA write only public rows: MA's edit of an eu action is held at NL, MA's next one waits behind it.
    liaison("grant", "nl.db", "MA-DGST", "--read", "*", "--write", "public")
    liaison("set", "ma.db", "action", ACTION, "status=done", "--author", "<i>ma-analyst</i>")
    liaison("set", "ma.db", "topic", "topic-after", "name=After the held one", "--author", "ma-analyst")
    page, errors = login(browser, agencies["nl_console"])
    page.get_by_role("button", name="Sync now").click()
    assert page.locator("#held-count").inner_text().startswith("2"), "the overview counts what is held"
    assert "forbidden_scope" in page.locator("section[aria-labelledby=heldTitle]").inner_text()
    assert page.locator("nav a[href='/held'] .badge").inner_text() == "2"

    page.locator("nav a[href='/held']").click()
    rows = page.locator("#held tbody tr")
    assert rows.count() == 2
    first, second = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    held_id = page.locator("#held tbody tr a").first.inner_text()
    assert held_id.startswith("MA-DGST#")
    assert "forbidden_scope" in first and "by <i>ma-analyst</i>" in first, "the author is shown as text"
    assert page.locator("#held i").count() == 0, "another agency's text is never markup"
    assert "held_behind" in second and held_id in second, "the second waits behind the first"
    if screenshots:
        page.screenshot(path=str(screenshots / "console-held.png"), full_page=True)

    page.locator("#held tbody tr a").first.click()
    assert page.locator("#held-id").inner_text() == held_id
    assert page.locator("main table tbody tr").first.inner_text().split("\t") == ["update", "action " + ACTION, "eu"]
    assert page.locator("#held-behind").inner_text().startswith("MA-DGST#")
    # Keyboard only: focus the release button and press Enter.
    page.get_by_role("button", name=f"Release {held_id}").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/held")
    assert f"{held_id} applied" in page.locator(".flash").inner_text()
    assert page.locator("#nothing-held").is_visible(), "what waited behind it was applied too"
    assert json.loads(liaison("get", "nl.db", "action", ACTION, "--json").stdout)["status"] == "done"
    assert json.loads(liaison("get", "nl.db", "topic", "topic-after", "--json").stdout)["name"] == "After the held one"
    assert errors == []


def test_the_console_refuses_strangers_and_forged_forms(agencies):
    base = agencies["nl_console"].split("/?")[0]
    try:
        urllib.request.urlopen(base + "/")
        raise AssertionError("the overview answered without a session")
    except urllib.error.HTTPError as error:
        assert error.code == 401
        assert error.headers["Content-Security-Policy"].startswith("default-src 'none'")
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    opener.open(agencies["nl_console"])  # logs in, keeps the cookie
    try:
        urllib.request.urlopen(agencies["nl_console"])
        raise AssertionError("the login link worked twice")
    except urllib.error.HTTPError as error:
        assert error.code == 401
    request = urllib.request.Request(base + "/sync", data=b"csrf=forged", method="POST")
    try:
        opener.open(request)
        raise AssertionError("a form without the session's token was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 403
