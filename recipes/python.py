"""PartLogic Stock API from Python (requests), following the Link header page by page.

    pip install requests
    export PARTLOGIC_API_KEY=pl_...
    python python.py            # prints how many rows, and writes stock.csv
"""

import csv
import os
import re
import sys
from urllib.parse import urljoin

import requests

BASE = os.environ.get("PARTLOGIC_BASE_URL", "{{PARTLOGIC_BASE_URL}}")
FIELDS = ["id", "DeviceName", "SKU", "Description", "MinQty", "MaxQty", "Physical",
          "DeviceId", "Customer", "Location", "UpdatedAt"]


def session() -> requests.Session:
    key = os.environ.get("PARTLOGIC_API_KEY")
    if not key:
        sys.exit("set PARTLOGIC_API_KEY to your PartLogic API key")
    s = requests.Session()
    s.headers.update({"X-API-Key": key, "Accept": "application/json"})
    return s


def get(s: requests.Session, url: str) -> requests.Response:
    res = s.get(url, timeout=60)
    if res.status_code != 200:
        problem = res.json() if res.headers.get("content-type", "").startswith("application/problem+json") else {}
        sys.exit(f"{res.status_code} {problem.get('code', '')}: {problem.get('detail', res.text[:200])}")
    return res


TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def cell(value):
    """A CSV cell safe to open in a spreadsheet: text starting with = + - @ TAB or CR would be a
    formula there, so it gets a leading ' (as PartLogic's own CSV does). Excel splits on ; in
    many locales (where a quote inside a field is text, so a quoted line break ends a row too),
    and anything may split on TAB, so the same goes after every ;, TAB and line break (past
    spaces and quotes). Numbers stay numbers."""
    if not isinstance(value, str):
        return value
    fields = re.split(r"([;\t\r\n])", value)
    return "".join(f if i % 2 or f.lstrip(' "')[:1] not in TRIGGERS else "'" + f
                   for i, f in enumerate(fields))


def all_rows(s: requests.Session, page_size: int = 1000) -> list:
    rows, url = [], f"{BASE}/api/stock?limit={page_size}"
    while url:
        res = get(s, url)
        rows.extend(res.json())
        nxt = res.links.get("next", {}).get("url")
        # The Link header is relative: resolve it against the URL just called.
        url = urljoin(url, nxt) if nxt else None
    return rows


def main() -> None:
    s = session()
    key = get(s, f"{BASE}/api/key").json()
    print(f"key {key['name']} ({key['prefix']}…), {len(key['devices'])} devices, status {key['status']}")
    rows = all_rows(s)
    with open("stock.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows({k: cell(v) for k, v in r.items()} for r in rows)
    low = sum(1 for r in rows if r["Physical"] < r["MinQty"])
    print(f"{len(rows)} rows, {low} below their minimum; wrote stock.csv")


if __name__ == "__main__":
    main()
