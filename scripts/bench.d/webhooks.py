"""Webhook figures for scripts/bench, against the running server at BASE with the portal session
in COOKIES (an Acme admin) and a Node receiver (webhook_receiver.mjs) at RECEIVER.

- latency: an order is created and then received through the API (the receipt is a stock change
  through the one stock writer, committed with its `order.received` event); the time from
  sending the receipt to the receiver's arrival of that event, for N receipts one after another.
  Measured from the request's start, so it includes the request itself: an upper bound.
- burst: 10 endpoints on one key take `order.created`; 10,000 orders are created as fast as 8
  threads can, and the deliveries (100,000) drain; deliveries per second from the first order
  to the last arrival, with the server's RSS before and at its peak. The orders compete with
  the deliveries for the same cores, so this is a burst that is still being made.
- drain: 10 endpoints on a key of DEVICE take `stock.below_min`; one CSV import (the server's
  own `import` command, BIN, on the server's DATABASE_URL) takes 10,000 of DEVICE's rows below
  their minimum in one transaction: 10,000 events and 100,000 deliveries appear at once.
  Deliveries per second from the import's commit to the last arrival (and from its start),
  with the server's RSS before and at its peak. SKU is unused.
- restock: the same with `stock.restocked`, taking 10,000 of DEVICE's rows that are at 0 back
  to their maximum (after a drain, its rows): scripts/bench runs the page and key-check
  benchmarks beside it.

Prints JSON lines (label, figures) to OUT.
Usage: webhooks.py BASE COOKIES RECEIVER DEVICE SKU PID N LABEL [burst | drain BIN | restock BIN] OUT"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

base, cookies, receiver, device, sku, pid, n, label = sys.argv[1:9]
burst = sys.argv[9] == "burst"
restock = sys.argv[9] == "restock"
drain = sys.argv[9] == "drain" or restock
out = sys.argv[-1]
device, pid, n = int(device), int(pid), int(n)

# The session from curl's cookie file (its HttpOnly lines start with "#HttpOnly_").
session = ""
for line in open(cookies):
    fields = line.strip().removeprefix("#HttpOnly_").split("\t")
    if len(fields) == 7 and not line.startswith("# "):
        session = f"{fields[5]}={fields[6]}"
plain = urllib.request.build_opener()


def call(opener, method, url, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with opener.open(req, timeout=60) as res:
        text = res.read()
        return json.loads(text) if text else None


def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1])
    return 0


key = call(plain, "POST", f"{base}/portal/api/keys", {
    "name": f"bench webhooks {label} {time.time()}", "device_ids": [device],
    "permissions": {"orders": "none" if drain else "write", "webhooks": True},
}, {"Cookie": session})["secret"]
H = {"X-API-Key": key}


def api(method, path, body=None, extra=None):
    return call(plain, method, f"{base}{path}", body, {**H, **(extra or {})})


def stats():
    return call(plain, "GET", f"{receiver}/stats")


def sampled(work):
    """Runs work() with the server's RSS sampled every 0.1 s; returns (before, peak, result)."""
    before = rss()
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(0.1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = work()
    finally:
        done.set()
        sampler.join()
    return before, peak[0], result


def count():
    return call(plain, "GET", f"{receiver}/count")


def wait_for(want, since):
    while count()["count"] < want and time.time() - since < 600:
        time.sleep(0.2)
    return count()


call(plain, "POST", f"{receiver}/reset")
results = []
if drain:
    bin_path = sys.argv[10]
    for i in range(10):
        api("POST", "/api/webhooks", {"url": f"{receiver}/drain{i}",
                                      "events": ["stock.restocked" if restock else "stock.below_min"]})
    # n rows at or above their minimum (above 0), or at 0 for restock, read through the API a
    # page at a time.
    wanted = ((lambda r: r["MinQty"] > 0 and r["Physical"] == 0) if restock
              else (lambda r: r["MinQty"] > 0 and r["Physical"] >= r["MinQty"]))
    rows, after = [], None
    while len(rows) < n:
        page = api("GET", f"/api/stock?limit=1000" + (f"&after={after}" if after else ""))
        if not page:
            break
        rows += [r for r in page if wanted(r)]
        after = page[-1]["id"]
    rows = rows[:n]
    assert len(rows) == n, f"only {len(rows)} rows of the device are as wanted"
    csv_file = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="")
    with csv_file as f:
        f.write("Item Code,Description*,Quantity In Stock,Storeroom\n")
        for r in rows:
            desc = '"' + r["Description"].replace('"', '""') + '"'
            f.write(f"{r['SKU']},{desc},{r['MaxQty'] if restock else 0},{r['DeviceName']}\n")

    def run():
        started = time.time()
        subprocess.run([bin_path, "import", csv_file.name, "--account", "Acme Manufacturing"],
                       check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "RUST_LOG": "warn"})
        committed = time.time()
        return started, committed, wait_for(n * 10, committed)

    rss_before, rss_peak, (started, committed, s) = sampled(run)
    os.unlink(csv_file.name)
    results.append({"label": label, "events": n, "deliveries": s["count"],
                    "import_secs": committed - started,
                    "secs": s["last"] / 1000 - committed,
                    "per_s": s["count"] / (s["last"] / 1000 - committed),
                    "per_s_from_start": s["count"] / (s["last"] / 1000 - started),
                    "rss_before_kb": rss_before, "rss_peak_kb": rss_peak})
elif not burst:
    api("POST", "/api/webhooks", {"url": f"{receiver}/latency", "events": ["order.received"]})
    lat = []
    for i in range(n):
        order = api("POST", "/api/orders", {"device_id": device, "lines": [{"sku": sku, "quantity": 1}]})
        before = len(stats()["arrivals"])
        started = time.time() * 1000
        api("POST", f"/api/orders/{order['id']}/receive", {})
        while True:
            s = stats()
            if len(s["arrivals"]) > before:
                arrived = max(s["arrivals"].values())
                lat.append(arrived - started)
                break
            if time.time() * 1000 - started > 10_000:
                lat.append(10_000.0)
                break
            time.sleep(0.002)
    lat.sort()
    results.append({"label": label, "n": n, "p50_ms": lat[len(lat) // 2],
                    "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))], "max_ms": lat[-1]})
else:
    for i in range(10):
        api("POST", "/api/webhooks", {"url": f"{receiver}/burst{i}", "events": ["order.created"]})
    per = n // 8

    def create(t):
        for i in range(per):
            api("POST", "/api/orders", {"device_id": device, "lines": [{"sku": sku, "quantity": 1}]},
                {"Idempotency-Key": f"burst-{label}-{t}-{i}"})

    def run():
        started = time.time()
        threads = [threading.Thread(target=create, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        created = time.time()
        return started, created, wait_for(per * 8 * 10, created)

    rss_before, rss_peak, (started, created, s) = sampled(run)
    secs = s["last"] / 1000 - started
    results.append({"label": label, "events": per * 8, "deliveries": s["count"],
                    "create_secs": created - started, "secs": secs,
                    "per_s": s["count"] / secs, "rss_before_kb": rss_before, "rss_peak_kb": rss_peak})
with open(out, "a") as f:
    for r in results:
        f.write(json.dumps(r) + "\n")
        print(json.dumps(r))
