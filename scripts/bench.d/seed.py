"""Bulk seed for scripts/bench: two devices under a "Bench Site" customer of the demo account,
"Bench Store" with N rows and "Bench Cage" with N/20, in one statement each (generated rows,
not one insert per row). Usage: seed.py sqlite FILE N | seed.py postgres URL N"""
import subprocess, sys, time

kind, target, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
devices = [("Bench Store", n), ("Bench Cage", max(n // 20, 1))]
t = time.time()
if kind == "sqlite":
    import sqlite3
    c = sqlite3.connect(target)
    acct = c.execute("SELECT id FROM accounts WHERE name = 'Acme Manufacturing'").fetchone()[0]
    c.execute("INSERT INTO customers (account_id, name) VALUES (?, 'Bench Site')", (acct,))
    cust = c.execute("SELECT id FROM customers WHERE name = 'Bench Site'").fetchone()[0]
    for name, rows in devices:
        c.execute("INSERT INTO devices (account_id, customer_id, name) VALUES (?, ?, ?)", (acct, cust, name))
        dev = c.execute("SELECT id FROM devices WHERE name = ?", (name,)).fetchone()[0]
        c.execute("""WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
            INSERT INTO stock (device_id, sku, description, min_qty, max_qty, physical, location, updated_at)
            SELECT ?, printf('BENCH-%07d', i), 'Bench item ' || i || ' with a description of ordinary length',
                   10, 50, i % 97, printf('B-%02d', i % 50), '2026-11-01T00:00:00+00:00' FROM n""", (rows - 1, dev))
    c.commit()
else:
    sql = ["BEGIN;",
           "INSERT INTO customers (account_id, name) SELECT id, 'Bench Site' FROM accounts WHERE name = 'Acme Manufacturing';"]
    for name, rows in devices:
        sql.append(f"""INSERT INTO devices (account_id, customer_id, name)
            SELECT account_id, id, '{name}' FROM customers WHERE name = 'Bench Site';
            INSERT INTO stock (device_id, sku, description, min_qty, max_qty, physical, location, updated_at)
            SELECT d.id, 'BENCH-' || lpad(i::text, 7, '0'), 'Bench item ' || i || ' with a description of ordinary length',
                   10, 50, i % 97, 'B-' || lpad((i % 50)::text, 2, '0'), '2026-11-01T00:00:00Z'
            FROM devices d, generate_series(0, {rows - 1}) i WHERE d.name = '{name}';""")
    # After a bulk load, what autovacuum (or the server, when autovacuum is off) would do soon
    # after: done now, so that it does not run during the first measurements.
    sql += ["COMMIT;", "VACUUM ANALYZE;"]
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", target], input="\n".join(sql), text=True, check=True)
print(f"seeded {n} + {max(n // 20, 1)} rows in {time.time() - t:.1f} s", file=sys.stderr)
