"""Seeds N orders (one line and one history event each) into the demo account's first device,
for the order-listing bench: in three statements of generated rows, not one insert per order.
Usage: seed_orders.py sqlite FILE N | seed_orders.py postgres URL N"""
import subprocess, sys, time

kind, target, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
t = time.time()
if kind == "sqlite":
    import sqlite3
    c = sqlite3.connect(target)
    acct, dev = c.execute(
        "SELECT a.id, MIN(d.id) FROM accounts a JOIN devices d ON d.account_id = a.id WHERE a.name = 'Acme Manufacturing'"
    ).fetchone()
    stock = c.execute("SELECT id FROM stock WHERE device_id = ? AND sku = 'BRG-6204'", (dev,)).fetchone()[0]
    base = c.execute("SELECT COALESCE(MAX(number), 0) FROM orders WHERE account_id = ?", (acct,)).fetchone()[0]
    first = c.execute("SELECT COALESCE(MAX(id), 0) FROM orders").fetchone()[0] + 1
    c.execute("""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO orders (id, account_id, number, device_id, status, reference, created_by_name, created_by_detail,
                            created_at, updated_at, version)
        SELECT ? + i - 1, ?, ? + i, ?, 'open', 'bench-' || i, 'bench', 'pl_bnch', '2026-11-01T00:00:00+00:00',
               '2026-11-01T00:00:00+00:00', 1 FROM n""", (n, first, acct, base, dev))
    c.execute("""INSERT INTO order_lines (order_id, line_no, stock_id, sku, quantity, received)
        SELECT id, 1, ?, 'BRG-6204', 5, 0 FROM orders WHERE id >= ?""", (stock, first))
    c.execute("""INSERT INTO order_events (order_id, action, actor_kind, actor_name, actor_detail, at, detail)
        SELECT id, 'created', 'key', 'bench', 'pl_bnch', created_at, '1 line' FROM orders WHERE id >= ?""", (first,))
    c.execute("""INSERT INTO order_counters (account_id, last) VALUES (?, ?)
        ON CONFLICT (account_id) DO UPDATE SET last = excluded.last""", (acct, base + n))
    c.commit()
else:
    sql = f"""BEGIN;
    WITH a AS (SELECT a.id AS acct, MIN(d.id) AS dev FROM accounts a JOIN devices d ON d.account_id = a.id
               WHERE a.name = 'Acme Manufacturing' GROUP BY a.id),
         b AS (SELECT COALESCE(MAX(number), 0) AS base FROM orders, a WHERE orders.account_id = a.acct)
    INSERT INTO orders (account_id, number, device_id, status, reference, created_by_name, created_by_detail,
                        created_at, updated_at, version)
    SELECT a.acct, b.base + i, a.dev, 'open', 'bench-' || i, 'bench', 'pl_bnch', '2026-11-01T00:00:00Z',
           '2026-11-01T00:00:00Z', 1 FROM a, b, generate_series(1, {n}) i;
    INSERT INTO order_lines (order_id, line_no, stock_id, sku, quantity, received)
    SELECT o.id, 1, s.id, 'BRG-6204', 5, 0 FROM orders o JOIN stock s ON s.device_id = o.device_id AND s.sku = 'BRG-6204'
    WHERE o.reference LIKE 'bench-%';
    INSERT INTO order_events (order_id, action, actor_kind, actor_name, actor_detail, at, detail)
    SELECT id, 'created', 'key', 'bench', 'pl_bnch', created_at, '1 line' FROM orders WHERE reference LIKE 'bench-%';
    INSERT INTO order_counters (account_id, last) SELECT account_id, MAX(number) FROM orders GROUP BY account_id
    ON CONFLICT (account_id) DO UPDATE SET last = excluded.last;
    COMMIT;
    VACUUM ANALYZE;"""
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", target], input=sql, text=True, check=True)
print(f"seeded {n} orders in {time.time() - t:.1f} s", file=sys.stderr)
