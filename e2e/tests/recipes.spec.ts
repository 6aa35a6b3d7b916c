// The recipes the server serves at /recipes/, run as their users would run them, against the
// real server (no browser needed):
// - google-sheets.gs and google-sheets-orders.gs, the exact files served, inside a small stand-in
//   for Google's Apps Script services (UrlFetchApp, PropertiesService, SpreadsheetApp, ScriptApp,
//   LockService, Utilities). That stand-in is the only fake here: Google's runtime cannot run on
//   this machine. Its UrlFetchApp makes real, synchronous HTTP requests to the real server
//   (through curl), as Apps Script's does; it can lose an answer after the server has acted on
//   the request, as a time-out does.
// - postman_collection.json, run by newman (Postman's own runner).
// - The Power Query recipes: there is no M engine on Linux, so the requests they make are
//   replayed here exactly (base URL + RelativePath + Query, the header or the Basic credential)
//   with the same paging rule, and checked against the files' text so the two cannot drift.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vm from 'node:vm';
import { expect, test, type APIRequestContext } from '@playwright/test';
import { unique } from './shared';

const PASSWORD = 'partlogic-demo';
const BASE = `http://127.0.0.1:${process.env.E2E_PORT ?? 18765}`;

/** A key reaching every device of `email`, with `permissions` beyond reading stock if given
 * (`{ orders: 'write' }` for creating orders). */
async function adminKey(request: APIRequestContext, email = 'admin@acme.example', permissions?: { orders: 'none' | 'read' | 'write' }): Promise<{ id: number; secret: string }> {
  expect((await request.post('/portal/api/session', { data: { email, password: PASSWORD } })).status()).toBe(200);
  const devices: Array<{ id: number }> = await (await request.get('/portal/api/devices')).json();
  const res = await request.post('/portal/api/keys', {
    data: { name: `recipes ${Date.now().toString(36)}`, device_ids: devices.map((d) => d.id), ...(permissions ? { permissions } : {}) },
  });
  expect(res.status()).toBe(201);
  const body = await res.json();
  return { id: body.key.id, secret: body.secret };
}

async function retire(request: APIRequestContext, id: number) {
  expect((await request.delete(`/portal/api/keys/${id}`)).status()).toBe(200);
}

async function allStock(request: APIRequestContext, key: string): Promise<Array<Record<string, unknown>>> {
  const res = await request.get('/api/stock', { headers: { 'X-API-Key': key } });
  expect(res.status()).toBe(200);
  return res.json();
}

// ---------------------------------------------------------------------------------------------
// Google Sheets
// ---------------------------------------------------------------------------------------------

/** A formula, as a cell holds one. */
class Formula { constructor(public text: string) {} }

/** A spreadsheet as Apps Script shows it: named sheets of cells. Like Sheets, it reads a string
 * written into a cell that is not formatted as plain text ("@") as if typed: "=…" becomes a
 * formula and "00123" the number 123, which is why the recipe formats its text columns. */
class FakeSheet {
  values: unknown[][] = [];
  formats = new Map<string, string>();
  constructor(public name: string) {}
  getName() { return this.name; }
  clearContents() { this.values = []; return this; }
  /** A new sheet's 1,000 rows, or more once written past them. */
  getMaxRows() { return Math.max(1000, this.values.length); }
  getLastRow() {
    for (let r = this.values.length; r > 0; r--) if ((this.values[r - 1] ?? []).some((v) => v !== undefined && v !== '')) return r;
    return 0;
  }
  getLastColumn() {
    return Math.max(0, ...this.values.map((row) => {
      for (let c = (row ?? []).length; c > 0; c--) if (row[c - 1] !== undefined && row[c - 1] !== '') return c;
      return 0;
    }));
  }
  /** Like Apps Script's: from A1 to the last row and column with content (A1 when empty). */
  getDataRange() { return this.getRange(1, 1, Math.max(1, this.getLastRow()), Math.max(1, this.getLastColumn())); }
  /** What a person does when typing into the sheet: each value read as typed (see setValues). */
  type(row: number, values: unknown[]) { this.getRange(row, 1, 1, values.length).setValues([values]); }
  /** Data > Sort range: rows 2 to the last, in a new order. */
  sortRows(compare: (a: unknown[], b: unknown[]) => number) {
    this.values = [this.values[0], ...this.values.slice(1).sort(compare)];
  }
  getRange(row: number, col: number, rows: number, cols: number) {
    const cells = (f: (r: number, c: number) => void) => {
      for (let r = row; r < row + rows; r++) for (let c = col; c < col + cols; c++) f(r, c);
    };
    const range = {
      // Empty cells read as '', as in Apps Script.
      getValues: () => Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => this.values[row - 1 + i]?.[col - 1 + j] ?? '')),
      setNumberFormat: (fmt: string) => { cells((r, c) => this.formats.set(`${r}:${c}`, fmt)); return range; },
      setValues: (v: unknown[][]) => {
        // Apps Script's own rule: exactly rows × cols, every row as wide as the range.
        if (v.length !== rows || v.some((r) => r.length !== cols)) {
          throw new Error(`The number of rows or columns in the data does not match the range (${rows}×${cols})`);
        }
        v.forEach((values, i) => {
          const r = row + i;
          this.values[r - 1] = this.values[r - 1] ?? [];
          values.forEach((value, j) => {
            const c = col + j;
            let cell = value;
            if (typeof value === 'string' && this.formats.get(`${r}:${c}`) !== '@') {
              if (value.startsWith('=')) cell = new Formula(value);
              else if (/^[+-]?\d+(\.\d+)?$/.test(value)) cell = Number(value);
            }
            this.values[r - 1][c - 1] = cell;
          });
        });
        return range;
      },
    };
    return range;
  }
}

