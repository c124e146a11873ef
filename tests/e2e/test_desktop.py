"""The desktop app as a user meets it: the real binary, its real core, a temporary data directory."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

XSS = "<img src=x onerror=alert(1)>"


def by_testid(testid: str) -> tuple[str, str]:
    return (By.CSS_SELECTOR, f'[data-testid="{testid}"]')


def wait(driver: WebDriver, seconds: float = 15) -> WebDriverWait:
    # The UI re-renders while it loads and syncs: an element found one moment may be replaced the next, which
    # is a reason to look again, not a failure.
    return WebDriverWait(driver, seconds, poll_frequency=0.1, ignored_exceptions=[StaleElementReferenceException])


def texts(driver: WebDriver, testid: str, prop: str = "innerText") -> list[str]:
    """The text of every element with `testid`, read in one script, so that a re-render between finding the
    elements and reading them cannot fail the read."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), (e) => (e[arguments[1]] || '').trim());",
        by_testid(testid)[1],
        prop,
    )


def tomorrow_at(hour: int) -> str:
    """Tomorrow at `hour`:00 in the machine's zone, with its offset, so that it is never in the past."""
    day = dt.date.today() + dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, hour, 0).astimezone().isoformat(timespec="seconds")


def agenda_titles(driver: WebDriver) -> list[str]:
    return texts(driver, "event-title")


def grid_titles(driver: WebDriver) -> list[str]:
    # textContent: a short event's box clips its title, and the visible text then drops it.
    return texts(driver, "grid-event-title", "textContent")


def test_first_run_shows_the_empty_state(launch):
    app = launch()
    driver = app.driver
    empty = wait(driver).until(EC.visibility_of_element_located(by_testid("empty-state")))
    shot = app.screenshot("empty-state")
    assert driver.title == "Punctual", "the window's document is Punctual's UI, not a blank or dev-server page"
    for label in ("Create an event", "Import .ics", "Connect a calendar"):
        assert label in empty.text, f"the first-run empty state must offer {label!r} (see {shot})"
    assert not driver.find_elements(*by_testid("load-error")), "an empty data dir is not an error"


def test_an_event_created_with_the_cli_shows_in_the_agenda(launch):
    app = launch()
    driver = app.driver
    wait(driver).until(EC.visibility_of_element_located(by_testid("empty-state")))
    # Another process writes the shared database while the window is open, as on a user's machine.
    app.cli("create", "--title", "Quarterly planning", "--start", tomorrow_at(10), "--end", tomorrow_at(11))
    # The shell watches the data directory and tells the UI; no reload, no polling timer.
    wait(driver, 2).until(lambda d: "Quarterly planning" in agenda_titles(d))
    app.screenshot("cli-event-in-agenda")
    assert not driver.find_elements(*by_testid("empty-state")), "with an event, the empty state must be gone"


def test_events_already_in_the_data_dir_show_at_start(launch, data_dir):
    from conftest import Punctual  # noqa: PLC0415

    Punctual.cli_on(data_dir, "create", "--title", "Already there", "--start", tomorrow_at(9), "--end", tomorrow_at(10))
    app = launch()
    wait(app.driver).until(lambda d: "Already there" in agenda_titles(d))
    app.screenshot("agenda-at-start")


def test_the_rendering_mode_that_ships_draws_the_agenda(launch, data_dir):
    """The other tests keep WebKit's compositing on, because WebKitWebDriver cannot take a screenshot
    without it (conftest.py). This one runs the app as it ships, with compositing left to the app, and so
    takes no screenshot: it reads the page through the DOM, and the environment through /proc."""
    from conftest import Punctual, app_pids  # noqa: PLC0415

    Punctual.cli_on(data_dir, "create", "--title", "Shipped mode", "--start", tomorrow_at(9), "--end", tomorrow_at(10))
    app = launch({"WEBKIT_DISABLE_COMPOSITING_MODE": None})
    wait(app.driver).until(lambda d: "Shipped mode" in agenda_titles(d))
    web = app_pids(data_dir, name="WebKitWebProces")
    assert web, "the app started its web process"
    environ = Path(f"/proc/{web[0]}/environ").read_bytes().split(b"\0")
    assert b"WEBKIT_DISABLE_COMPOSITING_MODE=1" in environ, (
        "with the variable unset, the app turns compositing off and its web process inherits that"
    )


