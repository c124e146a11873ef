"""Fixtures for Punctual's desktop end-to-end tests.

The real `punctual-desktop` binary runs under Xvfb (scripts/test.sh wraps pytest in xvfb-run and
dbus-run-session) and is driven over WebDriver: tauri-driver on a free port starts WebKitWebDriver, which starts
the app. Each test gets its own data directory (PUNCTUAL_DATA_DIR, inherited by the app through tauri-driver)
and its own app instance. Screenshots go to one folder per run, printed at the start and at the end.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.remote.client_config import ClientConfig
from selenium.webdriver.remote.remote_connection import RemoteConnection

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "punctual-target"))
DESKTOP_BIN = Path(os.environ.get("PUNCTUAL_DESKTOP_BIN", TARGET / "debug" / "punctual-desktop"))
CLI_BIN = Path(os.environ.get("PUNCTUAL_CLI_BIN", TARGET / "debug" / "punctual"))
FAKE_CLOUD_BIN = Path(os.environ.get("PUNCTUAL_FAKE_CLOUD_BIN", TARGET / "debug" / "fake-cloud"))
SHOTS = Path(os.environ.get("PUNCTUAL_E2E_SHOTS") or tempfile.mkdtemp(prefix="punctual-e2e-shots-"))


def pytest_configure(config: pytest.Config) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nPunctual e2e: screenshots in {SHOTS}")


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    terminalreporter.write_line(f"Punctual e2e: screenshots in {SHOTS}")


def stop(proc: subprocess.Popen, timeout: float = 5) -> None:
    """Ends a helper process: politely, then for sure."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"tauri-driver exited early with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"tauri-driver did not listen on port {port} within {timeout}s")


