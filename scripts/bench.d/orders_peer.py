"""The Python peer for creating orders: a single-threaded loop doing, on the same PostgreSQL
database, the transaction an order needs the way a small service would (psycopg): find the key
by its digest, claim the Idempotency-Key, check the SKU is stocked at the device, take the next
order number, insert the order, its line and its history event, and store the answer with the
key. Prints one JSON line: orders per second over BENCH_SECS.
Usage: orders_peer.py URL SECRET DEVICE_ID SKU SECS OUT"""
import hashlib, json, sys, time, uuid

import psycopg

url, secret, device, sku, secs, out = sys.argv[1:7]
device, secs = int(device), float(secs)
digest = hashlib.sha256(secret.encode()).hexdigest()
conn = psycopg.connect(url)
orders, start = 0, time.perf_counter()
while time.perf_counter() - start < secs:
    idem = f"peer-{uuid.uuid4()}"
    body = json.dumps({"device_id": device, "lines": [{"sku": sku, "quantity": 1}]})
    with conn.transaction():
        key = conn.execute(
            "SELECT k.id, k.account_id, k.name, k.prefix FROM api_keys k WHERE k.digest = %s", (digest,)
        ).fetchone()
        claimed = conn.execute(
            """INSERT INTO idempotency_keys (account_id, api_key_id, idem_key, endpoint, request_digest, token,
                                            locked_at, expires_at)
               VALUES (%s, %s, %s, 'POST /api/orders', %s, 't', now(), now() + interval '24 hours')
               ON CONFLICT (account_id, api_key_id, idem_key) DO NOTHING RETURNING id""",
            (key[1], key[0], idem, hashlib.sha256(body.encode()).hexdigest()),
        ).fetchone()
        stock = conn.execute("SELECT id FROM stock WHERE device_id = %s AND sku = %s", (device, sku)).fetchone()
        number = conn.execute(
            """INSERT INTO order_counters (account_id, last) VALUES (%s, 1)
               ON CONFLICT (account_id) DO UPDATE SET last = order_counters.last + 1 RETURNING last""",
            (key[1],),
        ).fetchone()[0]
        order = conn.execute(
            """INSERT INTO orders (account_id, number, device_id, status, created_by_key_id, created_by_name,
                                   created_by_detail, created_at, updated_at, version)
               VALUES (%s, %s, %s, 'open', %s, %s, %s, now(), now(), 1) RETURNING id""",
            (key[1], number, device, key[0], key[2], key[3]),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO order_lines (order_id, line_no, stock_id, sku, quantity, received) VALUES (%s, 1, %s, %s, 1, 0)",
            (order, stock[0], sku),
        )
        conn.execute(
            """INSERT INTO order_events (order_id, action, actor_kind, actor_name, actor_detail, at, detail)
               VALUES (%s, 'created', 'key', %s, %s, now(), '1 line')""",
            (order, key[2], key[3]),
        )
        answer = json.dumps({"id": order, "number": f"PO-{number:06d}", "status": "open"})
        conn.execute(
            "UPDATE idempotency_keys SET token = NULL, response_status = 201, response_body = %s WHERE id = %s",
            (answer, claimed[0]),
        )
    orders += 1
elapsed = time.perf_counter() - start
with open(out, "a") as f:
    f.write(json.dumps({"label": "orders_peer", "rps": orders / elapsed}) + "\n")