/** A property store as PropertiesService hands one out. */
function propertyStore(values: Record<string, string>) {
  return {
    values,
    getProperty: (k: string) => values[k] ?? null,
    setProperty(k: string, v: string) { values[k] = v; return this; },
    deleteProperty(k: string) { delete values[k]; return this; },
  };
}

/** One request UrlFetchApp made, and what came back (nothing, when the answer was lost). */
interface Fetch {
  method: string; url: string; headers: Record<string, string>; payload?: string;
  status?: number; responseHeaders?: Record<string, string>; lost?: boolean;
}

/** What the script's user properties and script properties hold, what the user answers when
 * the script asks for a key, the spreadsheet's id, and which requests lose their answer (the
 * server gets and handles them; the script sees a time-out). */
interface Setup {
  user?: Record<string, string>; script?: Record<string, string>; typed?: string;
  bookId?: string; loseAnswer?: (f: Fetch) => boolean;
}

function appsScriptServices(setup: Setup) {
  // User properties belong to the user the script runs as; script properties to every editor.
  const userProperties = propertyStore(setup.user ?? {});
  const scriptProperties = propertyStore(setup.script ?? {});
  const alerts: string[] = [];
  const sheets = new Map<string, FakeSheet>();
  const triggers: Array<{ fn: string; hours?: number; minutes?: number }> = [];
  const toasts: string[] = [];
  const menus: Array<{ name: string; items: string[][] }> = [];
  const fetches: Fetch[] = [];
  const headerDir = mkdtempSync(join(tmpdir(), 'partlogic-urlfetch-'));
  let locked = false;
  // A spreadsheet id as Google makes them: 44 letters, digits, - and _.
  const bookId = setup.bookId ?? randomBytes(33).toString('base64url');
  const book = {
    getId: () => bookId,
    getSheetByName: (n: string) => sheets.get(n) ?? null,
    insertSheet: (n: string) => { const s = new FakeSheet(n); sheets.set(n, s); return s; },
    toast: (msg: string) => { toasts.push(msg); },
  };
  const services = {
    UrlFetchApp: {
      // Synchronous, like Google's: a real request through curl, headers and status included.
      // A string payload goes as the body, with contentType (Google's default: a form).
      fetch(url: string, params: { method?: string; headers?: Record<string, string>; muteHttpExceptions?: boolean; payload?: string; contentType?: string }) {
        const method = (params.method ?? 'get').toUpperCase();
        const headerFile = join(headerDir, 'headers');
        const args = ['-s', '-X', method, '-w', '\n%{http_code}', '-D', headerFile];
        for (const [k, v] of Object.entries(params.headers ?? {})) args.push('-H', `${k}: ${v}`);
        if (params.payload !== undefined) {
          args.push('-H', `Content-Type: ${params.contentType ?? 'application/x-www-form-urlencoded'}`, '--data-binary', '@-');
        }
        args.push(url);
        const fetch: Fetch = { method, url, headers: { ...params.headers }, payload: params.payload };
        fetches.push(fetch);
        const out = execFileSync('curl', args, { maxBuffer: 64 * 1024 * 1024, input: params.payload ?? '' }).toString('utf8');
        const cut = out.lastIndexOf('\n');
        const status = Number(out.slice(cut + 1));
        const text = out.slice(0, cut);
        const responseHeaders: Record<string, string> = {};
        for (const line of readFileSync(headerFile, 'utf8').split('\r\n').slice(1)) {
          const colon = line.indexOf(':');
          if (colon > 0) responseHeaders[line.slice(0, colon)] = line.slice(colon + 1).trim();
        }
        // The server has handled the request; the answer never reaches the script.
        if (setup.loseAnswer?.(fetch)) {
          fetch.lost = true;
          throw new Error(`Timeout: ${url}`);
        }
        Object.assign(fetch, { status, responseHeaders });
        if (status >= 400 && !params.muteHttpExceptions) throw new Error(`Request failed with ${status}`);
        return { getResponseCode: () => status, getContentText: () => text, getHeaders: () => ({ ...responseHeaders }) };
      },
    },
    PropertiesService: {
      getUserProperties: () => userProperties,
      getScriptProperties: () => scriptProperties,
    },
    SpreadsheetApp: {
      getActiveSpreadsheet: () => book,
      getUi: () => ({
        Button: { OK: 'OK', CANCEL: 'CANCEL' },
        ButtonSet: { OK_CANCEL: 'OK_CANCEL' },
        prompt: () => ({
          getSelectedButton: () => (setup.typed === undefined ? 'CANCEL' : 'OK'),
          getResponseText: () => setup.typed ?? '',
        }),
        alert: (msg: string) => { alerts.push(msg); },
        createMenu(name: string) {
          const menu = { name, items: [] as string[][] };
          const builder = {
            addItem(label: string, fn: string) { menu.items.push([label, fn]); return builder; },
            addToUi() { menus.push(menu); },
          };
          return builder;
        },
      }),
    },
    ScriptApp: {
      getProjectTriggers: () => triggers.map((t) => ({ getHandlerFunction: () => t.fn, t })),
      deleteTrigger: (h: { t: { fn: string } }) => { triggers.splice(triggers.indexOf(h.t as never), 1); },
      newTrigger: (fn: string) => ({
        timeBased: () => ({
          everyHours: (hours: number) => ({ create: () => { triggers.push({ fn, hours }); } }),
          // Google takes only these.
          everyMinutes: (minutes: number) => {
            if (![1, 5, 10, 15, 30].includes(minutes)) throw new Error('The value passed to everyMinutes must be 1, 5, 10, 15 or 30');
            return { create: () => { triggers.push({ fn, minutes }); } };
          },
        }),
      }),
    },
    LockService: {
      getDocumentLock: () => ({
        tryLock: () => (locked ? false : (locked = true)),
        releaseLock: () => { locked = false; },
      }),
    },
    Utilities: {
      DigestAlgorithm: { MD5: 'MD5', SHA_1: 'SHA_1', SHA_256: 'SHA_256', SHA_384: 'SHA_384', SHA_512: 'SHA_512' },
      Charset: { US_ASCII: 'US_ASCII', UTF_8: 'UTF_8' },
      // Google's answer is Java's byte[]: signed bytes, -128 to 127.
      computeDigest(algorithm: string, value: string | number[], charset = 'UTF_8') {
        const hashes: Record<string, string> = { MD5: 'md5', SHA_1: 'sha1', SHA_256: 'sha256', SHA_384: 'sha384', SHA_512: 'sha512' };
        const bytes = typeof value === 'string' ? Buffer.from(value, charset === 'US_ASCII' ? 'latin1' : 'utf8') : Buffer.from(value.map((b) => b & 0xff));
        return Array.from(createHash(hashes[algorithm]).update(bytes).digest(), (b) => (b > 127 ? b - 256 : b));
      },
    },
  };
  return { services, sheets, triggers, toasts, menus, alerts, fetches, bookId, userProperties: userProperties.values, scriptProperties: scriptProperties.values };
}

