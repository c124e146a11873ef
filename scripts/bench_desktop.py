"""The desktop benchmark's measurements (run by scripts/bench-desktop.sh inside Xvfb and a session bus).

- Cold start: from spawning the app until its window shows the agenda with an event, judged by pixels: the
  window's pixels are read from the X server 20 ms after each look (scripts/xpixels.py; a look takes about
  12 ms, 9 ms of it CPU) until the event's own colour (its dot in the agenda) is on screen, which only happens once
  the page ran, read the events over IPC and painted them. Several starts (--starts, each a new process on
  the same data), reported as their median, min and max. With --trace, the app prints when each step of its
  start happened (src-tauri/src/startup_trace.rs) and each start's steps are listed in ms after the spawn.
- Memory: PSS (proportional set size, /proc/PID/smaps_rollup) summed over the app and every WebKit process it
  started, after an idle period, window open and then window closed (WM_DELETE_WINDOW, as a close button).
- Idle, window closed: CPU time (utime + stime, /proc/PID/stat) and context switches of all the app's threads
  (/proc/PID/task/*/status), a count of wake-ups, over the idle period.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from xwindow import close_window  # noqa: E402
from xpixels import Display  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rfind(")") + 2 :].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory(pid: int) -> tuple[float, list[str]]:
    procs = [pid, *[c for c in children(pid) if comm(c).startswith("WebKit")]]
    return sum(pss_kib(p) for p in procs) / 1024, [comm(p) for p in procs]


def cpu_and_switches(pid: int) -> tuple[float, dict[str, int]]:
    """CPU seconds of the process, and the context switches of each of its threads by thread id."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rfind(")") + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICK
    switches = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            lines = (task / "status").read_text().splitlines()
        except OSError:
            continue
        switches[task.name] = sum(
            int(line.split()[1])
            for line in lines
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"))
        )
    return cpu, switches


def new_switches(before: dict[str, int], after: dict[str, int]) -> int:
    """Switches between two samples: threads that ended in between are not counted, new ones are in full."""
    return sum(n - before.get(tid, 0) for tid, n in after.items())


def windows(name: str) -> list[str]:
    out = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", name], capture_output=True, text=True)
    return out.stdout.split()


POLL = 0.02


def cold_start(app_path: str, env: dict[str, str], log: Path, colour: str, screen: Display,
               ) -> tuple[subprocess.Popen, float | None, float]:
    """Starts the app; returns it, the seconds until the event's colour was on screen (None: not in 30 s),
    and the wall-clock time of the spawn (for the trace)."""
    spawned_at = time.time()
    t0 = time.monotonic()
    app = subprocess.Popen([app_path], env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    window = None
    while time.monotonic() - t0 < 30:
        if window is None:
            found = windows("^Punctual$")
            window = int(found[0]) if found else None
        if window is not None and screen.shows(window, colour):
            return app, time.monotonic() - t0, spawned_at
        time.sleep(POLL)
    return app, None, spawned_at


def trace_steps(log: Path, spawned_at: float) -> list[str]:
    """The app's trace lines (`punctual-startup <unix s> <step>`) as `<ms after spawn> <step>`."""
    steps = []
    for line in log.read_text().splitlines():
        if line.startswith("punctual-startup "):
            _, at, step = line.split(" ", 2)
            steps.append((float(at) - spawned_at, step))
    return [f"{ms * 1000:7.0f} ms  {step}" for ms, step in sorted(steps)]


def stop(app: subprocess.Popen) -> None:
    """Ends a start that was only for timing, and waits, so that the next one is not a second instance."""
    app.terminate()
    app.wait(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--idle", type=int, default=60)
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--trace", action="store_true")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="punctual-bench-"))
    data = tmp / "data"
    env = dict(os.environ, PUNCTUAL_DATA_DIR=str(data), XDG_CONFIG_HOME=str(tmp / "config"),
               XDG_DATA_HOME=str(tmp / "share"), XDG_CACHE_HOME=str(tmp / "cache"))
    start = (dt.datetime.now().astimezone() + dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    created = subprocess.run([a.cli, "--data-dir", str(data), "--json", "create", "--title", "Benchmark standup",
                              "--start", start.isoformat(), "--end", (start + dt.timedelta(minutes=30)).isoformat(),
                              "--location", "https://meet.google.com/abc-defg-hij"], check=True, capture_output=True)
    colour = json.loads(created.stdout)["color"]
    # The tray needs a panel; trayer is what the end-to-end tests use.
    tray = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width",
                             "120", "--heighttype", "pixel", "--height", "32"], stderr=subprocess.DEVNULL)
    time.sleep(1)

    if a.trace:
        env["PUNCTUAL_STARTUP_TRACE"] = "1"
    screen = Display()
    times = []
    for n in range(max(a.starts, 1)):
        log = tmp / f"app-{n}.log"
        app, painted, spawned_at = cold_start(a.app, env, log, colour, screen)
        times.append(painted)
        if a.trace:
            print(f"start {n + 1}: painted after {painted * 1000:.0f} ms" if painted else f"start {n + 1}: not painted")
            print("  CPU used by then: " + ", ".join(f"{comm(p)} {cpu_and_switches(p)[0] * 1000:.0f} ms"
                                                    for p in [app.pid, *children(app.pid)]))
            print("\n".join(trace_steps(log, spawned_at)))
        if n + 1 < a.starts:
            if a.trace:
                # The page sends its marks a frame or two after the paint.
                time.sleep(1)
            stop(app)
            # The machine settles between starts, as before the first.
            time.sleep(1)
    screen.close()
    done = sorted(t for t in times if t is not None)
    if len(done) == len(times):
        print(f"cold start until the calendar is painted: median {statistics.median(done):.2f} s, "
              f"min {done[0]:.2f} s, max {done[-1]:.2f} s over {len(done)} starts "
              f"({', '.join(f'{t:.2f}' for t in times)})")
    else:
        print(f"cold start: {len(times) - len(done)} of {len(times)} starts not painted in 30 s")

    time.sleep(a.idle)
    mb, procs = memory(app.pid)
    print(f"PSS after {a.idle} s idle, window open: {mb:.0f} MB over {len(procs)} processes ({', '.join(procs)})")

    close_window(int(windows("^Punctual$")[0]))
    time.sleep(5)
    cpu0, sw0 = cpu_and_switches(app.pid)
    time.sleep(a.idle)
    cpu1, sw1 = cpu_and_switches(app.pid)
    mb, procs = memory(app.pid)
    webkit = [p for p in procs if p.startswith("WebKit")]
    print(f"PSS after {a.idle} s idle, window closed: {mb:.0f} MB; WebKit processes left: {webkit or 'none'}")
    woke = new_switches(sw0, sw1)
    print(f"idle {a.idle} s with the window closed: CPU {cpu1 - cpu0:.2f} s, "
          f"{woke} context switches ({woke / a.idle:.1f}/s) over {len(sw1)} threads")
    app.terminate()
    tray.terminate()
    app.wait(timeout=10)


if __name__ == "__main__":
    main()
