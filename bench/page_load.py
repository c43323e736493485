"""Time to a loaded page in a fresh browser, and the bytes it downloads, for a page without charts and a chart page.

Each run launches a new headless Chromium with an empty profile (no cache), logs in through a
cookie taken once beforehand, opens the page and waits for its `load` event (and, on the chart
page, for every chart to be drawn). Figures are the median of --runs runs.

It measures a running server (--url) or starts one itself on a prepared demo data folder, the
way `make demo` serves it (no DEBUG, after collectstatic): prepare the folder once with

    FLEETUI_DEMO=1 FLEETUI_DATA_DIR=/tmp/demo .venv/bin/python manage.py rundemo --prepare-only

then run `python bench/page_load.py --data /tmp/demo`. With `--baseline-checkout DIR` (another
checkout of fleetui, e.g. `git worktree add /tmp/before <commit>`) it serves the same data from
that checkout too and prints this checkout's figures beside it, with the ratio.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("FLEETUI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@dataclass
class Figures:
    seconds: float
    bytes: int
    requests: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`manage.py runserver` of one checkout on the demo data folder, as `make demo` runs it."""

    def __init__(self, checkout: Path, data: Path, python: str):
        self.checkout, self.data, self.python = checkout, data, python
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "FLEETUI_DEMO": "1",
            "FLEETUI_DATA_DIR": str(data),
            "DEBUG": "",
            "PYTHONPATH": str(checkout),
        }
        self.process = None

    def __enter__(self):
        manage = [self.python, "manage.py"]
        subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], cwd=self.checkout, env=self.env, check=True)
        self.process = subprocess.Popen(
            [*manage, "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=self.checkout,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=2)
                return self
            except OSError:
                if self.process.poll() is not None:
                    raise SystemExit(f"the server of {self.checkout} exited with {self.process.returncode}") from None
                time.sleep(0.5)
        raise SystemExit(f"the server of {self.checkout} did not answer within 120 s")

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def login_cookies(playwright, base: str, username: str, password: str) -> list[dict]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        page = browser.new_page()
        page.goto(base + "/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_load_state("load")
        if "/login/" in page.url:
            raise SystemExit(f"could not log in to {base} as {username}")
        return page.context.cookies()
    finally:
        browser.close()


def chart_page_path(playwright, base: str, cookies: list[dict]) -> str:
    """The first migration's dashboard, found on the migrations page."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        context = browser.new_context()
        context.add_cookies(cookies)
        page = context.new_page()
        page.goto(base + "/")
        href = page.eval_on_selector_all("a[href^='/migrations/']", "links => links.map(a => a.getAttribute('href'))")
        paths = [h for h in href if h.count("/") == 3]
        if not paths:
            raise SystemExit("no migration on the migrations page: is the demo data prepared?")
        return paths[0]
    finally:
        browser.close()


def load_once(playwright, url: str, cookies: list[dict], charts: bool) -> Figures:
    """One fresh browser: seconds from navigation to `load` (and charts drawn), bytes over the wire."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        context = browser.new_context()
        context.add_cookies(cookies)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        received = {"bytes": 0, "requests": 0}

        def finished(event):
            received["bytes"] += int(event.get("encodedDataLength", 0))
            received["requests"] += 1

        cdp.on("Network.loadingFinished", finished)
        started = time.perf_counter()
        response = page.goto(url, wait_until="load", timeout=60_000)
        if response is None or response.status != 200:
            raise SystemExit(f"{url} answered {response.status if response else 'nothing'}")
        if charts:
            page.wait_for_function(
                "() => [...document.querySelectorAll('[data-plotly]')].every(el => el.querySelector('.main-svg'))",
                timeout=60_000,
            )
        seconds = time.perf_counter() - started
        page.wait_for_timeout(200)  # the last loadingFinished events
        return Figures(seconds, received["bytes"], received["requests"])
    finally:
        browser.close()


def measure(base: str, runs: int, username: str, password: str) -> dict[str, Figures]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        cookies = login_cookies(playwright, base, username, password)
        pages = {"review queue (no charts)": ("/reviews/", False)}
        pages["migration dashboard (charts)"] = (chart_page_path(playwright, base, cookies), True)
        results = {}
        for name, (path, charts) in pages.items():
            samples = [load_once(playwright, base + path, cookies, charts) for _ in range(runs)]
            results[name] = Figures(
                statistics.median(s.seconds for s in samples),
                int(statistics.median(s.bytes for s in samples)),
                int(statistics.median(s.requests for s in samples)),
            )
            print(f"  {name:30} {path}", file=sys.stderr)
        return results


def serve_and_measure(checkout: Path, args) -> dict[str, Figures]:
    if args.url:
        return measure(args.url.rstrip("/"), args.runs, args.username, args.password)
    with Server(checkout, args.data.resolve(), args.python) as server:
        return measure(server.url, args.runs, args.username, args.password)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="measure this running server instead of starting one")
    where.add_argument("--data", type=Path, help="a demo data folder prepared by `rundemo --prepare-only`")
    parser.add_argument("--baseline-checkout", type=Path, help="another checkout to measure first on the same data")
    parser.add_argument("--runs", type=int, default=5, help="fresh-browser runs per page (median)")
    parser.add_argument("--username", default="owner")
    parser.add_argument("--password", default=os.environ.get("FLEETUI_DEMO_PASSWORD", "fleetui-demo"))
    parser.add_argument("--python", default=sys.executable, help="the Python that runs the servers")
    args = parser.parse_args()
    if args.baseline_checkout and args.url:
        parser.error("--baseline-checkout starts servers itself: give --data, not --url")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"no Chromium at {CHROMIUM} (set FLEETUI_CHROMIUM)")

    baseline = serve_and_measure(args.baseline_checkout.resolve(), args) if args.baseline_checkout else None
    current = serve_and_measure(REPO_ROOT, args)
    print(f"median of {args.runs} fresh-browser runs; seconds to load (chart page: to all charts drawn)")
    header = f"{'page':30} {'seconds':>8} {'kB':>8} {'requests':>8}"
    if baseline:
        header += f"   {'baseline s':>10} {'baseline kB':>11}   {'time ratio':>10} {'bytes ratio':>11}"
    print(header)
    for name, now in current.items():
        line = f"{name:30} {now.seconds:8.2f} {now.bytes / 1000:8.0f} {now.requests:8d}"
        if baseline:
            before = baseline[name]
            line += (
                f"   {before.seconds:10.2f} {before.bytes / 1000:11.0f}"
                f"   {now.seconds / before.seconds:10.2f} {now.bytes / before.bytes:11.3f}"
            )
        print(line)


if __name__ == "__main__":
    main()