async function loadScript(request: APIRequestContext, setup: Setup, file = 'google-sheets.gs') {
  const res = await request.get(`/recipes/${file}`);
  expect(res.status()).toBe(200);
  const source = await res.text();
  expect(source).toContain(`var PARTLOGIC_BASE_URL = '${BASE}';`);
  const env = appsScriptServices(setup);
  const context = vm.createContext({ ...env.services, JSON, Date, String, Error, console });
  vm.runInContext(source, context, { filename: file });
  return { ...env, context: context as Record<string, () => void> };
}

test('Google Sheets: the served Apps Script fills "Stock" row for row, pages past 1,000, and reports a retired key', async ({ request }) => {
  const { id, secret } = await adminKey(request);
  const script = await loadScript(request, { typed: ` ${secret} ` });

  script.context.onOpen();
  expect(script.menus[0].name).toBe('PartLogic');
  expect(script.menus[0].items.map((i) => i[1])).toEqual(['setApiKey', 'refreshStock', 'refreshAlerts', 'installHourlyTrigger']);
  // The key goes into the user's own properties, which other editors cannot read.
  script.context.setApiKey();
  expect(script.userProperties).toEqual({ PARTLOGIC_API_KEY: secret });
  expect(script.scriptProperties).toEqual({});

  script.context.refreshStock();
  const expected = await allStock(request, secret);
  expect(expected.length).toBeGreaterThan(1000);            // paging exercised
  const fields = ['id', 'DeviceName', 'SKU', 'Description', 'MinQty', 'MaxQty', 'Physical', 'DeviceId', 'Customer', 'Location', 'UpdatedAt'];
  const sheet = script.sheets.get('Stock')!;
  expect(sheet.values[0]).toEqual(fields);
  expect(sheet.values.slice(1)).toEqual(expected.map((r) => fields.map((f) => r[f])));
  // Text stays text: the start-up data holds an item whose description is a formula and whose
  // code has leading zeros.
  const tricky = sheet.values.find((r) => r[2] === '00123')!;
  expect(tricky[3]).toBe('=HYPERLINK("http://evil.example","click")');
  const status = () => script.sheets.get('PartLogic')!.values;
  expect(status()[1].slice(0, 3)).toEqual(['Stock', status()[1][1], 'ok']);
  expect(status()[1][3]).toBe(`${expected.length} rows`);

  script.context.refreshAlerts();
  expect(script.sheets.get('Alerts')!.values[0][0]).toBe('id');
  // Each refresh has its own status row: the alerts' outcome does not hide the stock's.
  expect(status()[2][0]).toBe('Alerts');
  expect(status()[1][2]).toBe('ok');

  script.context.installHourlyTrigger();
  script.context.installHourlyTrigger();
  expect(script.triggers).toEqual([{ fn: 'refreshAll', hours: 1 }]);

  // Retired: the data stays as it was, and sheet "PartLogic" says what happened and what to do.
  await retire(request, id);
  script.context.refreshAll();
  expect(sheet.values.length).toBe(expected.length + 1);
  const stockStatus = status()[1];
  expect(stockStatus[0]).toBe('Stock');
  expect(stockStatus[2]).toBe('api_key_retired');
  expect(String(stockStatus[3])).toContain('retired');
  expect(String(stockStatus[4])).toContain('create a new one');
  expect(status()[2][2]).toBe('api_key_retired');
  expect(script.toasts.some((t) => t.startsWith('api_key_retired'))).toBe(true);

  // No key set at all: said plainly, nothing fetched.
  const bare = await loadScript(request, {});
  bare.context.refreshStock();
  expect(bare.sheets.get('PartLogic')!.values[1][2]).toBe('missing_api_key');
  expect(String(bare.sheets.get('PartLogic')!.values[1][4])).toContain('Set API key');
});

