"""Seconds from `make demo` to its first served page, on a fresh clone, and how long installing takes.

    python bench/demo_startup.py                      # clone this checkout's HEAD, measure it
    python bench/demo_startup.py --baseline REF       # the same for commit REF beside it, with ratios
    python bench/demo_startup.py --installs pip,uv    # also time `make install` with each installer

For each checkout (a `git clone` into a temporary folder: no venv, no data) it

1. times `make install` with each installer asked for, from an empty package cache (a fresh machine)
   and, for uv, again from the cache the first install filled (a machine with the packages cached);
2. runs `make demo` and polls `/login/` until it answers 200: the first run (traces written, imported,
   clustered, GitHub and Slack read) and, after stopping it, a second run on the same data;
3. logs in once the first run serves and checks that its first pages already show the fake GitHub's
   pull-request states and the fake Slack's channels.

The demo runs are timed with the install already done, so they add to the install figures. The load
average is printed beside them: on a shared machine every figure moves with it, the ratios less.
"""

import argparse
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PASSWORD = os.environ.get("FLEETUI_DEMO_PASSWORD", "fleetui-demo")


@dataclass
class Checkout:
    label: str
    path: Path
    figures: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def clone(ref: str, into: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", str(REPO_ROOT), str(into)], check=True)
    subprocess.run(["git", "-C", str(into), "checkout", "--quiet", ref], check=True)
    return into


def timed_install(checkout: Path, installer: str, cache: Path, log: Path) -> float:
    """`make install` into a new venv with the installer and cache given; seconds."""
    shutil.rmtree(checkout / ".venv", ignore_errors=True)
    env = {**os.environ, "PIP_CACHE_DIR": str(cache / "pip"), "UV_CACHE_DIR": str(cache / "uv")}
    env.pop("VIRTUAL_ENV", None)
    started = time.monotonic()
    with log.open("a") as out:
        subprocess.run(
            ["make", "install", f"INSTALLER={installer}"], cwd=checkout, env=env, stdout=out, stderr=out, check=True
        )
    return time.monotonic() - started


class Demo:
    """`make demo` in the checkout, in its own process group so that stopping it stops its children."""

    def __init__(self, checkout: Path, port: int, log: Path):
        self.checkout, self.port, self.log = checkout, port, log
        self.url = f"http://127.0.0.1:{port}"
        self.process = None

    def start(self) -> float:
        env = {**os.environ}
        for name in ("VIRTUAL_ENV", "FLEETUI_DATA_DIR", "DATABASE_URL", "REDIS_URL", "FLEETUI_TESTING", "DEBUG"):
            env.pop(name, None)
        self.out = self.log.open("a")
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            ["make", "demo", f"DEMO_PORT={self.port}"],
            cwd=self.checkout,
            env=env,
            stdout=self.out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self.started

    def wait_served(self, timeout: float) -> float:
        deadline = self.started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"make demo exited with {self.process.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.url}/login/", timeout=5) as response:
                    if response.status == 200:
                        return time.monotonic() - self.started
            except OSError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"no page within {timeout:.0f} s; see {self.log}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)  # as Ctrl-C: rundemo stops its server, worker and beat
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.out.close()


