"""Layout of the list pages in headless Chromium: row heights, table heights and horizontal overflow.

For each window width (1280 and 1440 px by default) it opens the fleet overview, the first
migration's failure clusters and its repositories, and prints:

- the page's scroll width (`document.documentElement.scrollWidth`) beside the window width,
- the widest overflow hidden inside a scrolling table box (a cut-off last column),
- the median row height of the list and how many rows fit in the first screen,
- the height of the repository table and how many rows it holds.

It measures a running server (--url) or starts one itself on a prepared demo data folder, the
way `make demo` serves it (see bench/page_load.py): prepare the folder once with

    FLEETUI_DEMO=1 FLEETUI_DATA_DIR=/tmp/demo .venv/bin/python manage.py rundemo --prepare-only

then run `python bench/list_layout.py --data /tmp/demo [--shots /tmp/shots]`. With
`--baseline-checkout DIR` (e.g. `git worktree add /tmp/before <commit>`) the same data is served
from that checkout first and both sets of figures are printed side by side.
"""

import argparse
import os
import statistics
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.page_load import CHROMIUM, CHROMIUM_ARGS, Server, login_cookies  # noqa: E402

WIDTHS = (1280, 1440)
HEIGHTS = {1280: 800, 1440: 900}

MEASURE = """
() => {
  const doc = document.documentElement;
  let hidden = 0;
  document.querySelectorAll('.table-wrap, .list-wrap').forEach(box => {
    hidden = Math.max(hidden, box.scrollWidth - box.clientWidth);
  });
  const table = document.querySelector('main table');
  const rows = table ? [...table.querySelectorAll('tbody tr')] : [];
  const heights = rows.map(r => r.getBoundingClientRect().height);
  const inFirstScreen = rows.filter(r => r.getBoundingClientRect().bottom <= window.innerHeight).length;
  return {
    scrollWidth: doc.scrollWidth,
    pageHeight: doc.scrollHeight,
    hiddenOverflow: hidden,
    rows: rows.length,
    rowHeights: heights,
    inFirstScreen: inFirstScreen,
    tableHeight: table ? table.getBoundingClientRect().height : 0,
  };
}
"""


def first_migration(page, base: str) -> str:
    page.goto(base + "/")
    hrefs = page.eval_on_selector_all("a[href^='/migrations/']", "links => links.map(a => a.getAttribute('href'))")
    paths = [h for h in hrefs if h.count("/") == 3]
    if not paths:
        raise SystemExit("no migration on the migrations page: is the demo data prepared?")
    return paths[0]


def measure(base: str, args, label: str) -> dict:
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as playwright:
        cookies = login_cookies(playwright, base, args.username, args.password)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for width in args.widths:
                context = browser.new_context(viewport={"width": width, "height": HEIGHTS.get(width, 900)})
                context.add_cookies(cookies)
                page = context.new_page()
                migration = args.migration and f"/migrations/{args.migration}/" or first_migration(page, base)
                pages = {
                    "fleet overview": "/",
                    "cluster list": migration + "clusters/",
                    "repository table": migration + "repos/",
                }
                for name, path in pages.items():
                    response = page.goto(base + path, wait_until="load")
                    if response is None or response.status != 200:
                        raise SystemExit(f"{path} answered {response.status if response else 'nothing'}")
                    figures = page.evaluate(MEASURE)
                    figures["path"] = path
                    results[(width, name)] = figures
                    if args.shots:
                        args.shots.mkdir(parents=True, exist_ok=True)
                        slug = name.replace(" ", "-")
                        page.screenshot(path=str(args.shots / f"{label}-{slug}-{width}.png"), full_page=False)
                        page.screenshot(path=str(args.shots / f"{label}-{slug}-{width}-full.png"), full_page=True)
                context.close()
        finally:
            browser.close()
    return results


def serve_and_measure(checkout: Path, args, label: str) -> dict:
    if args.url:
        return measure(args.url.rstrip("/"), args, label)
    with Server(checkout, args.data.resolve(), args.python) as server:
        return measure(server.url, args, label)


def describe(figures: dict, width: int) -> list[str]:
    heights = figures["rowHeights"]
    median = statistics.median(heights) if heights else 0
    return [
        f"scroll width {figures['scrollWidth']} px"
        + (
            " (no horizontal scroll)"
            if figures["scrollWidth"] <= width
            else f" ({figures['scrollWidth'] - width} px too wide)"
        ),
        f"overflow hidden in a table box {figures['hiddenOverflow']} px",
        f"rows {figures['rows']}, median row height {median:.0f} px, {figures['inFirstScreen']} in the first screen",
        f"table height {figures['tableHeight']:.0f} px, page height {figures['pageHeight']} px",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="measure this running server instead of starting one")
    where.add_argument("--data", type=Path, help="a demo data folder prepared by `rundemo --prepare-only`")
    parser.add_argument("--baseline-checkout", type=Path, help="another checkout to measure first on the same data")
    parser.add_argument("--migration", help="migration slug (default: the first one on the overview)")
    parser.add_argument("--widths", type=int, nargs="+", default=list(WIDTHS))
    parser.add_argument("--shots", type=Path, help="write a screenshot of every page and width into this folder")
    parser.add_argument("--username", default="owner")
    parser.add_argument("--password", default=os.environ.get("FLEETUI_DEMO_PASSWORD", "fleetui-demo"))
    parser.add_argument("--python", default=sys.executable, help="the Python that runs the servers")
    args = parser.parse_args()
    if args.baseline_checkout and args.url:
        parser.error("--baseline-checkout starts servers itself: give --data, not --url")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"no Chromium at {CHROMIUM} (set FLEETUI_CHROMIUM)")

    runs = []
    if args.baseline_checkout:
        runs.append(("baseline", serve_and_measure(args.baseline_checkout.resolve(), args, "baseline")))
    runs.append(("this checkout", serve_and_measure(REPO_ROOT, args, "current")))
    for (width, name), _ in runs[-1][1].items():
        print(f"\n{name} at {width} px  ({runs[-1][1][(width, name)]['path']})")
        for label, results in runs:
            figures = results.get((width, name))
            if figures is None:
                continue
            for line in describe(figures, width):
                print(f"  {label:14} {line}")
    if len(runs) == 2:
        print("\nratios (this checkout / baseline)")
        for (width, name), now in runs[1][1].items():
            before = runs[0][1].get((width, name))
            if not before:
                continue
            parts = [f"scroll width {now['scrollWidth'] / before['scrollWidth']:.2f}"]
            if now["rowHeights"] and before["rowHeights"]:
                ratio = statistics.median(now["rowHeights"]) / statistics.median(before["rowHeights"])
                parts.append(f"row height {ratio:.2f}")
            if now["tableHeight"] and before["tableHeight"]:
                parts.append(f"table height {now['tableHeight'] / before['tableHeight']:.2f}")
            print(f"  {name:18} {width} px: " + ", ".join(parts))


if __name__ == "__main__":
    main()
