// The integration against the real PartLogic server (the `partlogic` binary, started here with
// demo data on a fresh SQLite file), offline: zapier.createAppTester runs each operation as
// Zapier would, and a local HTTP server stands in for Zapier's hook URL.
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const zapier = require('zapier-platform-core');

const App = require('../index');

const appTester = zapier.createAppTester(App);
zapier.tools.env.inject();

const BIN = process.env.PARTLOGIC_BIN || path.join(__dirname, '..', '..', '..', 'target', 'debug', 'partlogic');

let server;
let base;
let dir;
let key;
let keyName;

const freePort = () =>
  new Promise((resolve) => {
    const s = http.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const api = async (method, p, { body, headers } = {}) => {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { 'X-API-Key': key, 'Content-Type': 'application/json', ...(headers || {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
};

const bundle = (extra = {}) => ({ authData: { baseUrl: base, apiKey: key }, inputData: {}, ...extra });

beforeAll(async () => {
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: build the server first (cargo build -p partlogic-server)`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partlogic-zapier-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(BIN, ['serve', '--demo', '--bind', `127.0.0.1:${port}`, '--workers', '1'], {
    env: {
      ...process.env,
      DATABASE_URL: `sqlite://${dir}/partlogic.db?mode=rwc`,
      PARTLOGIC_WEBHOOK_ALLOW_PRIVATE: 'true',
      RUST_LOG: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${base}/api/ping`)).ok) break;
    } catch (e) {
      // not up yet
    }
    await sleep(100);
  }
  // A key made in the portal as a person would: every device, Orders write, Webhooks.
  const login = await fetch(`${base}/portal/api/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'admin@acme.example', password: 'partlogic-demo' }),
  });
  expect(login.status).toBe(200);
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const devices = await (await fetch(`${base}/portal/api/devices`, { headers: { Cookie: cookie } })).json();
  keyName = `Zapier ${Date.now()}`;
  const created = await fetch(`${base}/portal/api/keys`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Cookie: cookie },
    body: JSON.stringify({
      name: keyName,
      device_ids: devices.map((d) => d.id),
      permissions: { orders: 'write', webhooks: true },
    }),
  });
  expect(created.status).toBe(201);
  key = (await created.json()).secret;
});

