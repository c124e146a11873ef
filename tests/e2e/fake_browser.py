"""A stand-in for the user's browser in the desktop tests, given to the app as $BROWSER.

It is handed the sign-in URL, asks the fake Google's authorize endpoint (which approves at once, as a user
clicking Allow would), and follows its redirect to the app's loopback listener, like a browser. It returns to the
app at once and does the visit in a detached child, as a real browser would keep running. What the listener
answered is appended to $FAKE_BROWSER_LOG.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request


class _Stop(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


def visit(url: str) -> str:
    opener = urllib.request.build_opener(_Stop)
    try:
        opener.open(url, timeout=30)
        return "authorize did not redirect"
    except urllib.error.HTTPError as e:
        location = e.headers.get("Location")
        if e.code != 302 or not location:
            return f"authorize answered {e.code}"
    try:
        with urllib.request.urlopen(location, timeout=30) as r:
            return f"{r.status} {r.read().decode(errors='replace')}"
    except urllib.error.HTTPError as e:
        return f"{e.code} {e.read().decode(errors='replace')}"


def main() -> None:
    if sys.argv[1] == "--visit":
        result = visit(sys.argv[2])
        log = os.environ.get("FAKE_BROWSER_LOG")
        if log:
            with open(log, "a") as f:
                f.write(result.replace("\n", " ") + "\n")
        return
    subprocess.Popen([sys.executable, __file__, "--visit", sys.argv[1]], start_new_session=True)


if __name__ == "__main__":
    main()
