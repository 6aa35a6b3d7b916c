"""Builds scripts/bench's table from the JSON lines each database's run left, prints it, and
with --readme puts it into that Markdown file (scripts/bench passes docs/performance.md) between
the bench markers.
Usage: report.py DIR [--readme docs/performance.md]"""
import json, os, re, sys

dir_ = sys.argv[1]
dbs = [("SQLite", "sqlite"), ("PostgreSQL", "postgres")]
runs = {}
for _, db in dbs:
    path = os.path.join(dir_, f"{db}.jsonl")
    if os.path.exists(path):
        runs[db] = {}
        repeated = {}
        for line in open(path):
            r = json.loads(line)
            runs[db][r["label"]] = r
            repeated.setdefault(r["label"], []).append(r)
        # Runs made several times, alternating (the orders create and its peer on PostgreSQL,
        # whose commit latency drifts from minute to minute here): the median run by rate.
        for label, rs in repeated.items():
            if len(rs) > 1:
                runs[db][label] = sorted(rs, key=lambda r: r["rps"])[len(rs) // 2]
                runs[db][label]["runs"] = len(rs)
                runs[db][label]["each"] = rs
meta = json.load(open(os.path.join(dir_, "meta.json")))

def num(x):
    return f"{x:,.0f}"

def ms(x):
    return f"{x:.1f}" if x < 10 else f"{x:.0f}"

ROWS = [
    ("ping", "`GET /api/ping`"),
    ("devices", "`GET /api/devices` with a key"),
    ("key", "`GET /api/key`"),
    ("page1", "`GET /api/stock?limit=100`, key of the big device"),
    ("page1_deep", "… `&after=` 900,000 rows in"),
    ("pageall", "`GET /api/stock?limit=100`, key of 28 devices + the big one"),
    ("pageall_deep", "… `&after=` 900,000 rows in"),
    ("malformed", "malformed key (401)"),
]
out = []
head = "| request |"
rule = "|---|"
for name, _ in dbs:
    head += f" {name} req/s | p50 / p99 ms | vs ping |"
    rule += "---|---|---|"
out += [head, rule]
for label, title in ROWS:
    line = f"| {title} |"
    for _, db in dbs:
        r = runs.get(db, {}).get(label)
        ping = runs.get(db, {}).get("ping")
        if not r:
            line += " – | – | – |"
            continue
        ratio = f"{100 * r['rps'] / ping['rps']:.0f} %" if ping else "–"
        line += f" {num(r['rps'])} | {ms(r['p50_ms'])} / {ms(r['p99_ms'])} | {ratio} |"
    out.append(line)
for _, db in dbs:
    plain, nested = runs.get(db, {}).get("url_plain"), runs.get(db, {}).get("url_nested")
    if plain and nested:
        out.append("")
        out.append(f"{db}: the worst URL the server reads (8 KiB of nested percent-encoding, refused) "
                   f"{num(nested['rps'])} req/s vs a plain 8 KiB URL {num(plain['rps'])} req/s: "
                   f"**{plain['rps'] / nested['rps']:.1f}×** the cost (target: at most ~10×).")
peer = runs.get("sqlite", {}).get("peer")
if peer:
    page = runs["sqlite"].get("page1")
    out.append("")
    out.append(f"Python peer (one thread, `sqlite3` + `json`, key lookup + 100-row page + encoding): "
               f"**{num(peer['rps'])} pages/s**; the server's 100-row page on SQLite: "
               f"**{page['rps'] / peer['rps']:.1f}×** the peer.")
if any("create_order" in runs.get(db, {}) for _, db in dbs):
    out.append("")
    out.append("| orders | " + " | ".join(f"{n} req/s | p50 / p99 ms | ratio" for n, _ in dbs) + " |")
    out.append("|---|" + "---|---|---|" * len(dbs))
    def ratio(db, label):
        r = runs.get(db, {})
        if label == "create_order":
            peer = r.get("orders_peer")
            if not peer:
                return "–"
            n = r[label].get("runs", 1)
            each = "; ".join(f"{num(x['rps'])}/s p99 {ms(x['p99_ms'])}" for x in r[label].get("each", []))
            return (f"{r[label]['rps'] / peer['rps']:.1f}× the Python peer ({num(peer['rps'])}/s)"
                    + (f"; medians of {n} alternating runs ({each})" if n > 1 else ""))
        if label == "replay_order":
            return f"{100 * r[label]['rps'] / r['devices']['rps']:.0f} % of `/api/devices`" if "devices" in r else "–"
        return "–"
    for label, title in [("create_order", "`POST /api/orders`, one line, a new `Idempotency-Key` each"),
                         ("replay_order", "… the same `Idempotency-Key` again (replayed)"),
                         ("orders_list", "`GET /api/orders?limit=100`, 100,000 orders in the account"),
                         ("orders_list_c8", "… with 8 connections instead of 64")]:
        line = f"| {title} |"
        for _, db in dbs:
            r = runs.get(db, {}).get(label)
            if not r:
                line += " – | – | – |"
                continue
            line += f" {num(r['rps'])} | {ms(r['p50_ms'])} / {ms(r['p99_ms'])} | {ratio(db, label)} |"
        out.append(line)
if any("webhook_latency" in runs.get(db, {}) for _, db in dbs):
    out.append("")
    out.append("| webhooks (receiver on loopback) | " + " | ".join(n for n, _ in dbs) + " |")
    out.append("|---|" + "---|" * len(dbs))
    def hooks(label, show):
        line = f"| {label} |"
        for _, db in dbs:
            r = runs.get(db, {})
            line += f" {show(r)} |" if r.get("webhook_latency") else " – |"
        return line
    lat = lambda k: lambda r: (f"p50 {ms(r[k]['p50_ms'])} / p99 {ms(r[k]['p99_ms'])} ms ({r[k]['n']} receipts)"
                               if k in r else "–")
    out.append(hooks("stock change (an order received) → the receiver, idle", lat("webhook_latency")))
    out.append(hooks("… beside 100-row pages (16 connections)", lat("webhook_latency_busy")))
    out.append(hooks("… those pages meanwhile", lambda r: (
        f"{num(r['page1_beside_webhooks']['rps'])} req/s, p99 {ms(r['page1_beside_webhooks']['p99_ms'])} ms"
        if "page1_beside_webhooks" in r else "–")))
    drain = lambda k: lambda r: (
        f"{num(r[k]['per_s'])} deliveries/s ({num(r[k]['deliveries'])} in {r[k]['secs']:.1f} s after "
        f"the import's commit; the import took {r[k]['import_secs']:.1f} s), "
        f"RSS +{(r[k]['rss_peak_kb'] - r[k]['rss_before_kb']) / 1024:.1f} MB" if k in r else "–")
    out.append(hooks("drain: 10,000 stock events at once (one import) × 10 endpoints", drain("webhook_drain")))
    out.append(hooks("… again (restocks) with pages and key checks beside it", drain("webhook_drain_busy")))
    # Beside the drain, each benchmark's ratio to ping measured alongside it, and the same
    # ratio idle: the ratios are what must hold (the cores are shared, so absolute rates drop).
    def beside(busy, idle):
        def show(r):
            if not all(k in r for k in (busy, idle, "ping_beside_drain", "ping")):
                return "–"
            now = r[busy]["rps"] / r["ping_beside_drain"]["rps"]
            before = r[idle]["rps"] / r["ping"]["rps"]
            return (f"{num(r[busy]['rps'])} req/s, p99 {ms(r[busy]['p99_ms'])} ms; vs ping "
                    f"{now:.2f} (idle {before:.2f})")
        return show
    out.append(hooks("… ping meanwhile (64 connections)", lambda r: (
        f"{num(r['ping_beside_drain']['rps'])} req/s ({r['ping_beside_drain']['rps'] / r['ping']['rps']:.2f}× idle)"
        if "ping_beside_drain" in r and "ping" in r else "–")))
    out.append(hooks("… 100-row pages meanwhile (64 connections)", beside("page1_beside_drain", "page1")))
    out.append(hooks("… key checks meanwhile (64 connections)", beside("key_beside_drain", "key")))
    out.append(hooks("burst: 10,000 orders made while their 100,000 deliveries drain", lambda r: (
        f"{num(r['webhook_burst']['per_s'])} deliveries/s ({num(r['webhook_burst']['deliveries'])} in "
        f"{r['webhook_burst']['secs']:.1f} s; creating took {r['webhook_burst']['create_secs']:.1f} s), "
        f"RSS +{(r['webhook_burst']['rss_peak_kb'] - r['webhook_burst']['rss_before_kb']) / 1024:.1f} MB"
        if "webhook_burst" in r else "–")))
out.append("")
out.append("| export of 1,000,000 rows | " + " | ".join(f"{n} rows/s | RSS growth" for n, _ in dbs) + " |")
out.append("|---|" + "---|---|" * len(dbs))
for label, title in [("export_json", "JSON"), ("export_csv", "CSV")]:
    line = f"| {title} |"
    for _, db in dbs:
        r = runs.get(db, {}).get(label)
        line += (f" {num(r['rows_per_s'])} ({r['secs']:.2f} s) | {(r['rss_peak_kb'] - r['rss_before_kb']) / 1024:.1f} MB |"
                 if r else " – | – |")
    out.append(line)
line = "| 100-row pages meanwhile (16 connections) |"
for _, db in dbs:
    r = runs.get(db, {}).get("during_export")
    line += f" p50 {ms(r['p50_ms'])} / p99 {ms(r['p99_ms'])} ms | |" if r else " – | |"
out.append(line)
soaks = [(n, runs[db]) for n, db in dbs if db in runs and "soak" in runs[db]]
if soaks:
    out.append("")
    out.append("| soak | requests | errors | p50 / p99 ms | exports | RSS at start → end (max) |")
    out.append("|---|---|---|---|---|---|")
    for name, r in soaks:
        s, e, rss = r["soak"], r.get("soak_exports"), r["soak_rss"]["kb"]
        errors = s["non2xx"] + s["socket_errors"] + (e["non2xx"] + e["socket_errors"] if e else 0)
        third = rss[len(rss) // 3:] or rss
        out.append(f"| {name}, {meta['soak_secs'] / 60:.0f} min, {meta['soak_conns']} connections | "
                   f"{num(s['requests'] + (e['requests'] if e else 0))} | {errors} | "
                   f"{ms(s['p50_ms'])} / {ms(s['p99_ms'])} | {num(e['requests']) if e else 0} | "
                   f"{rss[0] / 1024:.1f} → {rss[-1] / 1024:.1f} MB ({max(rss) / 1024:.1f}); "
                   f"last two thirds within {(max(third) - min(third)) / 1024:.1f} MB |")
out.append("")
out.append(f"_{meta['when']}, {meta['machine']}; `wrk -t2 -c64 -d{meta['secs']}s`, wrk and the server "
           f"sharing the cores; {num(meta['rows'])} rows in the big device._")
table = "\n".join(out)
print(table)
if "--readme" in sys.argv:
    readme = sys.argv[sys.argv.index("--readme") + 1]
    text = open(readme).read()
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start not in text:
        sys.exit(f"{readme} has no {start} marker")
    text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: f"{start}\n{table}\n{end}", text, flags=re.S)
    open(readme, "w").write(text)
    print(f"\n(written into {readme})", file=sys.stderr)