afterAll(() => {
  if (server) server.kill('SIGKILL');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('the app is valid for Zapier (the schema `zapier validate` checks locally)', () => {
  const schema = require('zapier-platform-core/src/tools/schema');
  expect(schema.validateApp(schema.compileApp(App))).toEqual([]);
});

test('authentication: the test request names the key, which labels the connection', async () => {
  const info = await appTester(App.authentication.test, bundle());
  expect(info.name).toBe(keyName);
  expect(info.permissions).toEqual({ stock: 'read', orders: 'write', webhooks: true });
  expect(App.authentication.connectionLabel).toBe('{{json.name}}');
});

test('a refused key says why, in words', async () => {
  const bad = bundle({ authData: { baseUrl: base, apiKey: 'pl_notarealkeynotarealkeynotarealkeynotarealk00000' } });
  await expect(appTester(App.authentication.test, bad)).rejects.toThrow(/PartLogic refused the API key: .*\[(malformed_api_key|invalid_api_key)\]/);
});

test('each trigger lists real items for the zap editor', async () => {
  const low = await appTester(App.triggers.new_low_stock_alert.operation.performList, bundle());
  expect(low.length).toBeGreaterThan(0);
  expect(low[0]).toHaveProperty('SKU');
  expect(low.every((a) => a.Kind === 'below_min')).toBe(true);
  const restocked = await appTester(App.triggers.stock_restocked.operation.performList, bundle());
  expect(restocked.every((a) => a.Kind === 'restocked')).toBe(true);
  const orders = await appTester(App.triggers.new_order.operation.performList, bundle());
  expect(orders.length).toBeGreaterThan(0);
  expect(orders[0].number).toMatch(/^PO-\d{6}$/);
  const received = await appTester(App.triggers.order_received.operation.performList, bundle());
  expect(received.every((o) => o.status === 'received')).toBe(true);
  for (const t of Object.values(App.triggers)) expect(t.operation.sample).toBeTruthy();
});

test('instant trigger: subscribe, a stock change arrives at the hook URL, unsubscribe', async () => {
  const got = [];
  const hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise((r) => hook.listen(0, '127.0.0.1', r));
  const targetUrl = `http://127.0.0.1:${hook.address().port}/hooks/catch/123/abc`;
  try {
    const subscribeData = await appTester(
      App.triggers.stock_restocked.operation.performSubscribe,
      bundle({ targetUrl }),
    );
    expect(subscribeData.id).toBeGreaterThan(0);
    expect(subscribeData.events).toEqual(['stock.restocked']);

    // A row below its minimum, restocked by receiving an order for it.
    const below = (await api('GET', '/api/stock?below_min=true&limit=1')).json[0];
    const quantity = below.MaxQty - below.Physical;
    const order = await api('POST', '/api/orders', {
      body: { device_id: below.DeviceId, lines: [{ sku: below.SKU, quantity }] },
    });
    expect(order.status).toBe(201);
    expect((await api('POST', `/api/orders/${order.json.id}/receive`, { body: {} })).status).toBe(200);
    for (let i = 0; i < 100 && got.length === 0; i++) await sleep(50);
    expect(got.length).toBe(1);
    expect(got[0].headers['webhook-id']).toMatch(/^msg_/);
    const cleanedRequest = JSON.parse(got[0].body);
    expect(cleanedRequest.type).toBe('stock.restocked');
    const items = await appTester(
      App.triggers.stock_restocked.operation.perform,
      bundle({ cleanedRequest }),
    );
    expect(items).toHaveLength(1);
    expect(items[0].SKU).toBe(below.SKU);
    expect(items[0].Physical).toBe(below.MaxQty);

    await appTester(App.triggers.stock_restocked.operation.performUnsubscribe, bundle({ subscribeData }));
    expect((await api('GET', '/api/webhooks')).json).toEqual([]);
  } finally {
    hook.close();
  }
});

test('Find Stock finds an SKU, on every device or one', async () => {
  const row = (await api('GET', '/api/stock?limit=1')).json[0];
  const all = await appTester(App.searches.find_stock.operation.perform, bundle({ inputData: { sku: row.SKU } }));
  expect(all.length).toBeGreaterThan(0);
  expect(all.every((r) => r.SKU === row.SKU)).toBe(true);
  const one = await appTester(
    App.searches.find_stock.operation.perform,
    bundle({ inputData: { sku: row.SKU, device: row.DeviceId } }),
  );
  expect(one.map((r) => r.id)).toEqual([row.id]);
});

test('Create Order run twice (a Zapier retry) makes one order', async () => {
  const row = (await api('GET', '/api/stock?limit=1')).json[0];
  const reference = `zap-row-${Date.now()}`;
  const inputData = { device_id: row.DeviceId, lines: [{ sku: row.SKU, quantity: 3 }], reference };
  const first = await appTester(App.creates.create_order.operation.perform, bundle({ inputData }));
  const second = await appTester(App.creates.create_order.operation.perform, bundle({ inputData }));
  expect(first.number).toMatch(/^PO-\d{6}$/);
  expect(second.id).toBe(first.id);
  const listed = (await api('GET', `/api/orders?reference=${reference}`)).json;
  expect(listed).toHaveLength(1);
  // A bad line is refused with the server's own words, naming the field.
  const bad = { ...inputData, lines: [{ sku: 'NO-SUCH-SKU', quantity: 1 }], reference: `${reference}-bad` };
  await expect(appTester(App.creates.create_order.operation.perform, bundle({ inputData: bad }))).rejects.toThrow(
    /lines\[0\]\.sku.*\[validation_failed\]/,
  );
});