def test_event_text_is_shown_as_text_never_as_html(launch):
    app = launch()
    app.cli(
        "create",
        "--title", XSS,
        "--location", XSS,
        "--description", XSS,
        "--start", tomorrow_at(14),
        "--end", tomorrow_at(15),
    )
    driver = app.driver
    wait(driver).until(lambda d: XSS in agenda_titles(d))
    app.screenshot("xss-as-text")
    agenda = driver.find_element(*by_testid("agenda"))
    text = agenda.get_attribute("textContent") or ""
    assert text.count(XSS) == 3, "title, location and description each appear as literal text"
    assert not driver.find_elements(By.CSS_SELECTOR, "[data-testid=agenda] img"), "event text must never become an <img>"
    driver.find_element(*by_testid("agenda-event")).click()
    details = wait(driver).until(EC.visibility_of_element_located(by_testid("event-details")))
    app.screenshot("xss-details-as-text")
    assert (details.get_attribute("textContent") or "").count(XSS) == 3, "the details show the same three texts"
    assert not driver.find_elements(By.TAG_NAME, "img"), "no <img> anywhere: nothing from the event was parsed as HTML"


def test_the_form_shows_core_validation_errors_inline_and_creates_nothing(launch):
    app = launch()
    driver = app.driver
    wait(driver).until(EC.element_to_be_clickable(by_testid("empty-create"))).click()
    form = wait(driver).until(EC.visibility_of_element_located(by_testid("event-form")))
    form.find_element(*by_testid("save-event")).click()
    error = wait(driver).until(EC.visibility_of_element_located(by_testid("error-title")))
    app.screenshot("empty-title-error")
    assert error.text, "the core's message for a blank title appears beside the title field"
    assert driver.find_elements(*by_testid("event-form")), "a rejected event keeps the form open"

    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    title = form.find_element(*by_testid("title-input"))
    title.send_keys("Too late")
    for testid, value in (("start-input", f"{yesterday}T10:00"), ("end-input", f"{yesterday}T11:00")):
        # datetime-local inputs take keyboard input per segment in WebKit; set the value as the UI would see it.
        el = form.find_element(*by_testid(testid))
        driver.execute_script(
            "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
            el,
            value,
        )
    form.find_element(*by_testid("save-event")).click()
    error = wait(driver).until(EC.visibility_of_element_located(by_testid("error-start")))
    app.screenshot("start-in-past-error")
    assert error.text, "a start in the past is reported beside the start field"
    assert app.cli("events", "--all", "--json").count('"id"') == 0, "a rejected event must not be written"


def test_an_event_created_in_the_form_shows_in_the_agenda(launch):
    app = launch()
    driver = app.driver
    wait(driver).until(EC.element_to_be_clickable(by_testid("empty-create"))).click()
    form = wait(driver).until(EC.visibility_of_element_located(by_testid("event-form")))
    form.find_element(*by_testid("title-input")).send_keys("Coffee with Sam")
    app.screenshot("form-filled")
    form.find_element(*by_testid("save-event")).click()
    wait(driver).until(lambda d: "Coffee with Sam" in agenda_titles(d))
    app.screenshot("form-event-in-agenda")
    assert "Coffee with Sam" in app.cli("events", "--all", "--json"), "the event is in the shared database"


def test_day_week_and_month_views_show_events(launch, data_dir):
    from conftest import Punctual  # noqa: PLC0415

    # The next whole hour, as the form proposes: inside today's day, week and month views, except in the last
    # hour of a day (it is then tomorrow), where only the views that still contain it are checked.
    now = dt.datetime.now().astimezone()
    start = (now + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    end = start + dt.timedelta(minutes=45)
    Punctual.cli_on(data_dir, "create", "--title", "Design review", "--start", start.isoformat(), "--end", end.isoformat())
    app = launch()
    driver = app.driver
    wait(driver).until(lambda d: "Design review" in agenda_titles(d))
    same = {
        "d": start.date() == now.date(),
        "w": start.isocalendar()[:2] == now.isocalendar()[:2],  # weeks start on Monday in the grid
        "m": (start.year, start.month) == (now.year, now.month),
    }
    for key, label in (("w", "week"), ("m", "month"), ("d", "day")):
        driver.find_element(*by_testid(f"view-{key}")).click()
        wait(driver).until(EC.visibility_of_element_located(by_testid("calendar-grid")))
        if same[key]:
            wait(driver).until(lambda d: "Design review" in grid_titles(d))
        app.screenshot(f"{label}-view")
    driver.find_element(*by_testid("view-a")).click()
    wait(driver).until(lambda d: "Design review" in agenda_titles(d))


def test_the_dark_theme_applies_and_is_remembered(launch):
    from selenium.webdriver.support.ui import Select  # noqa: PLC0415

    app = launch()
    driver = app.driver
    wait(driver).until(EC.visibility_of_element_located(by_testid("empty-state")))
    Select(driver.find_element(*by_testid("theme-select"))).select_by_value("dark")
    background = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
    app.screenshot("dark-theme")
    assert driver.execute_script("return document.documentElement.dataset.theme") == "dark"
    assert background in ("rgb(21, 24, 29)", "#15181d"), f"the dark theme paints a dark background, got {background}"
    driver.refresh()
    wait(driver).until(EC.visibility_of_element_located(by_testid("empty-state")))
    assert driver.execute_script("return document.documentElement.dataset.theme") == "dark", "the choice survives a reload"
