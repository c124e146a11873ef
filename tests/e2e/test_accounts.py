"""A Google account in the desktop app, against the fake Google (fake-cloud) and a real Secret Service: connect it
through the browser sign-in, see its events in the week view, lose the grant, reconnect, disconnect; and an edit
that Google refuses because the event changed there, shown on the account until dismissed."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from conftest import CLI_BIN
from test_desktop import by_testid, grid_titles, wait

FAKE_BROWSER = Path(__file__).with_name("fake_browser.py")


def this_hour() -> dt.datetime:
    """The start of the current hour in the machine's zone: today, and in sight when the week view opens (an
    hour before now)."""
    return dt.datetime.now().astimezone().replace(minute=0, second=0, microsecond=0)


def google_event(eid: str, summary: str, start: dt.datetime, minutes: int, **extra: object) -> dict:
    end = start + dt.timedelta(minutes=minutes)
    return {
        "kind": "calendar#event",
        "id": eid,
        "status": "confirmed",
        "summary": summary,
        "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": end.isoformat(), "timeZone": "UTC"},
        **extra,
    }


def account_state(driver) -> str:  # type: ignore[no-untyped-def]
    found = driver.find_elements(*by_testid("account-state"))
    return found[0].text if found else ""


def sync_until_needs_reconnect(driver) -> None:  # type: ignore[no-untyped-def]
    """After the provider lost the grant: waits until the card says so. A background sync (the app's first one
    comes a few seconds after start) may find out first; otherwise "Sync now" does, clicked whenever it is
    enabled, since a sync already running when the grant went may still succeed."""

    def seen(d) -> bool:  # type: ignore[no-untyped-def]
        if account_state(d) == "Needs reconnect":
            return True
        buttons = d.find_elements(*by_testid("account-sync"))
        if buttons and buttons[0].is_enabled():
            buttons[0].click()
        return False

    wait(driver, 30).until(seen)


def test_connect_google_see_its_week_lose_the_grant_and_reconnect(launch, fake_google, keychain, tmp_path):
    google = fake_google([
        google_event("design1", "Design review", this_hour(), 60, hangoutLink="https://meet.google.com/abc-defg-hij"),
        # Daily from today; at 00:xx "an hour before" would be yesterday, so it starts later in the hour then.
        google_event("standup1", "Team standup",
                     this_hour() - dt.timedelta(hours=1) if this_hour().hour >= 1 else this_hour() + dt.timedelta(minutes=30),
                     15, recurrence=["RRULE:FREQ=DAILY;COUNT=10"]),
    ])
    browser_log = tmp_path / "browser.log"
    app = launch({
        **google.env(),
        "BROWSER": f"{sys.executable} {FAKE_BROWSER}",
        "FAKE_BROWSER_LOG": str(browser_log),
    })
    driver = app.driver
    wait(driver).until(EC.element_to_be_clickable(by_testid("nav-connections"))).click()
    microsoft = wait(driver).until(EC.element_to_be_clickable(by_testid("connect-microsoft")))
    assert microsoft.text == "Connect Microsoft", f"Microsoft is offered beside Google: {microsoft.text!r}"
    app.screenshot("connections-connect-buttons")
    wait(driver).until(EC.element_to_be_clickable(by_testid("connect-google"))).click()

    # The browser signs in and returns to the app's loopback listener; the first sync then runs by itself.
    wait(driver, 30).until(lambda d: account_state(d) == "Connected"
                           and "2 events" in d.find_element(*by_testid("account-count")).text)
    account = driver.find_element(*by_testid("account"))
    assert "jane@acme.example" in account.text, f"the card names the account: {account.text!r}"
    assert "You are connected" in browser_log.read_text(), "the browser tab was told it can be closed"
    app.screenshot("google-connected")
    listed = json.loads(app.cli("connections", "--json"))
    google_rows = [c for c in listed if c["provider"] == "google_calendar"]
    assert len(google_rows) == 1 and google_rows[0]["state"] == "connected", f"one connected account: {listed}"

    driver.find_element(*by_testid("nav-calendar")).click()
    driver.find_element(*by_testid("view-w")).click()
    wait(driver).until(EC.visibility_of_element_located(by_testid("calendar-grid")))
    wait(driver).until(lambda d: {"Design review", "Team standup"} <= set(grid_titles(d)))
    app.screenshot("google-week")

    # Google revokes the grant: the next request is refused (401), and the refresh answers invalid_grant.
    google.control("revoke")
    driver.find_element(*by_testid("nav-connections")).click()
    sync_until_needs_reconnect(driver)
    problem = wait(driver).until(EC.visibility_of_element_located(by_testid("account-problem")))
    assert "revoked" in problem.text, f"the card says why, in the provider's words: {problem.text!r}"
    app.screenshot("google-needs-reconnect")

    google.control("unrevoke")
    driver.find_element(*by_testid("account-reconnect")).click()
    # Done when the sign-in banner is gone too: it goes last, and the card moves up with it, so a click
    # aimed before that lands on the space the button left.
    wait(driver, 30).until(
        lambda d: account_state(d) == "Connected"
        and not d.find_elements(*by_testid("account-problem"))
        and not d.find_elements(*by_testid("connect-waiting"))
    )
    app.screenshot("google-reconnected")

    # Disconnect asks first; confirmed, the account and its events are gone from this computer.
    driver.find_element(*by_testid("account-disconnect")).click()
    confirm = wait(driver).until(EC.visibility_of_element_located(by_testid("account-confirm")))
    assert "2 events" in confirm.text, f"the confirmation says what goes: {confirm.text!r}"
    confirm.find_element(By.CSS_SELECTOR, '[data-testid="account-confirm-disconnect"]').click()
    wait(driver, 15).until(lambda d: not d.find_elements(*by_testid("account")))
    listed = json.loads(app.cli("connections", "--json"))
    assert [c["provider"] for c in listed] == ["local"], f"only the local calendar is left: {listed}"
    assert "Design review" not in app.cli("events", "--all", "--json"), "the account's events went with it"


def test_an_edit_google_refused_shows_on_its_account_until_dismissed(launch, fake_google, keychain, tmp_path):
    start = this_hour() + dt.timedelta(hours=2)
    google = fake_google([google_event("review1", "Design review", start, 60)])
    app = launch({
        **google.env(),
        "BROWSER": f"{sys.executable} {FAKE_BROWSER}",
        "FAKE_BROWSER_LOG": str(tmp_path / "browser.log"),
    })
    driver = app.driver
    wait(driver).until(EC.element_to_be_clickable(by_testid("nav-connections"))).click()
    wait(driver).until(EC.element_to_be_clickable(by_testid("connect-google"))).click()
    wait(driver, 30).until(lambda d: account_state(d) == "Connected"
                           and "1 event" in d.find_element(*by_testid("account-count")).text)
    [event] = json.loads(app.cli("events", "--all", "--json"))["events"]

    # Someone renames it in Google; then this computer edits the version it read (the CLI, with the same
    # account, as a second process): Google refuses the edit (412), and the window hears of it as a change.
    google.control("put", google_event("review1", "Design review (moved by Raj)", start, 60))
    edited = subprocess.run(
        [str(CLI_BIN), "--data-dir", str(app.data_dir), "edit", event["id"], "--title", "Design review, my version"],
        capture_output=True, text=True, timeout=60, env={**os.environ, **google.env()},
    )
    assert edited.returncode == 0, f"the local edit is accepted; the push is what Google refuses: {edited.stderr}"
    notice = wait(driver, 30).until(EC.visibility_of_element_located(by_testid("account-conflicts")))
    assert "Your edit of “Design review, my version” was not applied in Google" in notice.text, (
        f"the card names the event and the refused change: {notice.text!r}"
    )
    assert "changed at the provider since Punctual read it" in notice.text, f"and why: {notice.text!r}"
    app.screenshot("google-conflict")

    # Google's version stands: the next sync brings it back, and the notice stays until the user dismisses it.
    driver.find_element(*by_testid("account-sync")).click()
    wait(driver, 30).until(lambda d: "Design review (moved by Raj)" in app.cli("events", "--all", "--json"))
    assert driver.find_elements(*by_testid("account-conflicts")), "a sync does not dismiss what the user has not seen"
    driver.find_element(*by_testid("conflict-dismiss")).click()
    wait(driver).until(lambda d: not d.find_elements(*by_testid("account-conflicts")))
    assert json.loads(app.cli("conflicts", "--json")) == [], "Dismiss forgot it in the core, not just on screen"