test('Google Sheets: a key kept in Script Properties (readable by every editor) is refused until set as the user\'s own, and a pasted non-key is refused', async ({ request }) => {
  const { secret } = await adminKey(request);
  // Set up with the earlier instructions: the key in Script Properties. It is neither used nor
  // moved (whoever ran the script first would take it), but named as the problem.
  const old = await loadScript(request, { script: { PARTLOGIC_API_KEY: secret } });
  old.context.refreshStock();
  expect(old.sheets.get('PartLogic')!.values[1][2]).toBe('key_in_script_properties');
  expect(String(old.sheets.get('PartLogic')!.values[1][4])).toContain('Set API key');
  expect(old.userProperties).toEqual({});
  // Setting it as one's own deletes the shared copy, and the refresh works.
  const moved = await loadScript(request, { script: { PARTLOGIC_API_KEY: secret }, typed: secret });
  moved.context.setApiKey();
  expect(moved.userProperties).toEqual({ PARTLOGIC_API_KEY: secret });
  expect(moved.scriptProperties).toEqual({});
  moved.context.refreshAlerts();
  expect(moved.sheets.get('PartLogic')!.values[2][2]).toBe('ok');
  // Something that is not a key is not saved.
  const typo = await loadScript(request, { typed: 'my key' });
  typo.context.setApiKey();
  expect(typo.userProperties).toEqual({});
  expect(typo.alerts[0]).toContain('not a whole PartLogic key');
});

// ---------------------------------------------------------------------------------------------
// Google Sheets: orders (google-sheets-orders.gs)
// ---------------------------------------------------------------------------------------------

const ORDER_COLUMNS = ['Device', 'SKU', 'Quantity', 'Reference', 'Order', 'Status'];

interface ApiOrder { id: number; number: string; status: string; reference: string | null; device: { id: number }; lines: Array<{ sku: string; quantity: number }> }

/** A key that may create orders on every Acme device, two devices and items stocked at them. */
async function ordersSetup(request: APIRequestContext) {
  const { id, secret } = await adminKey(request, 'admin@acme.example', { orders: 'write' });
  const headers = { 'X-API-Key': secret };
  const devices: Array<{ id: number; Name: string }> = await (await request.get('/api/devices', { headers })).json();
  const skus = async (device: number) => {
    const rows: Array<{ SKU: string }> = await (await request.get(`/api/stock?device=${device}&limit=3`, { headers })).json();
    return rows.map((r) => r.SKU);
  };
  const [d1, d2] = [devices[0], devices[1]];
  return { id, secret, headers, d1, d2, skus1: await skus(d1.id), skus2: await skus(d2.id) };
}

/** Every order with this reference, as the API lists them. */
async function ordersWithReference(request: APIRequestContext, headers: Record<string, string>, reference: string): Promise<ApiOrder[]> {
  const res = await request.get('/api/orders', { headers, params: { reference } });
  expect(res.status()).toBe(200);
  return res.json();
}

