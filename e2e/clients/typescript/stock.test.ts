// The Stock API through the types openapi-typescript generates from /api/openapi.json and the
// openapi-fetch client, as a third party would use them. Run by scripts/clients: generated into
// generated/stock.ts, compiled with `tsc -p` (strict, library types checked too), run with node,
// with PARTLOGIC_BASE (the server's root URL) and PARTLOGIC_KEY (a key) in the environment.
import assert from "node:assert/strict";
import { test } from "node:test";
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/stock.js";

type StockRow = components["schemas"]["StockRow"];
type ApiDevice = components["schemas"]["ApiDevice"];
type Problem = components["schemas"]["Problem"];
// Compile-time check: `data` must be exactly the JSON type (no `| string` from the CSV variant).
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function exactly<A, B>(_proof: Equal<A, B>): void {}

function env(name: string): string {
  const value = process.env[name];
  assert.ok(value, `${name} is not set`);
  return value;
}

const base = env("PARTLOGIC_BASE");
const key = env("PARTLOGIC_KEY");

// Only the JSON media types: /api/stock also answers text/csv, which would make `data` a union.
const client = createClient<paths, "application/json" | "application/problem+json">({
  baseUrl: base,
  headers: { "X-API-Key": key },
});

/** The `after` of `Link: </api/stock?limit=2&after=N>; rel="next"` (relative), if any. */
function nextAfter(link: string | null): number | undefined {
  const match = link?.match(/<([^>]+)>\s*;\s*rel="?next"?/);
  if (!match?.[1]) return undefined;
  const target = new URL(match[1], base);
  assert.equal(target.pathname, "/api/stock");
  const after = target.searchParams.get("after");
  assert.ok(after, `no after in ${link}`);
  return Number(after);
}

function checkRow(row: StockRow): void {
  assert.equal(typeof row.id, "number");
  assert.ok(row.SKU.length > 0);
  assert.ok(row.DeviceName.length > 0);
  assert.ok(row.DeviceId > 0);
  assert.ok(row.MaxQty >= row.MinQty);
  assert.ok(!Number.isNaN(Date.parse(row.UpdatedAt)), row.UpdatedAt);
}

test("devices", async () => {
  const { data, error, response } = await client.GET("/api/devices");
  assert.equal(response.status, 200);
  if (error) assert.fail(`${error.code}: ${error.detail}`);
  exactly<typeof data, ApiDevice[]>(true);
  assert.ok(data.length > 0, "the key reaches no device");
  for (const device of data) {
    assert.ok(Number.isInteger(device.id) && device.id > 0);
    assert.ok(device.Name.length > 0);
    assert.ok(device.Customer.length > 0);
  }
});

test("two pages of stock, the second from the Link header", async () => {
  const first = await client.GET("/api/stock", { params: { query: { limit: 2 } } });
  assert.equal(first.response.status, 200);
  if (first.error) assert.fail(`${first.error.code}: ${first.error.detail}`);
  exactly<typeof first.data, StockRow[]>(true);
  const rows: StockRow[] = first.data;
  assert.equal(rows.length, 2);
  rows.forEach(checkRow);
  const firstIds = rows.map((row) => row.id);
  assert.ok(firstIds[0]! < firstIds[1]!, `ids not increasing: ${firstIds}`);

  const after = nextAfter(first.response.headers.get("link"));
  assert.ok(after !== undefined, `no rel=next Link after a full page: ${first.response.headers.get("link")}`);
  assert.equal(after, firstIds[1]);

  const second = await client.GET("/api/stock", { params: { query: { limit: 2, after } } });
  assert.equal(second.response.status, 200);
  if (second.error) assert.fail(`${second.error.code}: ${second.error.detail}`);
  assert.ok(second.data.length > 0, "the page the Link header points at is empty");
  second.data.forEach(checkRow);
  const secondIds = second.data.map((row) => row.id);
  assert.ok(secondIds[0]! > firstIds[1]!, `pages overlap: ${firstIds} then ${secondIds}`);
});

test("a wrong key gets a typed problem", async () => {
  const { data, error, response } = await client.GET("/api/key", { headers: { "X-API-Key": "pl_wrong" } });
  assert.equal(response.status, 401);
  assert.equal(data, undefined);
  assert.ok(error);
  exactly<typeof error, Problem>(true);
  assert.equal(error.status, 401);
  assert.equal(error.code, "malformed_api_key");
});
