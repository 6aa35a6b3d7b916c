// The portal in a real browser against the real server (see ../start-server.sh for the data).
import { spawnSync } from 'node:child_process';
import { expect, test, type Page, type TestInfo, type APIRequestContext } from '@playwright/test';
import { PASSWORD, failOnPageErrors, login, unique } from './shared';

const HD_DEVICES = [
  'HD Warehouse A', 'HD Warehouse B', 'HD Workshop Crib', 'HD Vending 1',
  'HD Reefer Spares', 'HD Forklift Bay', 'HD Dock Stores',
];

failOnPageErrors();

async function shot(page: Page, info: TestInfo, name: string) {
  const path = info.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await info.attach(name, { path, contentType: 'image/png' });
}

async function stockDevices(request: APIRequestContext, key: string): Promise<string[]> {
  const res = await request.get('/api/stock', { headers: { 'X-API-Key': key } });
  expect(res.status()).toBe(200);
  const rows: Array<Record<string, unknown>> = await res.json();
  return [...new Set(rows.map((r) => r.DeviceName as string))].sort();
}

/** Creates a key in the UI for the devices a filter shows; returns the secret. */
async function createKey(page: Page, name: string, filter: string): Promise<string> {
  await page.goto('/integrations/new');
  await page.getByLabel('Key name').fill(name);
  await page.getByLabel('Filter devices').fill(filter);
  await page.getByRole('button', { name: 'Select All' }).click();
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByText(`Your API key “${name}” was created.`)).toBeVisible();
  const secret = await page.getByLabel('Your new API key').inputValue();
  expect(secret).toMatch(/^pl_[0-9A-Za-z]{49}$/);
  await page.getByRole('button', { name: 'Return' }).click();
  await expect(page.getByRole('heading', { name: 'Integrations' })).toBeVisible();
  return secret;
}