/** The served orders script with the key set, and sheet "Orders" made by a first run. */
async function ordersScript(request: APIRequestContext, secret: string, setup: Setup = {}) {
  const script = await loadScript(request, { ...setup, user: { PARTLOGIC_API_KEY: secret } }, 'google-sheets-orders.gs');
  script.context.sendNewOrders();
  const sheet = script.sheets.get('Orders')!;
  expect(sheet.values[0]).toEqual(ORDER_COLUMNS);
  const status = () => script.sheets.get('PartLogic')!.values[1];
  const posts = () => script.fetches.filter((f) => f.method === 'POST');
  // A row as the script reads it (empty cells are '').
  const row = (n: number) => sheet.getRange(n, 1, 1, ORDER_COLUMNS.length).getValues()[0];
  return { ...script, sheet, status, posts, row };
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

test('Google Sheets orders: rows become orders (one per Device + Reference, a line per row), numbers and statuses written back, bad rows marked unsent', async ({ request }) => {
  const { secret, headers, d1, d2, skus1, skus2 } = await ordersSetup(request);
  const script = await loadScript(request, { typed: secret }, 'google-sheets-orders.gs');
  script.context.onOpen();
  expect(script.menus[0].name).toBe('PartLogic');
  expect(script.menus[0].items).toEqual([
    ['Set API key…', 'setApiKey'],
    ['Send new orders', 'sendNewOrders'],
    ['Send new orders every 10 minutes', 'installOrdersTrigger'],
    ['Stop sending every 10 minutes', 'removeOrdersTrigger'],
  ]);
  script.context.setApiKey();
  expect(script.userProperties).toEqual({ PARTLOGIC_API_KEY: secret });
  expect(script.scriptProperties).toEqual({});

  // The first run makes sheet "Orders" with its header; nothing to send yet.
  script.context.sendNewOrders();
  const sheet = script.sheets.get('Orders')!;
  expect(sheet.values).toEqual([ORDER_COLUMNS]);
  const status = () => script.sheets.get('PartLogic')!.values[1];
  expect(status().slice(2, 4)).toEqual(['ok', 'no new rows']);

  const [two, one, bad] = [unique('sheet-two-lines'), unique('sheet-one-line'), unique('sheet-bad')];
  const rows = [
    [d1.id, skus1[1], 3, two],                 // row 2: device by id
    [d2.Name, skus2[0], '5', one],             // row 3: device by its name
    [String(d1.id), skus1[0], 2, two],         // row 4: the same order as row 2
    [d1.id, skus1[0], 2.5, bad],               // row 5: not a whole number
    [d1.id, '', 1, ''],                        // row 6: no SKU
    ['No such device', skus1[0], 1, ''],       // row 7: no device of that name
    [d1.id, skus1[2], 7, ''],                  // row 8: an order of its own
    [d1.id, skus1[2], 7, ''],                  // row 9: says exactly what row 8 says
  ];
  rows.forEach((r, i) => sheet.type(i + 2, r));
  // Typed into plain-text columns, codes and references stay text.
  expect(sheet.values[2][1]).toBe(skus2[0]);
  script.context.sendNewOrders();

  const [a] = await ordersWithReference(request, headers, two);
  expect(await ordersWithReference(request, headers, two)).toHaveLength(1);
  expect(a.device.id).toBe(d1.id);
  // Lines in SKU order: the body is built the same way on every run.
  expect(a.lines.map((l) => [l.sku, l.quantity])).toEqual([[skus1[0], 2], [skus1[1], 3]].sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1)));
  const [b] = await ordersWithReference(request, headers, one);
  expect(b.device.id).toBe(d2.id);
  expect(b.lines.map((l) => [l.sku, l.quantity])).toEqual([[skus2[0], 5]]);
  expect(await ordersWithReference(request, headers, bad)).toHaveLength(0);

  const cells = (row: number) => sheet.getRange(row, 5, 1, 2).getValues()[0];
  expect(cells(2)).toEqual([a.number, 'open']);
  expect(cells(4)).toEqual([a.number, 'open']);
  expect(cells(3)).toEqual([b.number, 'open']);
  expect(cells(5)).toEqual(['', 'Refused: invalid_quantity: Quantity must be a whole number from 1 to 1,000,000.']);
  expect(cells(6)[1]).toMatch(/^Refused: missing_sku: /);
  expect(cells(7)[1]).toMatch(/^Refused: unknown_device: No device named "No such device"/);
  expect(cells(8)[0]).toMatch(/^PO-\d{6}$/);
  expect(cells(9)).toEqual(['', 'Refused: duplicate_order: The same order as row 8 (same device, Reference, SKUs and quantities): give each its own Reference to order both.']);
  for (const row of [5, 6, 7, 9]) expect(cells(row)[0]).toBe('');
  expect(status().slice(2, 4)).toEqual(['ok', '3 orders created, 0 already created by an earlier run, 4 rows refused, 0 rows waiting for the next run']);
  expect(String(status()[4])).toContain('correct them');

  // Three requests, each with the key its body makes: sheets-<spreadsheet>-<SHA-256 of the body>.
  const posts = script.fetches.filter((f) => f.method === 'POST');
  expect(posts).toHaveLength(3);
  for (const p of posts) {
    expect(p.url).toBe(`${BASE}/api/orders`);
    expect(p.status).toBe(201);
    expect(p.headers['Idempotency-Key']).toBe(`sheets-${script.bookId}-${sha256(p.payload!)}`);
    expect(p.headers['Idempotency-Key'].length).toBeLessThanOrEqual(255);
  }
  expect(JSON.parse(posts[0].payload!)).toEqual({ device_id: d1.id, lines: a.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })), reference: two });

  // Another run sends only row 9 again (refused rows keep an empty Order), and it is still the
  // same order as row 8: PartLogic replays that order, which row 8 already shows.
  script.context.sendNewOrders();
  expect(script.fetches.filter((f) => f.method === 'POST')).toHaveLength(4);
  expect(script.fetches.at(-1)!.responseHeaders!['idempotent-replayed']).toBe('true');
  expect(cells(9)[0]).toBe('');
  expect(cells(9)[1]).toMatch(new RegExp(`^Refused: duplicate_order: The same order as ${cells(8)[0]} on row 8 `));
  expect(await ordersWithReference(request, headers, two)).toHaveLength(1);

  // The trigger, once, and gone again.
  script.context.installOrdersTrigger();
  script.context.installOrdersTrigger();
  expect(script.triggers).toEqual([{ fn: 'sendNewOrders', minutes: 10 }]);
  script.context.removeOrdersTrigger();
  expect(script.triggers).toEqual([]);
  expect(script.sheets.get('PartLogic')!.values[2].slice(0, 3)).toEqual(['Trigger', script.sheets.get('PartLogic')!.values[2][1], 'ok']);
});