class Punctual:
    """One running app: its WebDriver session, data dir and screenshot helper."""

    def __init__(self, driver: webdriver.Remote, data_dir: Path, shots: Path, name: str) -> None:
        self.driver = driver
        self.data_dir = data_dir
        self.shots = shots
        self.name = name
        self.step = 0

    def screenshot(self, label: str) -> Path:
        self.step += 1
        path = self.shots / f"{self.name}-{self.step:02d}-{label}.png"
        # Let WebKit paint the DOM the test just saw; a screenshot right after a change can show the frame before.
        try:
            self.driver.set_script_timeout(5)
            self.driver.execute_async_script(
                "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));"
            )
        except Exception:  # noqa: BLE001 - a screenshot of the last frame is still worth having.
            pass
        self.driver.save_screenshot(str(path))
        return path

    def cli(self, *args: str) -> str:
        """Runs the `punctual` CLI on this app's data directory, as a second process would."""
        return Punctual.cli_on(self.data_dir, *args)

    @staticmethod
    def cli_on(data_dir: Path, *args: str) -> str:
        assert CLI_BIN.exists(), f"{CLI_BIN} is missing: build it with `cargo build --bin punctual`"
        out = subprocess.run(
            [str(CLI_BIN), "--data-dir", str(data_dir), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, f"punctual {' '.join(args)} failed ({out.returncode}): {out.stderr}"
        return out.stdout


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # type: ignore[no-untyped-def]
    """On a failed test, screenshots every window it opened, so the failure can be seen, not just read."""
    report = yield
    if report.failed and report.when in ("setup", "call"):
        # Before the teardown ends it: where a stuck app's threads wait is the first clue to a hang.
        report.sections.append(("punctual-desktop threads", app_threads()))
    if report.when == "call" and report.failed:
        for i, app in enumerate(getattr(item, "punctual_apps", [])):
            try:
                path = app.screenshot(f"FAILED-{i}")
                report.sections.append(("screenshot", str(path)))
            except Exception:  # noqa: BLE001 - the app may have died, which the failure already says.
                pass
    return report


TEST_TIMEOUT_S = 120
# Each WebDriver command gets an answer or an error within this: a stuck app must fail its test, and then
# let the teardown end it, rather than hold a socket read (Selenium's default has no timeout) for ever.
WEBDRIVER_TIMEOUT_S = 90


def app_threads() -> str:
    """Where each thread of every running Punctual app waits (its name, state and kernel wait channel), so
    that a hang seen in CI says which threads were stuck, and on what."""
    lines = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or not _comm(int(entry.name)).startswith("punctual-deskto"):
            continue
        lines.append(f"punctual-desktop pid {entry.name}:")
        for task in sorted((entry / "task").iterdir(), key=lambda t: int(t.name)):
            try:
                name = (task / "comm").read_text().strip()
                stat = (task / "stat").read_text()
                wchan = (task / "wchan").read_text().strip() or "-"
            except OSError:
                continue
            state = stat[stat.rfind(")") + 2 :].split()[0]
            lines.append(f"  {task.name:>7} {name:<16} {state} {wchan}")
    return "\n".join(lines) or "(no punctual-desktop running)"


@pytest.fixture(autouse=True)
def no_test_hangs():
    """Fails a test that runs longer than TEST_TIMEOUT_S, with the traceback of where it waited and the app's
    threads, instead of letting one stuck call hold up the whole run (and CI) for ever."""
    import signal  # noqa: PLC0415

    def stuck(signum, frame):  # type: ignore[no-untyped-def]
        raise TimeoutError(f"the test ran longer than {TEST_TIMEOUT_S}s; the app's threads:\n{app_threads()}")

    previous = signal.signal(signal.SIGALRM, stuck)
    signal.alarm(TEST_TIMEOUT_S)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def launch(data_dir: Path, request: pytest.FixtureRequest):
    """Returns a function that starts the app (after any setup the test did on the data dir)."""
    if not DESKTOP_BIN.exists():
        pytest.fail(f"{DESKTOP_BIN} is missing: build it with `cargo build -p punctual-desktop`")
    if shutil.which("tauri-driver") is None:
        pytest.fail("tauri-driver is missing: run scripts/setup-debian.sh")
    started: list[tuple[webdriver.Remote | None, subprocess.Popen]] = []

    def start(extra_env: dict[str, str | None] | None = None) -> Punctual:
        """`extra_env` adds variables for the app; a value of None removes one."""
        port, native_port = _free_port(), _free_port()
        # WebKit keeps localStorage (the theme) and caches under the XDG folders: give each test its own, so
        # that no test sees what an earlier one (or the user's own Punctual) left there.
        xdg = data_dir.parent / "xdg"
        env = dict(
            os.environ,
            PUNCTUAL_DATA_DIR=str(data_dir),
            TAURI_WEBVIEW_AUTOMATION="true",
            # The app turns WebKit's accelerated compositing off (src-tauri/src/webkit_env.rs), and then
            # WebKitWebDriver's screenshot never answers (WebKitGTK 2.50, seen here: every test that takes one
            # waited out its 90 s). "0" keeps compositing on, which the app respects as the user's choice; the
            # page's DOM and behaviour are the same either way, and scripts/bench-desktop.sh checks the
            # shipped mode's painting by its pixels.
            WEBKIT_DISABLE_COMPOSITING_MODE="0",
            XDG_DATA_HOME=str(xdg / "data"),
            XDG_CONFIG_HOME=str(xdg / "config"),
            XDG_CACHE_HOME=str(xdg / "cache"),
        )
        for key, value in (extra_env or {}).items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        log = open(SHOTS / f"{request.node.name}-tauri-driver.log", "ab")
        proc = subprocess.Popen(
            ["tauri-driver", "--port", str(port), "--native-port", str(native_port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        started.append((None, proc))
        # tauri-driver listens at once but forwards to WebKitWebDriver, which starts a moment later: a session
        # requested before both listen is refused.
        _wait_for_port(port, proc)
        _wait_for_port(native_port, proc)
        options = ArgOptions()
        options.set_capability("browserName", "wry")
        options.set_capability("tauri:options", {"application": str(DESKTOP_BIN)})
        connection = RemoteConnection(
            client_config=ClientConfig(
                remote_server_addr=f"http://127.0.0.1:{port}",
                timeout=WEBDRIVER_TIMEOUT_S,
                # No retries: a command that timed out is not sent again (it may have run), and a stuck app
                # fails in one timeout, not four. Selenium 4.51 reads the pool's arguments from this inner key.
                init_args_for_pool_manager={"init_args_for_pool_manager": {"retries": False}},
            )
        )
        driver = webdriver.Remote(command_executor=connection, options=options)
        started[-1] = (driver, proc)
        driver.implicitly_wait(0)
        app = Punctual(driver, data_dir, SHOTS, request.node.name)
        request.node.punctual_apps = [*getattr(request.node, "punctual_apps", []), app]
        return app

    yield start

    for driver, proc in started:
        if driver is not None:
            try:
                driver.quit()
            except Exception:  # noqa: BLE001 - the app may already be gone; the test result stands.
                pass
        stop(proc, timeout=10)
    # The app outlives its window (it stays in the tray): end what this test started, found by its data dir,
    # and for sure if it does not end by itself (a stuck app would keep the next tests' shortcuts and ports).
    end_apps(data_dir)


def end_apps(data_dir: Path, grace: float = 5.0) -> None:
    """Ends the apps running on `data_dir`: SIGTERM, then SIGKILL for any still there after `grace`."""
    for signal_number in (15, 9):
        pids = app_pids(data_dir)
        for pid in pids:
            try:
                os.kill(pid, signal_number)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while pids and time.monotonic() < deadline and app_pids(data_dir):
            time.sleep(0.1)
        if not app_pids(data_dir):
            return


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def app_pids(data_dir: Path, name: str = "punctual-deskto") -> list[int]:
    """The running processes on `data_dir` whose name starts with `name`: the app, or (name="WebKit") the WebKit
    processes it started, which inherit its environment, even if they outlived it."""
    wanted = f"PUNCTUAL_DATA_DIR={data_dir}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or not _comm(int(entry.name)).startswith(name):
            continue
        try:
            env = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if wanted in env:
            pids.append(int(entry.name))
    return pids


def webkit_children(pid: int) -> list[str]:
    """The WebKit helper processes whose parent is `pid`, by their 15-character kernel names (WebKitWebProces,
    WebKitNetworkPr)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(")") + 2 :].split()[1])
        comm = stat[stat.find("(") + 1 : stat.rfind(")")]
        if ppid == pid and comm.startswith("WebKit"):
            found.append(comm)
    return found


@pytest.fixture
def tray_panel():
    """A system tray on the Xvfb display (trayer), as a desktop panel would provide; plain Xvfb has none."""
    if shutil.which("trayer") is None or shutil.which("xdotool") is None:
        pytest.fail("trayer and xdotool are missing: run scripts/setup-debian.sh")
    proc = subprocess.Popen(
        ["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width", "120",
         "--heighttype", "pixel", "--height", "32", "--transparent", "false", "--tint", "0xffffff"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not x_windows("--class", "trayer"):
        time.sleep(0.1)
    yield proc
    stop(proc)


def x_windows(*search: str) -> list[str]:
    """X window ids matching an `xdotool search` query."""
    out = subprocess.run(["xdotool", "search", *search], capture_output=True, text=True, timeout=10)
    return out.stdout.split()


class FakeGoogle:
    """The fake Google of the core's tests (tests/support/fake_google.rs) as a process: OAuth with PKCE checked,
    calendarList and events with real sync tokens, and a control API to change it while the app runs."""

    def __init__(self, proc: subprocess.Popen, info: dict[str, str]) -> None:
        self.proc = proc
        self.info = info

    def env(self) -> dict[str, str]:
        """The environment that points the app's Google at this fake."""
        return {k: v for k, v in self.info.items() if k.startswith("PUNCTUAL_GOOGLE_")}

    def microsoft_env(self) -> dict[str, str]:
        """The environment that points the app's Microsoft account at the same process's fake Graph."""
        return {k: v for k, v in self.info.items() if k.startswith("PUNCTUAL_MICROSOFT_")}

    def control(self, name: str, body: dict | None = None, **query: str) -> dict:
        return self._control(self.info["control"], name, body, **query)

    def microsoft_control(self, name: str, body: dict | None = None, **query: str) -> dict:
        """The fake Graph's control API (tests/support/fake_graph.rs, `State::control`)."""
        return self._control(self.info["microsoft_control"], name, body, **query)

    @staticmethod
    def _control(base: str, name: str, body: dict | None = None, **query: str) -> dict:
        import json  # noqa: PLC0415
        import urllib.parse  # noqa: PLC0415
        import urllib.request  # noqa: PLC0415

        url = base + name + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body or {}).encode()
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST"), timeout=10) as r:
            return json.loads(r.read())


@pytest.fixture
def fake_google(tmp_path: Path):
    """Returns a function that starts fake-cloud with `items` (events.list items) in Google's jane@acme.example
    and `graph_items` (Graph event bodies) in the fake Graph's default calendar."""
    import json  # noqa: PLC0415

    if not FAKE_CLOUD_BIN.exists():
        pytest.fail(f"{FAKE_CLOUD_BIN} is missing: cargo build -p punctual --features fake-cloud --bin fake-cloud")
    procs: list[subprocess.Popen] = []

    def start(items: list[dict], graph_items: list[dict] | None = None) -> FakeGoogle:
        events = tmp_path / "google-events.json"
        events.write_text(json.dumps({"items": items}))
        graph = tmp_path / "graph-events.json"
        graph.write_text(json.dumps({"value": graph_items or []}))
        proc = subprocess.Popen(
            [str(FAKE_CLOUD_BIN), "--events", str(events), "--graph-events", str(graph)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        line = proc.stdout.readline() if proc.stdout else ""
        assert line, f"fake-cloud printed no setup line (exit status {proc.poll()})"
        return FakeGoogle(proc, json.loads(line))

    yield start
    for proc in procs:
        # fake-cloud serves until its stdin closes.
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


def _bus_has(name: str) -> bool:
    out = subprocess.run(
        ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
         "org.freedesktop.DBus.NameHasOwner", f"string:{name}"],
        capture_output=True, text=True, timeout=10,
    )
    return "boolean true" in out.stdout


@pytest.fixture(scope="module")
def keychain(tmp_path_factory: pytest.TempPathFactory):
    """GNOME Keyring's Secret Service on the tests' session bus, unlocked, as on a user's desktop: the app keeps
    account tokens there. Its keyrings live in a temporary home. It ends with the module that asked for it, so
    that the other tests run on a desktop without one, as before."""
    if shutil.which("gnome-keyring-daemon") is None or shutil.which("dbus-send") is None:
        pytest.fail("gnome-keyring-daemon and dbus-send are missing: run scripts/setup-debian.sh")
    if _bus_has("org.freedesktop.secrets"):
        yield None
        return
    home = tmp_path_factory.mktemp("keyring-home")
    env = dict(os.environ, HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_RUNTIME_DIR=str(home))
    proc = subprocess.Popen(
        ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    # --unlock reads the new login keyring's password from stdin, up to its end.
    assert proc.stdin is not None
    proc.stdin.write(b"pw")
    proc.stdin.close()
    deadline = time.monotonic() + 15
    while not _bus_has("org.freedesktop.secrets"):
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"gnome-keyring-daemon did not offer the Secret Service (exit status {proc.poll()})")
        time.sleep(0.1)
    yield proc
    stop(proc)
