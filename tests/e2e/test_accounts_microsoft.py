"""A Microsoft 365 account in the desktop app, against fake-cloud's fake Graph and a real Secret Service: connect it
through the browser sign-in (a public client: PKCE, no secret), see its Teams meeting in the week with its Join,
lose the grant, reconnect, disconnect."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from test_accounts import account_state, sync_until_needs_reconnect, this_hour
from test_desktop import agenda_titles, by_testid, grid_titles, wait

FAKE_BROWSER = Path(__file__).with_name("fake_browser.py")


def graph_event(subject: str, start: dt.datetime, minutes: int, **extra: object) -> dict:
    """A Graph event body as Outlook POSTs it, in UTC wall-clock times."""
    utc = start.astimezone(dt.timezone.utc)
    end = utc + dt.timedelta(minutes=minutes)
    fmt = "%Y-%m-%dT%H:%M:%S"
    return {
        "subject": subject,
        "start": {"dateTime": utc.strftime(fmt), "timeZone": "UTC"},
        "end": {"dateTime": end.strftime(fmt), "timeZone": "UTC"},
        **extra,
    }


def test_connect_microsoft_see_its_teams_meeting_lose_the_grant_reconnect_and_disconnect(
    launch, fake_google, keychain, tmp_path
):
    cloud = fake_google([], graph_items=[
        # Outlook asks for a Teams meeting; Graph makes its join link.
        graph_event("Quarterly planning", this_hour(), 60, isOnlineMeeting=True, onlineMeetingProvider="teamsForBusiness"),
    ])
    browser_log = tmp_path / "browser.log"
    app = launch({
        **cloud.microsoft_env(),
        "BROWSER": f"{sys.executable} {FAKE_BROWSER}",
        "FAKE_BROWSER_LOG": str(browser_log),
    })
    driver = app.driver
    wait(driver).until(EC.element_to_be_clickable(by_testid("nav-connections"))).click()
    wait(driver).until(EC.element_to_be_clickable(by_testid("connect-microsoft"))).click()

    # The browser signs in at the fake identity platform and returns to the loopback listener; the first sync
    # (calendarView delta) then runs by itself.
    wait(driver, 60).until(lambda d: account_state(d) == "Connected"
                           and "1 event" in d.find_element(*by_testid("account-count")).text)
    account = driver.find_element(*by_testid("account"))
    assert "Microsoft" in account.text, f"the card names the provider: {account.text!r}"
    assert "You are connected" in browser_log.read_text(), "the browser tab was told it can be closed"
    app.screenshot("microsoft-connected")
    listed = json.loads(app.cli("connections", "--json"))
    rows = [c for c in listed if c["provider"] == "outlook_calendar"]
    assert len(rows) == 1 and rows[0]["state"] == "connected", f"one connected Outlook account: {listed}"
    assert rows[0]["account_email"], f"the account is named by /me's mail or userPrincipalName: {rows[0]}"

    [event] = [e for e in json.loads(app.cli("events", "--all", "--json"))["events"] if e["title"] == "Quarterly planning"]
    assert event["meeting_platform"] == "teams", f"the Teams link is the meeting link: {event}"

    driver.find_element(*by_testid("nav-calendar")).click()
    driver.find_element(*by_testid("view-w")).click()
    wait(driver).until(EC.visibility_of_element_located(by_testid("calendar-grid")))
    wait(driver).until(lambda d: "Quarterly planning" in grid_titles(d))
    app.screenshot("microsoft-week-teams")
    # In the agenda, the meeting opens its details with its Teams link and a Join.
    driver.find_element(*by_testid("view-a")).click()
    wait(driver).until(lambda d: "Quarterly planning" in agenda_titles(d))
    next(el for el in driver.find_elements(*by_testid("agenda-event")) if "Quarterly planning" in el.text).click()
    meeting = wait(driver).until(EC.visibility_of_element_located(by_testid("details-meeting")))
    assert meeting.text.startswith("Microsoft Teams") or "Teams" in meeting.text, f"the link is named Teams: {meeting.text!r}"
    assert "https://teams.microsoft.com/" in meeting.text, f"Graph's join link is the one shown: {meeting.text!r}"
    assert driver.find_element(*by_testid("details-join")).is_enabled(), "the meeting can be joined from here"
    app.screenshot("microsoft-details-join")
    driver.find_element(*by_testid("details-close")).click()

    # The grant is revoked: Graph answers 401 and the token endpoint invalid_grant (AADSTS70008).
    cloud.microsoft_control("revoke")
    driver.find_element(*by_testid("nav-connections")).click()
    sync_until_needs_reconnect(driver)
    problem = wait(driver).until(EC.visibility_of_element_located(by_testid("account-problem")))
    assert problem.text.strip(), "the card says why the account needs a reconnect"
    app.screenshot("microsoft-needs-reconnect")

    cloud.microsoft_control("unrevoke")
    driver.find_element(*by_testid("account-reconnect")).click()
    wait(driver, 60).until(
        lambda d: account_state(d) == "Connected"
        and not d.find_elements(*by_testid("account-problem"))
        and not d.find_elements(*by_testid("connect-waiting"))
    )
    app.screenshot("microsoft-reconnected")

    driver.find_element(*by_testid("account-disconnect")).click()
    confirm = wait(driver).until(EC.visibility_of_element_located(by_testid("account-confirm")))
    confirm.find_element(By.CSS_SELECTOR, '[data-testid="account-confirm-disconnect"]').click()
    wait(driver, 15).until(lambda d: not d.find_elements(*by_testid("account")))
    listed = json.loads(app.cli("connections", "--json"))
    assert [c["provider"] for c in listed] == ["local"], f"only the local calendar is left: {listed}"
    assert "Quarterly planning" not in app.cli("events", "--all", "--json"), "the account's events went with it"
