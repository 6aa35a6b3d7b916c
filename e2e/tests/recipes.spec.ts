// The recipes the server serves at /recipes/, run as their users would run them, against the
// real server (no browser needed):
// - google-sheets.gs, the exact file served, inside a small stand-in for Google's Apps Script
//   services (UrlFetchApp, PropertiesService, SpreadsheetApp, ScriptApp). That stand-in is the
//   only fake here: Google's runtime cannot run on this machine. Its UrlFetchApp makes real,
//   synchronous HTTP requests to the real server (through curl), as Apps Script's does.
// - postman_collection.json, run by newman (Postman's own runner).
// - The Power Query recipes: there is no M engine on Linux, so the requests they make are
//   replayed here exactly (base URL + RelativePath + Query, the header or the Basic credential)
//   with the same paging rule, and checked against the files' text so the two cannot drift.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vm from 'node:vm';
import { expect, test, type APIRequestContext } from '@playwright/test';

const PASSWORD = 'partlogic-demo';
const BASE = `http://127.0.0.1:${process.env.E2E_PORT ?? 18765}`;

async function adminKey(request: APIRequestContext, email = 'admin@acme.example'): Promise<{ id: number; secret: string }> {
  expect((await request.post('/portal/api/session', { data: { email, password: PASSWORD } })).status()).toBe(200);
  const devices: Array<{ id: number }> = await (await request.get('/portal/api/devices')).json();
  const res = await request.post('/portal/api/keys', {
    data: { name: `recipes ${Date.now().toString(36)}`, device_ids: devices.map((d) => d.id) },
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
  getRange(row: number, col: number, rows: number, cols: number) {
    const cells = (f: (r: number, c: number) => void) => {
      for (let r = row; r < row + rows; r++) for (let c = col; c < col + cols; c++) f(r, c);
    };
    const range = {
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

/** What the script's user properties and script properties hold, and what the user answers
 * when the script asks for a key. */
interface Setup { user?: Record<string, string>; script?: Record<string, string>; typed?: string }

function appsScriptServices(setup: Setup) {
  // User properties belong to the user the script runs as; script properties to every editor.
  const userProperties = propertyStore(setup.user ?? {});
  const scriptProperties = propertyStore(setup.script ?? {});
  const alerts: string[] = [];
  const sheets = new Map<string, FakeSheet>();
  const triggers: Array<{ fn: string; hours: number }> = [];
  const toasts: string[] = [];
  const menus: Array<{ name: string; items: string[][] }> = [];
  const book = {
    getSheetByName: (n: string) => sheets.get(n) ?? null,
    insertSheet: (n: string) => { const s = new FakeSheet(n); sheets.set(n, s); return s; },
    toast: (msg: string) => { toasts.push(msg); },
  };
  const services = {
    UrlFetchApp: {
      // Synchronous, like Google's: a real request through curl, headers and status included.
      fetch(url: string, params: { method?: string; headers?: Record<string, string>; muteHttpExceptions?: boolean }) {
        const args = ['-s', '-X', (params.method ?? 'get').toUpperCase(), '-w', '\n%{http_code}'];
        for (const [k, v] of Object.entries(params.headers ?? {})) args.push('-H', `${k}: ${v}`);
        args.push(url);
        const out = execFileSync('curl', args, { maxBuffer: 64 * 1024 * 1024 }).toString('utf8');
        const cut = out.lastIndexOf('\n');
        const status = Number(out.slice(cut + 1));
        const text = out.slice(0, cut);
        if (status >= 400 && !params.muteHttpExceptions) throw new Error(`Request failed with ${status}`);
        return { getResponseCode: () => status, getContentText: () => text };
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
        timeBased: () => ({ everyHours: (hours: number) => ({ create: () => { triggers.push({ fn, hours }); } }) }),
      }),
    },
  };
  return { services, sheets, triggers, toasts, menus, alerts, userProperties: userProperties.values, scriptProperties: scriptProperties.values };
}

async function loadScript(request: APIRequestContext, setup: Setup) {
  const res = await request.get('/recipes/google-sheets.gs');
  expect(res.status()).toBe(200);
  const source = await res.text();
  expect(source).toContain(`var PARTLOGIC_BASE_URL = '${BASE}';`);
  const env = appsScriptServices(setup);
  const context = vm.createContext({ ...env.services, JSON, Date, String, Error, console });
  vm.runInContext(source, context, { filename: 'google-sheets.gs' });
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
