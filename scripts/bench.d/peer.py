"""The Python peer: a single-threaded loop doing what a stock page needs, the way a small
service would (sqlite3 + json): find the key by its digest, read a 100-row page of its devices,
encode it. Prints one JSON line: pages per second over BENCH_SECS."""
import hashlib, json, sqlite3, sys, time

db, secret, secs, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
digest = hashlib.sha256(secret.encode()).hexdigest()
KEY = """SELECT k.id, k.account_id, k.user_id, k.expires_at, k.retired_at, u.role
         FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.digest = ?"""
PAGE = """SELECT s.id, d.name, s.sku, s.description, s.min_qty, s.max_qty, s.physical,
                 s.device_id, c.name, s.location, s.updated_at
          FROM stock s JOIN devices d ON d.id = s.device_id JOIN customers c ON c.id = d.customer_id
          WHERE s.device_id IN (SELECT device_id FROM api_key_devices WHERE key_id = ?)
            AND s.id > ? ORDER BY s.id LIMIT 100"""
FIELDS = ("id", "DeviceName", "SKU", "Description", "MinQty", "MaxQty", "Physical",
          "DeviceId", "Customer", "Location", "UpdatedAt")
pages, start = 0, time.perf_counter()
while time.perf_counter() - start < secs:
    key = c.execute(KEY, (digest,)).fetchone()
    rows = c.execute(PAGE, (key[0], 0)).fetchall()
    body = json.dumps([dict(zip(FIELDS, r)) for r in rows]).encode()
    pages += 1
elapsed = time.perf_counter() - start
with open(out, "a") as f:
    f.write(json.dumps({"label": "peer", "rps": pages / elapsed, "rows": len(rows), "bytes": len(body)}) + "\n")