test('Google Sheets orders: an answer lost after the server made the order leaves the row unsent, and the next run gets that order back instead of a second one', async ({ request }) => {
  const { secret, headers, d1, skus1 } = await ordersSetup(request);
  // The first POST reaches the server, which makes the order; the script sees a time-out.
  let lostOne = false;
  const script = await ordersScript(request, secret, { loseAnswer: (f) => f.method === 'POST' && !lostOne && (lostOne = true) });
  const reference = unique('sheet-lost');
  script.sheet.type(2, [d1.id, skus1[0], 4, reference]);
  script.context.sendNewOrders();
  expect(script.posts()).toHaveLength(1);
  expect(script.posts()[0].lost).toBe(true);
  expect(script.row(2)[4]).toBe('');
  expect(script.row(2)[5]).toMatch(/^No answer yet/);
  expect(script.status()[2]).toBe('no_answer');
  expect(String(script.status()[3])).toContain('Timeout');
  const made = await ordersWithReference(request, headers, reference);
  expect(made).toHaveLength(1);

  script.context.sendNewOrders();
  const [first, second] = script.posts();
  expect(second.headers['Idempotency-Key']).toBe(first.headers['Idempotency-Key']);
  expect(second.payload).toBe(first.payload);
  expect(second.status).toBe(201);
  expect(second.responseHeaders!['idempotent-replayed']).toBe('true');
  expect(script.row(2).slice(4)).toEqual([made[0].number, 'open']);
  expect(script.status().slice(2, 4)).toEqual(['ok', '0 orders created, 1 already created by an earlier run, 0 rows refused, 0 rows waiting for the next run']);
  expect(await ordersWithReference(request, headers, reference)).toHaveLength(1);
});

test('Google Sheets orders: re-sorting the sheet between runs changes no key, so answers lost for every order still give one order each', async ({ request }) => {
  const { secret, headers, d1, d2, skus1, skus2 } = await ordersSetup(request);
  let losing = true;
  const script = await ordersScript(request, secret, { loseAnswer: (f) => losing && f.method === 'POST' });
  const [r1, r2] = [unique('sheet-sort-a'), unique('sheet-sort-b')];
  const rows = [
    [d1.id, skus1[0], 1, r1],
    [d2.Name, skus2[1], 2, r2],
    [d1.id, skus1[1], 3, r1],
    [d1.id, skus1[2], 4, r1],
  ];
  rows.forEach((r, i) => script.sheet.type(i + 2, r));
  script.context.sendNewOrders();
  const lost = script.posts();
  expect(lost.map((p) => p.lost)).toEqual([true, true]);
  for (const r of [r1, r2]) expect(await ordersWithReference(request, headers, r)).toHaveLength(1);
  expect([2, 3, 4, 5].map((n) => script.row(n)[4])).toEqual(['', '', '', '']);

  // Data > Sort range: by quantity, descending; the three rows of r1 now come in another order.
  script.sheet.sortRows((x, y) => Number(y[2]) - Number(x[2]));
  expect(script.sheet.values.slice(1).map((r) => r[2])).toEqual([4, 3, 2, 1]);
  losing = false;
  script.context.sendNewOrders();
  const again = script.posts().slice(2);
  expect(again.map((p) => p.headers['Idempotency-Key']).sort()).toEqual(lost.map((p) => p.headers['Idempotency-Key']).sort());
  expect(again.map((p) => p.payload).sort()).toEqual(lost.map((p) => p.payload).sort());
  expect(again.map((p) => p.responseHeaders!['idempotent-replayed'])).toEqual(['true', 'true']);
  const [a] = await ordersWithReference(request, headers, r1);
  const [b] = await ordersWithReference(request, headers, r2);
  expect(await ordersWithReference(request, headers, r1)).toHaveLength(1);
  expect(await ordersWithReference(request, headers, r2)).toHaveLength(1);
  expect(a.lines).toHaveLength(3);
  // Each row shows its own order.
  for (const n of [2, 3, 4, 5]) expect(script.row(n)[4]).toBe(script.row(n)[3] === r1 ? a.number : b.number);
  expect(script.status()[3]).toBe('0 orders created, 2 already created by an earlier run, 0 rows refused, 0 rows waiting for the next run');
  // Nothing is left to send.
  script.context.sendNewOrders();
  expect(script.posts()).toHaveLength(4);
});

