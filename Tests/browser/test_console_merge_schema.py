"""The console's merge of a text cell and its schema forms, in a real browser (Debian's Chromium
driven by Playwright) against real liaison processes: NL and MA rewrite one description, a
reviewer on NL merges both with the keyboard and a note, and MA sees it resolved; a schema form
with a typo shows the CLI's "did you mean" and writes nothing, and what NL adds reaches MA."""
import json

from test_console import agencies, login  # noqa: F401  (the fixture is shared)

TOPIC = "topic-cve"
BASE = "Preventing radicalisation and countering violent extremism, including sharing experience between countries."


def origin(page):
    return "/".join(page.url.split("/")[:3])


def test_a_reviewer_merges_both_descriptions_with_the_keyboard(liaison, agencies, browser, screenshots):  # noqa: F811
    liaison("set", "nl.db", "topic", TOPIC, f"description={BASE} NL: EU-wide.", "--author", "nl-analyst")
    liaison("set", "ma.db", "topic", TOPIC, f"description={BASE} MA: <i>Rabat</i> process.", "--author", "ma-analyst")
    nl, nl_errors = login(browser, agencies["nl_console"])
    nl.get_by_role("button", name="Sync now").click()
    nl.goto(origin(nl) + "/conflicts")
    nl.locator("table a").first.click()
    assert nl.locator("#base-value").inner_text() == BASE, "the three-way view shows the base"
    draft = nl.get_by_label("Merged text").input_value()
    assert draft == f"{BASE} NL: EU-wide. MA: <i>Rabat</i> process." or \
        draft == f"{BASE} MA: <i>Rabat</i> process. NL: EU-wide.", draft
    assert nl.locator("#merge i").count() == 0, "another agency's text is never markup"
    if screenshots:
        nl.screenshot(path=str(screenshots / "console-merge.png"), full_page=True)

    # Keyboard only: editing the draft chooses the merge; Space on the radio does too; then a note, then submit.
    nl.get_by_label("Merged text").focus()
    nl.keyboard.press("Control+End")
    nl.keyboard.type(" Agreed at the 28 Nov call.")
    assert nl.get_by_label("Merge:").is_checked(), "typing in the merged text chooses the merge"
    nl.get_by_label("Keep MA-DGST's value").check()
    nl.get_by_label("Merge:").focus()
    nl.keyboard.press("Space")
    assert nl.get_by_label("Merge:").is_checked()
    nl.keyboard.press("Tab")
    assert nl.evaluate("document.activeElement.id") == "merged-value"
    nl.get_by_label("Note").focus()
    nl.keyboard.type("Both additions are true; kept both.")
    nl.get_by_role("button", name="Resolve").focus()
    nl.keyboard.press("Enter")
    nl.wait_for_url("**/conflict?id=*")
    assert "Merged 1 conflict(s) on this cell" in nl.locator(".flash").inner_text()
    assert nl.locator("#conflict-state").inner_text() == "resolved"
    assert nl.locator("#resolution-note").inner_text() == "Both additions are true; kept both."
    merged = json.loads(liaison("get", "nl.db", "topic", TOPIC, "--json").stdout)["description"]
    assert merged == draft + " Agreed at the 28 Nov call."
    conflict_id = nl.url.split("id=")[1]

    nl.get_by_role("button", name="Sync now").click()
    assert "MA-DGST: pulled 0, pushed 1" in nl.locator(".flash").inner_text()
    ma, ma_errors = login(browser, agencies["ma_console"])
    ma.goto(origin(ma) + f"/conflict?id={conflict_id}")
    assert ma.locator("#conflict-state").inner_text() == "resolved"
    assert "nl-reviewer" in ma.locator("#resolution").inner_text()
    assert json.loads(liaison("get", "ma.db", "topic", TOPIC, "--json").stdout)["description"] == merged
    assert nl_errors == [] and ma_errors == []


def test_schema_forms_show_the_clis_errors_and_publish_signed_changes(liaison, agencies, browser, screenshots):  # noqa: F811
    liaison("grant", "ma.db", "NL-NCTV", "--schema")
    page, errors = login(browser, agencies["nl_console"])
    page.get_by_role("link", name="Schema").click()
    hash_before = page.locator("#schema-hash").inner_text()
    assert "open, in_progress, done, cancelled" in page.locator("#schema-action").inner_text()
    before = liaison("log", "nl.db", "--json").stdout

    form = page.locator("#add-column")
    form.get_by_label("Table").fill("agenda_item")
    form.get_by_label("Column name").fill("meeting_date")
    form.get_by_label("Type").fill("daet")
    form.get_by_role("button", name="Add column").click()
    error = page.locator("#schema-error").inner_text()
    assert "unknown type 'daet' (did you mean 'date'?)" in error, error
    assert page.locator("#add-column").get_by_label("Column name").input_value() == "meeting_date", "kept"
    assert liaison("log", "nl.db", "--json").stdout == before, "nothing was written"

    page.locator("#add-column").get_by_label("Type").fill("date")
    page.locator("#add-column").get_by_role("button", name="Add column").click()
    assert "Added column agenda_item.meeting_date (date) as nl-reviewer" in page.locator(".flash").inner_text()
    assert page.locator("#schema-agenda_item #column-meeting_date").inner_text().split("\t")[:2] == ["meeting_date", "date"]

    choice = page.locator("#add-choice")
    choice.get_by_label("Table").fill("action")
    choice.get_by_label("Choice column").fill("status")
    choice.get_by_label("New value").fill("on_hold")
    choice.get_by_role("button", name="Add choice").click()
    assert "on_hold" in page.locator("#schema-action").inner_text()

    table = page.locator("#add-table")
    table.get_by_label("Table name").fill("liaison_officer")
    table.get_by_label("Columns").fill("name:text\nphone:text")
    table.get_by_label("Policy").select_option("owner-wins")
    table.get_by_label("Parent table").fill("organisation")
    table.get_by_role("button", name="Add table").click()
    assert page.locator("#schema-liaison_officer").is_visible()
    assert page.locator("nav a[href='/table?name=liaison_officer']").count() == 1
    changes = page.locator("#schema-changes").inner_text()
    for change in ("add_column agenda_item.meeting_date", "add_choice", "add_table liaison_officer"):
        assert change in changes, changes
    assert "nl-reviewer" in changes
    if screenshots:
        page.screenshot(path=str(screenshots / "console-schema.png"), full_page=True)
    hash_after = page.locator("#schema-hash").inner_text()
    assert hash_after != hash_before

    # The same signed changes as the CLI's: MA applies them at the next sync and can use them.
    page.get_by_role("button", name="Sync now").click()
    assert "MA-DGST: pulled 0, pushed" in page.locator(".flash").inner_text()
    shown = json.loads(liaison("schema", "ma.db", "--json").stdout)
    assert shown["hash"] == hash_after
    liaison("set", "ma.db", "action", "act-roadmap-early-detection", "status=on_hold", "--author", "ma-analyst")
    ma, ma_errors = login(browser, agencies["ma_console"])
    ma.goto(origin(ma) + "/schema")
    assert ma.locator("#schema-agenda_item #column-meeting_date").count() == 1
    assert "NL-NCTV" in ma.locator("#schema-changes").inner_text()
    assert errors == [] and ma_errors == []