def first_pages(url: str) -> list[str]:
    """Logs in as the owner and reads what the review queue and Slack directory show."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = opener.open(f"{url}/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login).group(1)
    form = urllib.parse.urlencode({"username": "owner", "password": PASSWORD, "csrfmiddlewaretoken": token}).encode()
    request = urllib.request.Request(f"{url}/login/", data=form, headers={"Referer": f"{url}/login/"})
    opener.open(request, timeout=30).read()
    reviews = opener.open(f"{url}/reviews/", timeout=60).read().decode()
    directory = opener.open(f"{url}/slack/directory/", timeout=60).read().decode()
    numbered = len(re.findall(r'title="The pull request on GitHub">#\d+<', reviews))
    unread = reviews.count('title="The pull request on GitHub">#?<')
    ci = len(re.findall(r'class="badge checks-', reviews))
    channels = len(set(re.findall(r"#[a-z0-9][a-z0-9_-]+", re.sub(r"<[^>]+>", " ", directory))))
    return [
        f"review queue: {numbered} pull requests with their GitHub number, {unread} without, {ci} with a CI state",
        f"Slack directory page: {channels} distinct channel names",
    ]


def measure_demo(checkout: Checkout, timeout: float, check_pages: bool) -> None:
    log = checkout.path / "bench-demo.log"
    for run in ("first", "second"):
        demo = Demo(checkout.path, free_port(), log)
        demo.start()
        try:
            seconds = demo.wait_served(timeout)
            checkout.figures[f"make demo, {run} run: seconds to /login/"] = seconds
            print(f"  {checkout.label}: {run} run served after {seconds:.1f} s (load {load()})", flush=True)
            if run == "first" and check_pages:
                for note in first_pages(demo.url):
                    checkout.notes.append(note)
                    print(f"  {checkout.label}: {note}", flush=True)
        finally:
            demo.stop()


def measure_installs(checkout: Checkout, installers: list[str], work: Path) -> None:
    log = checkout.path / "bench-install.log"
    for installer in installers:
        cache = work / f"cache-{checkout.label}-{installer}"
        seconds = timed_install(checkout.path, installer, cache, log)
        checkout.figures[f"make install, {installer}, empty cache"] = seconds
        print(f"  {checkout.label}: make install with {installer}, empty cache: {seconds:.1f} s (load {load()})")
        seconds = timed_install(checkout.path, installer, cache, log)
        checkout.figures[f"make install, {installer}, filled cache"] = seconds
        print(f"  {checkout.label}: make install with {installer}, filled cache: {seconds:.1f} s (load {load()})")
    if not installers:
        # Not timed: any checkout (an older one's Makefile may know only pip) gets its venv the quick way.
        venv = checkout.path / ".venv"
        with log.open("a") as out:
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, stdout=out, stderr=out)
            python, lock = str(venv / "bin" / "python"), str(checkout.path / "requirements.lock")
            script = REPO_ROOT / "scripts" / "install-requirements"
            subprocess.run(["sh", str(script), python, "auto", lock], check=True, stdout=out, stderr=out)
        (venv / ".installed").touch()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ref", default="HEAD", help="commit of this repository to measure (default HEAD)")
    parser.add_argument("--baseline", help="another commit to measure the same way, printed beside it")
    parser.add_argument("--installs", default="", help="installers to time, comma separated: pip,uv (default none)")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds to wait for a page (default 1200)")
    parser.add_argument("--work", type=Path, help="folder for the clones and caches (default: a new temporary one)")
    parser.add_argument("--no-page-check", action="store_true", help="do not log in to check the first pages")
    args = parser.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="fleetui-demo-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    installers = [name for name in args.installs.split(",") if name]
    checkouts = [Checkout("this", clone(args.ref, work / "this"))]
    if args.baseline:
        checkouts.insert(0, Checkout("baseline", clone(args.baseline, work / "baseline")))
    print(f"Clones in {work}; load average {load()} on {os.cpu_count()} cores", flush=True)
    for checkout in checkouts:
        measure_installs(checkout, installers, work)
        measure_demo(checkout, args.timeout, check_pages=not args.no_page_check)

    print()
    names = list(dict.fromkeys(name for c in checkouts for name in c.figures))
    header = "".join(f"{c.label:>12}" for c in checkouts) + ("       ratio" if len(checkouts) == 2 else "")
    print(f"{'':<44}{header}")
    for name in names:
        values = [c.figures.get(name) for c in checkouts]
        row = "".join(f"{v:>11.1f}s" if v is not None else f"{'-':>12}" for v in values)
        if len(values) == 2 and all(values):
            row += f"{values[0] / values[1]:>11.1f}x"
        print(f"{name:<44}{row}")
    print(f"load average at the end: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