test('Google Sheets orders: a row PartLogic refuses shows the code and the field, stays unsent, and once corrected becomes an order (a new request)', async ({ request }) => {
  const { secret, headers, d1, skus1 } = await ordersSetup(request);
  const script = await ordersScript(request, secret);
  const reference = unique('sheet-refused');
  const wrong = `NO-SUCH-${Date.now().toString(36)}`;
  script.sheet.type(2, [d1.id, wrong, 2, reference]);
  script.context.sendNewOrders();
  expect(script.posts()[0].status).toBe(422);
  expect(script.row(2)[4]).toBe('');
  expect(script.row(2)[5]).toBe(`Refused: validation_failed: some fields are invalid (lines[0].sku: ${wrong} is not stocked at device ${d1.id})`);
  expect(script.status().slice(2, 4)).toEqual(['ok', '0 orders created, 0 already created by an earlier run, 1 row refused, 0 rows waiting for the next run']);
  expect(script.toasts.some((t) => t.includes('1 row refused'))).toBe(true);
  expect(await ordersWithReference(request, headers, reference)).toHaveLength(0);

  script.sheet.type(2, [d1.id, skus1[0], 2, reference]);
  script.context.sendNewOrders();
  const [refused, corrected] = script.posts();
  expect(corrected.headers['Idempotency-Key']).not.toBe(refused.headers['Idempotency-Key']);
  expect(corrected.status).toBe(201);
  const [order] = await ordersWithReference(request, headers, reference);
  expect(script.row(2).slice(4)).toEqual([order.number, 'open']);
});

test('Google Sheets orders: a key without the orders permission is refused with permission_denied, and no row is marked sent', async ({ request }) => {
  const { headers, d1, skus1 } = await ordersSetup(request);
  const { secret: readOnly } = await adminKey(request);
  const script = await ordersScript(request, readOnly);
  const reference = unique('sheet-denied');
  script.sheet.type(2, [d1.Name, skus1[0], 1, reference]);
  script.context.sendNewOrders();
  expect(script.posts()[0].status).toBe(403);
  expect(script.status()[2]).toBe('permission_denied');
  expect(String(script.status()[3])).toContain('orders:write');
  expect(String(script.status()[4])).toContain('read and create, cancel, receive');
  expect(script.toasts.some((t) => t.startsWith('permission_denied'))).toBe(true);
  expect(script.row(2).slice(4)).toEqual(['', '']);
  expect(await ordersWithReference(request, headers, reference)).toHaveLength(0);

  // No key at all: said plainly, nothing sent.
  const bare = await loadScript(request, {}, 'google-sheets-orders.gs');
  bare.context.sendNewOrders();
  expect(bare.sheets.get('PartLogic')!.values[1][2]).toBe('missing_api_key');
  expect(bare.fetches).toHaveLength(0);
});

// ---------------------------------------------------------------------------------------------
// Postman (newman)
// ---------------------------------------------------------------------------------------------

function newman(collection: string, key: string) {
  const dir = mkdtempSync(join(tmpdir(), 'partlogic-newman-'));
  const file = join(dir, 'collection.json');
  writeFileSync(file, collection);
  return spawnSync('npx', ['newman', 'run', file, '--env-var', `apiKey=${key}`, '--reporters', 'cli', '--color', 'off'], {
    encoding: 'utf8', timeout: 120_000,
  });
}

test('Postman: the served collection passes under newman, and a retired key fails with its code', async ({ request }) => {
  const res = await request.get('/recipes/postman_collection.json');
  expect(res.status()).toBe(200);
  const collection = await res.text();
  expect(JSON.parse(collection).variable.find((v: { key: string }) => v.key === 'baseUrl').value).toBe(BASE);

  const { id, secret } = await adminKey(request);
  const ok = newman(collection, secret);
  expect(ok.status, ok.stdout + ok.stderr).toBe(0);
  expect(ok.stdout).toContain('This key (test connection)');
  expect(ok.stdout).toMatch(/assertions\s*│\s*\d+\s*│\s*0\s*│/);

  await retire(request, id);
  const refused = newman(collection, secret);
  expect(refused.status).not.toBe(0);
  expect(refused.stdout).toContain('401 api_key_retired');
});

