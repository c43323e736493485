"""Height of a migration's nudge drafts page in headless Chromium, and what it lists.

Serves a prepared demo data folder the way `make demo` does (see bench/page_load.py), logs in as the
demo owner, optionally presses "Draft for every failing or open-PR repository" first (--draft), and
prints the page's scroll height at 1280 px with every draft as the page first shows it, the number
of drafts, and the height with the first draft opened. Prepare the folder once with

    FLEETUI_DEMO=1 FLEETUI_DATA_DIR=/tmp/demo .venv/bin/python manage.py rundemo --prepare-only

then run `python bench/nudge_page.py --data /tmp/demo --migration junit4-to-junit5 --draft`.
With `--baseline-checkout DIR` (e.g. `git archive <commit> | tar -x -C DIR`) the same data is served
from that checkout first, so both pages show the same drafts, and the ratio is printed.
"""

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.page_load import CHROMIUM, CHROMIUM_ARGS, Server, login_cookies  # noqa: E402

WIDTH, HEIGHT = 1280, 900


def measure(base: str, migration: str, *, draft: bool, shots: Path | None, label: str) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        cookies = login_cookies(playwright, base, "owner", "fleetui-demo")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
            context.add_cookies(cookies)
            page = context.new_page()
            page.goto(f"{base}/migrations/{migration}/nudges/")
            if draft:
                page.get_by_role("button", name="Draft for every failing or open-PR repository").click()
                page.wait_for_load_state("load")
                page.goto(f"{base}/migrations/{migration}/nudges/")
            figures = {
                "height": page.evaluate("document.documentElement.scrollHeight"),
                "drafts": page.locator("li.nudge-row, section.nudge-draft").count(),
            }
            if shots:
                page.screenshot(path=str(shots / f"nudges-{label}.png"), full_page=True)
            summary = page.locator("li.nudge-row summary")
            if summary.count():
                summary.first.click()
                figures["height_one_open"] = page.evaluate("document.documentElement.scrollHeight")
            return figures
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path, help="a demo data folder prepared by rundemo")
    parser.add_argument("--migration", default="junit4-to-junit5")
    parser.add_argument("--draft", action="store_true", help="draft for every failing or open-PR repository first")
    parser.add_argument("--baseline-checkout", type=Path, help="another checkout to measure first, on the same data")
    parser.add_argument("--shots", type=Path, help="write full-page screenshots here")
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    if args.shots:
        args.shots.mkdir(parents=True, exist_ok=True)
    runs = []
    if args.baseline_checkout:
        runs.append(("baseline", args.baseline_checkout))
    runs.append(("current", REPO_ROOT))
    results = {}
    for label, checkout in runs:
        with Server(checkout, args.data, args.python) as server:
            results[label] = measure(server.url, args.migration, draft=args.draft, shots=args.shots, label=label)
        figures = results[label]
        opened = f", {figures['height_one_open']} px with one draft open" if "height_one_open" in figures else ""
        print(f"{label:9s} {figures['height']:6d} px for {figures['drafts']} drafts at {WIDTH} px{opened}")
    if "baseline" in results and results["current"]["height"]:
        print(f"ratio     {results['baseline']['height'] / results['current']['height']:.1f}x shorter")


if __name__ == "__main__":
    main()