test('log in, with deep links surviving it, and log out', async ({ page }, info) => {
  await page.goto('/integrations/new');
  await expect(page).toHaveURL(/\/login\?next=%2Fintegrations%2Fnew$/);
  await shot(page, info, 'login');

  await page.getByLabel('Email').fill('admin@acme.example');
  await page.getByLabel('Password').fill('wrong password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toContainText('the email or password is wrong');

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Password').press('Enter');
  await expect(page).toHaveURL(/\/integrations\/new$/);
  await expect(page.getByRole('heading', { name: 'New API Key' })).toBeVisible();
  await expect(page.getByText('Alex Admin · Acme Manufacturing')).toBeVisible();

  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/integrations');
  await expect(page).toHaveURL(/\/login\?next=%2Fintegrations$/);

  // `next` never leads off the portal: browsers drop the tab, leaving //evil.example.
  await page.goto('/login?next=%2F%09%2Fevil.example');
  await page.getByLabel('Email').fill('admin@acme.example');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Password').press('Enter');
  await expect(page).toHaveURL(/127\.0\.0\.1:\d+\/integrations$/);
});

test('create a key with filter, Select All, Clear and an expiry; copy it; it reads only those devices', async ({ page, request }, info) => {
  await login(page, 'admin@acme.example');
  await shot(page, info, 'integrations-list');
  await page.getByRole('link', { name: 'New API Key' }).first().click();
  await expect(page.getByRole('heading', { name: 'New API Key' })).toBeVisible();
  const generate = page.getByRole('button', { name: 'Generate' });
  await expect(generate).toBeDisabled();

  const name = unique('Harbour sync');
  await page.getByLabel('Key name').fill(name);
  // Within the five years a dated key may run.
  const year = new Date().getFullYear() + 1;
  await page.getByLabel('Expires On').fill(`${year}-01-15`);
  await expect(page.getByText(`Works until the end of 15 Jan ${year}, Europe/London.`)).toBeVisible();

  const filter = page.getByLabel('Filter devices');
  await filter.fill('harbour');   // matches the customer name
  await expect(page.locator('ul.device-list li:visible')).toHaveCount(7);
  await page.getByRole('button', { name: 'Select All' }).click();
  await expect(page.getByText('7 of 28 devices selected')).toBeVisible();
  await filter.fill('hd vending');  // matches a device name
  await page.getByRole('button', { name: 'Clear' }).click();
  await expect(page.getByText('6 of 28 devices selected')).toBeVisible();
  await filter.fill('');
  await expect(page.locator('ul.device-list li:visible')).toHaveCount(28);    // few: all in the page
  await shot(page, info, 'new-key-form');

  await expect(generate).toBeEnabled();
  await generate.click();
  await expect(page.getByText(`Your API key “${name}” was created.`)).toBeVisible();
  await expect(page.getByText('It will not be shown again')).toBeVisible();
  const secret = await page.getByLabel('Your new API key').inputValue();
  expect(secret).toMatch(/^pl_[0-9A-Za-z]{49}$/);
  await page.getByRole('button', { name: 'Copy', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await shot(page, info, 'key-created');

  // The key reads exactly the six ticked devices.
  expect(await stockDevices(request, secret)).toEqual(HD_DEVICES.filter((d) => d !== 'HD Vending 1').sort());

  // Return: listed, without the secret anywhere.
  await page.getByRole('button', { name: 'Return' }).click();
  const row = page.locator('tr', { hasText: name });
  await expect(row).toBeVisible();
  await expect(row).toContainText(secret.slice(0, 7) + '…');
  await expect(row).toContainText(`15 Jan ${year}`);
  await expect(row).toContainText('just now');          // last used: the call above
  await expect(row).toContainText('Active');
  await row.getByRole('button', { name: '6 devices' }).click();
  await expect(row.getByText('HD Dock Stores (Harbour Depot)')).toBeVisible();
  const noSecretAnywhere = async () => {
    expect(await page.content()).not.toContain(secret.slice(7));
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    expect(stored).not.toContain(secret.slice(7));
  };
  await noSecretAnywhere();
  await page.reload();
  await expect(page.locator('tr', { hasText: name })).toBeVisible();
  await noSecretAnywhere();
  await page.goBack();
  await expect(page.getByRole('heading', { name: 'New API Key' })).toBeVisible();
  await expect(page.getByLabel('Key name')).toHaveValue('');
  await noSecretAnywhere();
});

test('edit a key\'s devices and name and see the API change', async ({ page, request }, info) => {
  await login(page, 'admin@acme.example');
  const name = unique('Airport');
  const secret = await createKey(page, name, 'AH Tool Crib');
  expect(await stockDevices(request, secret)).toEqual(['AH Tool Crib']);

  await page.getByRole('link', { name }).click();
  await expect(page.getByRole('heading', { name: 'API key' })).toBeVisible();
  await page.getByLabel('Filter devices').fill('AH Hangar');
  await page.getByLabel('AH Hangar Stores').check();
  await page.getByLabel('Filter devices').fill('');
  await page.getByLabel('AH Tool Crib').uncheck();
  await page.getByRole('button', { name: 'Save devices' }).click();
  await expect(page.getByText('Devices saved.')).toBeVisible();
  expect(await stockDevices(request, secret)).toEqual(['AH Hangar Stores']);

  await page.getByLabel('Key name').fill(`${name} v2`);
  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(page.getByText('Name saved.')).toBeVisible();
  await expect(page.getByRole('cell', { name: /Edited: renamed/ })).toBeVisible();
  await expect(page.getByRole('cell', { name: /Edited: devices: 1 added, 1 removed/ })).toBeVisible();
  await shot(page, info, 'key-details');
});

test('two people editing one key: the later save is refused and the page offers a reload', async ({ page, playwright }, info) => {
  await login(page, 'admin@acme.example');
  const name = unique('Shared');
  await createKey(page, name, 'NP Paint Shop');
  await page.getByRole('link', { name }).click();
  await expect(page.getByRole('heading', { name: 'API key' })).toBeVisible();

  // Someone else renames the key meanwhile, through the portal API with a session of their own.
  const other = await playwright.request.newContext({ baseURL: page.url().replace(/\/integrations.*$/, '') });
  expect((await other.post('/portal/api/session', { data: { email: 'admin@acme.example', password: PASSWORD } })).status()).toBe(200);
  const id = page.url().split('/').pop();
  const current = await other.get(`/portal/api/keys/${id}`);
  const res = await other.patch(`/portal/api/keys/${id}`, {
    data: { name: `${name} (theirs)` },
    headers: { 'If-Match': current.headers()['etag'] },
  });
  expect(res.status()).toBe(200);

  // This page still shows the old version: its save would overwrite theirs, so it is refused.
  await page.getByLabel('Key name').fill(`${name} (mine)`);
  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(page.getByText('Someone else changed this key since you opened it')).toBeVisible();
  await shot(page, info, 'stale-edit');
  await page.getByRole('button', { name: 'Reload' }).click();
  await expect(page.getByLabel('Key name')).toHaveValue(`${name} (theirs)`);
  // Now the change goes through.
  await page.getByLabel('Key name').fill(`${name} (mine)`);
  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(page.getByText('Name saved.')).toBeVisible();
  await other.dispose();
});

test('retire a key behind a confirmation; the API then answers 401 api_key_retired', async ({ page, request }, info) => {
  await login(page, 'admin@acme.example');
  const name = unique('Retire me');
  const secret = await createKey(page, name, 'SP Welding Bay');
  expect(await stockDevices(request, secret)).toEqual(['SP Welding Bay']);

  const row = page.locator('tr', { hasText: name });
  await row.getByRole('button', { name: `Retire ${name}` }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText(`Retire “${name}”?`);
  await shot(page, info, 'retire-dialog');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  expect((await request.get('/api/stock', { headers: { 'X-API-Key': secret } })).status()).toBe(200);

  await row.getByRole('button', { name: `Retire ${name}` }).click();
  await dialog.getByRole('button', { name: 'Retire key' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.locator('tr', { hasText: name })).toContainText('Retired');
  const res = await request.get('/api/stock', { headers: { 'X-API-Key': secret } });
  expect(res.status()).toBe(401);
  expect((await res.json()).code).toBe('api_key_retired');
});

test('field errors: Generate waits for a valid form, server errors sit by their fields', async ({ page }, info) => {
  await login(page, 'admin@acme.example');
  await page.goto('/integrations/new');
  const generate = page.getByRole('button', { name: 'Generate' });
  await page.getByLabel('AH Tool Crib').check();
  await expect(generate).toBeDisabled();                      // no name yet
  await page.getByLabel('Key name').fill('   ');
  await expect(generate).toBeDisabled();                      // blank name
  await page.getByLabel('Key name').fill('Tabbed\tname');
  await page.getByLabel('Expires On').fill('2001-01-01');
  await expect(page.getByText('The date must be today or later')).toBeVisible();
  await expect(generate).toBeDisabled();
  // More than five years ahead: leave it empty instead, for a key that does not expire.
  await page.getByLabel('Expires On').fill(`${new Date().getFullYear() + 6}-01-01`);
  await expect(page.getByText('at most five years ahead')).toBeVisible();
  await expect(generate).toBeDisabled();
  await page.getByLabel('Expires On').fill('');
  await expect(generate).toBeEnabled();
  // The browser lets a tab through; the server refuses it, next to the field.
  await generate.click();
  await expect(page.locator('#key-name-error')).toHaveText('must not contain control, invisible or direction-changing characters');
  await shot(page, info, 'field-errors');
  await page.getByLabel('AH Tool Crib').uncheck();
  await expect(generate).toBeDisabled();                      // no device
});

test('keyboard only: create a key and close a dialog with Escape', async ({ page, request }) => {
  await login(page, 'admin@acme.example');
  await page.goto('/integrations/new');
  await expect(page.getByRole('heading', { name: 'New API Key' })).toBeVisible();
  const tabTo = async (id: string) => {
    for (let i = 0; i < 40; i++) {
      if (await page.evaluate((want) => document.activeElement?.id === want, id)) return;
      await page.keyboard.press('Tab');
    }
    throw new Error(`Tab never reached #${id}`);
  };
  const name = unique('Keyboard');
  await tabTo('key-name');
  await page.keyboard.type(name);
  await tabTo('device-filter');
  await page.keyboard.type('AH Hazmat');
  await page.keyboard.press('Tab');                          // Select All
  await expect(page.locator(':focus')).toHaveText('Select All');
  await page.keyboard.press('Space');
  await expect(page.getByText('1 of 28 devices selected')).toBeVisible();
  await tabTo('key-name');
  await page.keyboard.press('Enter');                        // Enter submits
  await expect(page.getByText(`Your API key “${name}” was created.`)).toBeVisible();
  const secret = await page.getByLabel('Your new API key').inputValue();
  expect(await stockDevices(request, secret)).toEqual(['AH Hazmat Locker']);
  await page.getByRole('button', { name: 'Return' }).focus();
  await page.keyboard.press('Enter');
  const retire = page.getByRole('button', { name: `Retire ${name}` });
  await retire.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('dialog')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toBeHidden();
  expect((await request.get('/api/stock', { headers: { 'X-API-Key': secret } })).status()).toBe(200);
});

test('a member sees and ticks only their own devices', async ({ page, request }, info) => {
  await login(page, 'member@acme.example');
  await page.goto('/integrations/new');
  await expect(page.getByText('0 of 14 devices selected')).toBeVisible();
  await page.getByLabel('Filter devices').fill('South');
  await expect(page.locator('ul.device-list li:visible')).toHaveCount(0);
  await expect(page.getByText('No device or customer matches the filter.')).toBeVisible();
  await page.getByLabel('Filter devices').fill('SP Main');
  await expect(page.locator('ul.device-list li:visible')).toHaveCount(0);
  await shot(page, info, 'member-filter');

  const name = unique('Member key');
  const secret = await createKey(page, name, 'NP Vending');
  expect(await stockDevices(request, secret)).toEqual(['NP Vending 1', 'NP Vending 2']);
  await expect(page.locator('tr', { hasText: 'Harbour sync' })).toHaveCount(0); // the admin's keys are not listed

  await page.getByRole('button', { name: 'Log out' }).click();
  await login(page, 'member2@acme.example');
  await expect(page.locator('tr', { hasText: name })).toHaveCount(0);            // nor another member's
  await page.goto('/integrations/new');
  await expect(page.getByText('0 of 2 devices selected')).toBeVisible();
  await expect(page.locator('ul.device-list li:visible')).toHaveText([/SP Main Stores/, /SP Tool Crib/]);
});

test('phone width: the list stays usable', async ({ page }, info) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await login(page, 'admin@acme.example');
  await expect(page.locator('table.keys tbody tr').first()).toBeVisible();
  await expect(page.getByRole('button', { name: 'Log out' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'New API Key' }).first()).toBeVisible();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
  await shot(page, info, 'integrations-phone');
});

test('10,000 devices: each keystroke, Select All and Clear within a frame', async ({ page, request }, info) => {
  await login(page, 'admin@bigco.example');
  const t = Date.now();
  await page.goto('/integrations/new');
  await expect(page.getByText('0 of 10000 devices selected')).toBeVisible();
  const render = Date.now() - t;
  // Only the rows in view (and a few either side) are in the page.
  expect(await page.locator('ul.device-list li').count()).toBeLessThanOrEqual(30);

  // Time each step inside the page: from the event to the DOM updated and laid out (Leptos
  // runs its effects as microtasks, done before the timeout fires; reading offsetHeight forces
  // the layout), without the test runner's own polling in the figure.
  const step = (what: 'filter' | 'Select All' | 'Clear', text = '') =>
    page.evaluate(async ([what, text]) => {
      const t0 = performance.now();
      if (what === 'filter') {
        const input = document.getElementById('device-filter') as HTMLInputElement;
        input.value = text;
        input.dispatchEvent(new Event('input', { bubbles: true }));
      } else {
        [...document.querySelectorAll('button')].find((b) => b.textContent === what)!.click();
      }
      await new Promise((r) => setTimeout(r, 0));
      void document.body.offsetHeight;
      return performance.now() - t0;
    }, [what, text] as const);
  const times: Record<string, number[]> = { keystroke: [], 'Select All': [], Clear: [] };

  // Typing "crib 04" a key at a time, over all 10,000 devices, five times over.
  for (let round = 0; round < 5; round++) {
    await step('filter', '');
    for (const typed of ['c', 'cr', 'cri', 'crib', 'crib ', 'crib 0', 'crib 04']) {
      times.keystroke.push(await step('filter', typed));
    }
  }
  await expect(page.getByText('0 of 10000 devices selected · 100 shown')).toBeVisible();
  await expect(page.locator('ul.device-list li')).toHaveCount(100);     // few enough: all in the page
  await step('Select All');
  await expect(page.getByText('100 of 10000 devices selected')).toBeVisible();
  await step('Clear');
  await expect(page.getByText('0 of 10000 devices selected')).toBeVisible();

  // Select All and Clear over every device, and over 1,000 of them.
  await step('filter', '');
  for (let round = 0; round < 5; round++) {
    times['Select All'].push(await step('Select All'));
    await expect(page.getByText('10000 of 10000 devices selected')).toBeVisible();
    times.Clear.push(await step('Clear'));
    await expect(page.getByText('0 of 10000 devices selected')).toBeVisible();
  }
  await step('Select All');
  await step('filter', 'crib 1');                                  // Crib 1000–1999
  await expect(page.getByText('10000 of 10000 devices selected · 1000 shown')).toBeVisible();
  times.Clear.push(await step('Clear'));
  await expect(page.getByText('9000 of 10000 devices selected')).toBeVisible();

  // The keyboard reaches every tick: End goes to the last one shown, scrolling it into view.
  await page.getByLabel('Crib 1000').focus();
  await page.keyboard.press('End');
  await expect(page.getByLabel('Crib 1999')).toBeFocused();
  await expect(page.getByLabel('Crib 1999')).toBeInViewport();
  await page.keyboard.press('ArrowUp');
  await expect(page.getByLabel('Crib 1998')).toBeFocused();
  await page.keyboard.press('Space');
  await expect(page.getByText('9001 of 10000 devices selected')).toBeVisible();
  await page.keyboard.press('Home');
  await expect(page.getByLabel('Crib 1000')).toBeFocused();
  // Scrolling with the mouse shows the rows further down.
  await page.locator('.device-scroll').evaluate((el) => { el.scrollTop = 40 * 500; });
  await expect(page.getByLabel('Crib 1500')).toBeVisible();

  const name = unique('Bigco 9001');
  await page.getByLabel('Key name').fill(name);
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByText(`Your API key “${name}” was created.`)).toBeVisible();
  const secret = await page.getByLabel('Your new API key').inputValue();
  const devices = await (await request.get('/api/devices', { headers: { 'X-API-Key': secret } })).json();
  expect(devices).toHaveLength(9001);
  await shot(page, info, 'bigco-created');

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const worst = (xs: number[]) => Math.max(...xs);
  const figure = (k: string) => `${k} median ${median(times[k]).toFixed(1)} ms, worst ${worst(times[k]).toFixed(1)} ms (${times[k].length} runs)`;
  const figures = `10,000 devices: page ready ${render} ms; ${Object.keys(times).map(figure).join('; ')}`;
  console.log(figures);
  await info.attach('timings', { body: figures, contentType: 'text/plain' });
  // The target is a frame (16 ms); the bound below only catches a return to work per device
  // (hundreds of ms here), not the noise of a shared 2-core machine.
  for (const k of Object.keys(times)) expect(median(times[k]), figure(k)).toBeLessThan(50);
});

test('Help: from Integrations to a guide with this server\'s URL, a recipe to copy and download', async ({ page }, info) => {
  await login(page, 'admin@acme.example');
  await page.getByRole('link', { name: 'Connecting a tool, step by step' }).click();
  await expect(page.getByRole('heading', { name: 'Help: connecting your tools' })).toBeVisible();
  for (const guide of ['Getting an API key', 'Authentication', 'Zapier', 'Google Sheets', 'Orders from a spreadsheet', 'Excel & Power BI', 'Postman', 'Scripts (curl, Python)']) {
    await expect(page.getByRole('link', { name: guide, exact: true })).toBeVisible();
  }
  await page.getByRole('link', { name: 'Google Sheets', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Google Sheets', level: 1 })).toBeVisible();
  const base = new URL(page.url()).origin;
  const block = page.locator('figure.code', { hasText: 'google-sheets.gs (Apps Script)' });
  await expect(block.locator('code')).toContainText(`var PARTLOGIC_BASE_URL = '${base}';`);
  await expect(block.getByRole('link', { name: 'Download google-sheets.gs' })).toHaveAttribute('href', '/recipes/google-sheets.gs');
  await block.getByRole('button', { name: /Copy/ }).click();
  await expect(block.getByRole('button', { name: /Copy/ })).toHaveText('Copied');
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toContain('function refreshStock()');
  expect(copied).toContain(base);
  await shot(page, info, 'help-google-sheets');

  // Every guide opens, and every code block in it names this server where it names one, and
  // can be downloaded.
  for (const slug of ['getting-an-api-key', 'authentication', 'zapier', 'orders-from-a-spreadsheet', 'excel-and-power-bi', 'postman', 'scripts']) {
    await page.goto(`/help/${slug}`);
    const blocks = page.locator('figure.code');
    await expect(blocks.first()).toBeVisible();
    for (const block of await blocks.all()) {
      const code = block.locator('code');
      await expect(code).not.toHaveText('Loading…');
      await expect(code).not.toHaveText('…');
      const text = (await code.textContent()) ?? '';
      for (const url of text.match(/https?:\/\/[^\s"'`/}]+/g) ?? []) {
        if (!url.includes('example') && !url.includes('microsoft') && !url.includes('getpostman')) expect(url, slug).toBe(base);
      }
      await expect(block.getByRole('button', { name: /Copy/ })).toBeVisible();
      await expect(block.getByText(/^Download /)).toBeVisible();
    }
  }
  await page.goto('/help/zapier');
  await expect(page.locator('figure.code code', { hasText: `${base}/api/stock?below_min=true` }).first()).toBeVisible();
  const orderZap = page.locator('figure.code', { hasText: 'Webhooks POST settings' });
  await expect(orderZap.locator('code')).toContainText(`URL:     ${base}/api/orders`);
  await expect(orderZap.locator('code')).toContainText('Idempotency-Key | orders-sheet-{{Row ID}}');
  // The orders guide: listed after Google Sheets, its steps, and the served script for this server.
  await page.goto('/help');
  const titles = await page.locator('ul.guides a').allTextContents();
  expect(titles.indexOf('Orders from a spreadsheet')).toBe(titles.indexOf('Google Sheets') + 1);
  await page.getByRole('link', { name: 'Orders from a spreadsheet', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Orders from a spreadsheet', level: 1 })).toBeVisible();
  await expect(page.locator('ol.steps > li').first()).toContainText('read and create, cancel, receive');
  await expect(page.getByRole('heading', { name: 'A row is never ordered twice' })).toBeVisible();
  const ordersRecipe = page.locator('figure.code', { hasText: 'google-sheets-orders.gs (Apps Script)' });
  await expect(ordersRecipe.locator('code')).toContainText(`var PARTLOGIC_BASE_URL = '${base}';`);
  await expect(ordersRecipe.locator('code')).toContainText('function sendNewOrders()');
  await expect(ordersRecipe.getByRole('link', { name: 'Download google-sheets-orders.gs' })).toHaveAttribute('href', '/recipes/google-sheets-orders.gs');
  await page.goto('/help/authentication');
  await expect(page.getByRole('cell', { name: 'api_key_retired' })).toBeVisible();
  await expect(page.locator('figure.code code', { hasText: `curl -K - ${base}/api/key <<< 'user = "YOUR_API_KEY:"'` })).toBeVisible();
});

test('Help: a technical term explains itself on keyboard focus, and Escape closes it', async ({ page }) => {
  await login(page, 'admin@acme.example');
  await page.goto('/help/getting-an-api-key');
  const term = page.locator('.term', { hasText: 'Expires On' }).first();
  const tipId = await term.getAttribute('aria-describedby');
  expect(tipId).toBeTruthy();
  const tip = page.locator(`[id="${tipId}"]`);
  await expect(tip).toHaveAttribute('role', 'tooltip');
  await expect(tip).toBeHidden();
  // Reach it with the keyboard only.
  await page.locator('main h1').focus();
  for (let i = 0; i < 40 && !(await term.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press('Tab');
  }
  await expect(term).toBeFocused();
  await expect(tip).toBeVisible();
  await expect(tip).toContainText('The last day a key works');
  await page.keyboard.press('Escape');
  await expect(tip).toBeHidden();
  // Hover shows it too.
  await term.hover();
  await expect(tip).toBeVisible();
});

test('Use this key: snippets leave the key out until asked, then copy with it', async ({ page, request }, info) => {
  await login(page, 'admin@acme.example');
  await page.goto('/integrations/new');
  const name = unique('Snippets');
  await page.getByLabel('Key name').fill(name);
  await page.getByLabel('Filter devices').fill('NP Vending 1');
  await page.getByRole('button', { name: 'Select All' }).click();
  await page.getByRole('button', { name: 'Generate' }).click();
  const secret = await page.getByLabel('Your new API key').inputValue();
  const panel = page.locator('section.use-key');
  const snippet = panel.locator('figure.code code');
  await expect(snippet).toContainText('X-API-Key: YOUR_API_KEY');
  expect(await snippet.textContent()).not.toContain(secret);
  await panel.getByLabel('Include my key in the snippets').check();
  await expect(snippet).toContainText(`X-API-Key: ${secret}`);
  await panel.getByRole('tab', { name: 'Zapier' }).click();
  await expect(panel.getByRole('tab', { name: 'Zapier' })).toHaveAttribute('aria-selected', 'true');
  await expect(snippet).toContainText('/api/stock/alerts');
  await expect(snippet).toContainText(`Basic Auth: ${secret}|`);
  await panel.getByRole('tab', { name: 'curl' }).click();
  await panel.getByRole('button', { name: 'Copy curl snippet' }).click();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  // The key reaches curl on its standard input, never its command line (which `ps` shows).
  expect(copied.split('\n')[0]).toBe(`curl -H @- ${new URL(page.url()).origin}/api/key <<< 'X-API-Key: ${secret}'`);
  await shot(page, info, 'use-this-key');
  // The copied line works as it is: run it.
  const run = spawnSync('bash', ['-c', copied.split('\n')[0]], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  expect(JSON.parse(run.stdout).name).toBe(name);
  await panel.getByLabel('Include my key in the snippets').uncheck();
  await expect(snippet).not.toContainText(secret);
  // On the key's own page the secret is no longer known: a placeholder, always.
  await page.getByRole('button', { name: 'Return' }).click();
  await page.getByRole('link', { name }).click();
  await expect(page.locator('section.use-key figure.code code')).toContainText('YOUR_API_KEY');
  await expect(page.locator('section.use-key').getByLabel('Include my key in the snippets')).toHaveCount(0);
});

test('API docs work offline, and Try it out calls the API with a key', async ({ page, request }, info) => {
  const base = `http://127.0.0.1:${process.env.E2E_PORT ?? 18765}`;
  expect((await request.post('/portal/api/session', { data: { email: 'admin@acme.example', password: PASSWORD } })).status()).toBe(200);
  const created = await request.post('/portal/api/keys', { data: { name: unique('Docs'), device_ids: [1, 2] } });
  expect(created.status()).toBe(201);
  const secret: string = (await created.json()).secret;

  const outside: string[] = [];
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) outside.push(r.url()); });
  await page.goto('/api/docs');                                  // redirects to /api/docs/
  await expect(page.locator('.info .title')).toContainText('PartLogic Stock API');
  await page.locator('.auth-wrapper button.authorize').click();
  await page.locator('.modal-ux input[type=text]').first().fill(secret);
  await page.locator('.modal-ux button.authorize').first().click();
  await page.locator('.modal-ux button.btn-done').first().click();
  const op = page.locator('#operations-stock-list_devices');
  await op.locator('.opblock-summary').click();
  await op.locator('.try-out__btn').click();
  await op.locator('button.execute').click();
  await expect(op.locator('.live-responses-table tr.response .response-col_status').first()).toContainText('200');
  await expect(op.locator('.live-responses-table')).toContainText('NP Tool Crib');
  await shot(page, info, 'api-docs');
  // The portal's own API is the other document, one switch away.
  await page.locator('.topbar select').selectOption({ label: 'Portal API (session cookie)' });
  await expect(page.locator('.info .title')).toContainText('PartLogic Portal API');
  await expect(page.locator('#operations-keys-create_key')).toBeVisible();
  await expect(page.locator('#operations-stock-list_devices')).toHaveCount(0);
  expect(outside).toEqual([]);
});
