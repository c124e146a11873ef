"""The desktop benchmark's measurements (run by scripts/bench-desktop.sh inside Xvfb and a session bus).

- Cold start: from spawning the app until its window shows the agenda with an event, judged by pixels: the
  window is captured every 50 ms until the event's own colour (its dot in the agenda) is on screen, which
  only happens once the page ran, read the events over IPC and painted them.
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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from xwindow import close_window  # noqa: E402

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


def shows_colour(window: str, hex_colour: str) -> bool:
    shot = subprocess.run(["import", "-window", window, "png:-"], capture_output=True)
    out = subprocess.run(["convert", "png:-", "-format", "%c", "histogram:info:-"], input=shot.stdout,
                         capture_output=True)
    return hex_colour.upper() in out.stdout.decode().upper()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--idle", type=int, default=60)
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

    t0 = time.monotonic()
    app = subprocess.Popen([a.app], env=env, stdout=subprocess.DEVNULL, stderr=(tmp / "app.log").open("w"))
    painted = None
    while time.monotonic() - t0 < 30:
        found = windows("^Punctual$")
        if found and shows_colour(found[0], colour):
            painted = time.monotonic() - t0
            break
        time.sleep(0.05)
    print(f"cold start until the calendar is painted: {painted:.2f} s" if painted else "cold start: not painted in 30 s")

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