// ---------------------------------------------------------------------------------------------
// Excel / Power BI (Power Query): replayed, see the top of this file.
// ---------------------------------------------------------------------------------------------

test('Power Query: the requests both recipes make page through every row (replayed: no M engine on Linux)', async ({ request }) => {
  const { secret } = await adminKey(request);
  const expected = (await allStock(request, secret)).map((r) => r.id);
  for (const [file, auth] of [
    ['excel-power-query.pq', { 'X-API-Key': secret }],
    ['excel-power-query-basic.pq', { Authorization: `Basic ${Buffer.from(`${secret}:`).toString('base64')}` }],
  ] as const) {
    const res = await request.get(`/recipes/${file}`);
    expect(res.status()).toBe(200);
    const m = await res.text();
    // What the replay below does is what the file says.
    expect(m).toContain(`BaseUrl = "${BASE}"`);
    expect(m).toContain('RelativePath = "api/stock"');
    expect(m).toContain('Query = [limit = Text.From(PageSize), after = Text.From(after)]');
    expect(m).toContain('PageSize = 1000');
    expect(m).toContain('each if List.Count([Rows]) < PageSize then [Rows = {}] else [Rows = GetPage(List.Last([Rows])[id])]');
    if (file.endsWith('basic.pq')) expect(m).not.toContain('X-API-Key"');
    // List.Generate: first page after=0; next after=last id while a page is full.
    const seen: number[] = [];
    let after = 0;
    for (;;) {
      const page = await request.get(`${BASE}/api/stock`, { params: { limit: '1000', after: String(after) }, headers: { Accept: 'application/json', ...auth } });
      expect(page.status()).toBe(200);
      const rows: Array<{ id: number }> = await page.json();
      seen.push(...rows.map((r) => r.id));
      if (rows.length < 1000) break;
      after = rows[rows.length - 1].id;
    }
    expect(seen).toEqual(expected);
  }
  // Power Query sends a Basic credential when challenged: the 401 without one must ask for
  // Basic, and the credential then works (curl --anyauth does exactly that dance).
  const dance = spawnSync('curl', ['-s', '--anyauth', '-u', `${secret}:`, '-A', 'Microsoft.Data.Mashup', '-o', '/dev/null', '-w', '%{http_code}', `${BASE}/api/stock?limit=1`], { encoding: 'utf8' });
  expect(dance.stdout).toBe('200');
});

test('curl and Python recipes are served with this server filled in', async ({ request }) => {
  for (const file of ['curl.sh', 'python.py']) {
    const res = await request.get(`/recipes/${file}`);
    expect(res.status()).toBe(200);
    const text = await res.text();
    expect(text).toContain(BASE);
    expect(text).not.toContain('{{PARTLOGIC_BASE_URL}}');
  }
  expect((await request.get('/recipes/nope.txt')).status()).toBe(404);
  // The shell recipe runs as written.
  const { secret } = await adminKey(request);
  const dir = mkdtempSync(join(tmpdir(), 'partlogic-curl-'));
  const script = join(dir, 'curl.sh');
  writeFileSync(script, await (await request.get('/recipes/curl.sh')).text());
  // A curl first on PATH that writes down its command line (what `ps` shows every local user)
  // before it runs the real one: the key must never be on it.
  const shim = join(dir, 'bin');
  mkdirSync(shim);
  writeFileSync(join(shim, 'curl'), '#!/bin/sh\nprintf "%s\\n" "$*" >> "$(dirname "$0")/argv.log"\nexec /usr/bin/curl "$@"\n', { mode: 0o755 });
  const env = { ...process.env, PATH: `${shim}:${process.env.PATH}` };
  const run = spawnSync('bash', [script], { cwd: dir, env: { ...env, PARTLOGIC_API_KEY: secret }, encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout).toContain('wrote stock.csv');
  const argv = readFileSync(join(shim, 'argv.log'), 'utf8');
  expect(argv.split('\n').filter((l) => l.includes('/api/')).length).toBeGreaterThanOrEqual(5);
  expect(argv).not.toContain(secret);
  expect(argv).not.toContain(secret.slice(3, 20));
  // A refused key stops the script, with the server's explanation, instead of "success".
  const { id: retiredId, secret: retired } = await adminKey(request);
  await retire(request, retiredId);
  const refused = spawnSync('bash', [script], { cwd: dir, env: { ...env, PARTLOGIC_API_KEY: retired }, encoding: 'utf8' });
  expect(refused.status).not.toBe(0);
  expect(refused.stdout + refused.stderr).toContain('api_key_retired');
  expect(refused.stdout).not.toContain('wrote stock.csv');
});
