// Webhooks end to end in Chromium: a key's Webhooks section (add an endpoint, its secret shown
// once, Send test event arriving signed at a local receiver, the delivery row, Replay with the
// same webhook-id, Pause and Enable, Rotate secret, Delete), and the two Help guides followed
// step by step: "Low-stock alerts in Slack" and "Instant Zapier triggers". The receivers are
// real HTTP servers on loopback standing in for Slack's incoming webhook and Zapier's Catch
// Hook (which cannot be reached from here); the stock change that fires the alert goes through
// the server's own CSV import on the e2e database. The server runs with
// PARTLOGIC_WEBHOOK_ALLOW_PRIVATE=true (start-server.sh), or it would refuse loopback URLs.
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { failOnPageErrors, login, unique } from './shared';

failOnPageErrors();

type Hit = { path: string; headers: Record<string, string>; body: string };

/** A local HTTP receiver that answers 200 and keeps what it got. */
async function receiver(): Promise<{ url: (p: string) => string; hits: Hit[]; close: () => Promise<void> }> {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = String(v);
      hits.push({ path: req.url ?? '', headers, body });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: (p) => `http://127.0.0.1:${port}${p}`,
    hits,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Waits until `hits` has at least `n` requests to `path`; returns them. */
async function arrived(hits: Hit[], path: string, n: number): Promise<Hit[]> {
  await expect.poll(() => hits.filter((h) => h.path === path).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(n);
  return hits.filter((h) => h.path === path);
}

/** Checks a delivery's Standard Webhooks signature with `secret` (whsec_ + base64). */
function signedWith(secret: string, hit: Hit): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const content = `${hit.headers['webhook-id']}.${hit.headers['webhook-timestamp']}.${hit.body}`;
  const expected = createHmac('sha256', key).update(content).digest('base64');
  return hit.headers['webhook-signature'].split(' ').includes(`v1,${expected}`);
}

/** A key on `device` with the Webhooks permission, made in the New API Key form; its id. */
async function webhooksKey(page: Page, name: string, device: string): Promise<{ id: number; secret: string }> {
  await page.goto('/integrations/new');
  await page.getByLabel('Key name').fill(name);
  await page.getByLabel('Filter devices').fill(device);
  await page.getByRole('button', { name: 'Select All' }).click();
  await page.getByRole('checkbox', { name: /add and change endpoints/ }).check();
  await page.getByRole('button', { name: 'Generate' }).click();
  const secret = await page.getByLabel('Your new API key').inputValue();
  await page.getByRole('button', { name: 'Return' }).click();
  await page.getByRole('link', { name, exact: true }).click();
  await expect(page.getByRole('heading', { name: 'API key' })).toBeVisible();
  const id = Number(page.url().split('/').pop());
  return { id, secret };
}

/** Sets one stock row's physical quantity through the server's CSV import on the e2e database. */
function setPhysical(device: string, sku: string, description: string, physical: number) {
  const dir = readdirSync(tmpdir()).find((d) => d.startsWith('partlogic-e2e-'));
  expect(dir).toBeTruthy();
  const csv = join(tmpdir(), dir!, `change-${Date.now()}.csv`);
  const quoted = `"${description.replaceAll('"', '""')}"`;
  writeFileSync(csv, `Item Code,Description*,Quantity In Stock,Storeroom\n${sku},${quoted},${physical},${device}\n`);
  const run = spawnSync(join('..', 'target', 'debug', 'partlogic'), ['import', csv, '--account', 'Acme Manufacturing'], {
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: `sqlite://${join(tmpdir(), dir!, 'e2e.db')}?mode=rwc`, RUST_LOG: 'warn' },
  });
  expect(run.status, run.stderr).toBe(0);
}

/** A row of `device` at or above its minimum (above 0), read with `key`. */
async function rowAboveMin(request: APIRequestContext, key: string) {
  const rows = await (await request.get('/api/stock?limit=1000', { headers: { 'X-API-Key': key } })).json();
  const row = rows.find((r: { MinQty: number; Physical: number }) => r.MinQty > 0 && r.Physical >= r.MinQty);
  expect(row, 'a row at or above its minimum').toBeTruthy();
  return row as { SKU: string; Description: string; MinQty: number; Physical: number; DeviceName: string };
}

/** Adds an endpoint in the key's Webhooks section; returns the secret shown once. */
async function addEndpoint(page: Page, url: string, format: 'Standard' | 'Slack', events: { untick?: RegExp[] } = {}) {
  const section = page.getByRole('region', { name: 'Webhooks' });
  await section.getByRole('button', { name: 'Add endpoint' }).click();
  await section.getByLabel('Endpoint URL').fill(url);
  // Low stock and restocks are ticked to start with.
  await expect(section.getByRole('checkbox', { name: /Stock fell below its minimum/ })).toBeChecked();
  for (const label of events.untick ?? []) await section.getByRole('checkbox', { name: label }).uncheck();
  await section.getByRole('radio', { name: new RegExp(`^${format}:`) }).check();
  await section.getByRole('form', { name: 'Add endpoint' }).getByRole('button', { name: 'Add endpoint' }).click();
  await expect(section.getByRole('status').filter({ hasText: `Endpoint added: ${url}` })).toBeVisible();
  const secret = await section.getByRole('textbox', { name: 'Signing secret' }).inputValue();
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
  await section.getByRole('button', { name: 'Copy' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await section.getByRole('button', { name: 'Done' }).click();
  await expect(section.getByRole('textbox', { name: 'Signing secret' })).toHaveCount(0);
  return secret;
}

test('the Webhooks section: add, secret once, test event, deliveries, replay, pause, rotate, delete', async ({ page, request }, info) => {
  const rx = await receiver();
  try {
    await login(page, 'admin@acme.example');
    const name = unique('Hooks');
    await webhooksKey(page, name, 'NP Main Stores');
    const section = page.getByRole('region', { name: 'Webhooks' });
    await expect(section.getByText('No endpoints yet.')).toBeVisible();

    // A URL PartLogic may not call is refused, naming the field.
    await section.getByRole('button', { name: 'Add endpoint' }).click();
    await section.getByLabel('Endpoint URL').fill('ftp://example.com/hook');
    await section.getByRole('form', { name: 'Add endpoint' }).getByRole('button', { name: 'Add endpoint' }).click();
    await expect(section.locator('.field-error').first()).toContainText(/https/);
    await section.getByRole('button', { name: 'Cancel' }).click();

    const url = rx.url('/catch');
    const secret = await addEndpoint(page, url, 'Standard');
    const card = section.getByRole('listitem').filter({ hasText: url });
    await expect(card.locator('.badge')).toHaveText('Active');
    await expect(card).toContainText('Stock fell below its minimum; Stock is back at its minimum or above');
    // Shown once: after a reload the page holds no secret.
    await page.reload();
    await expect(card).toBeVisible();
    expect(await page.content()).not.toContain(secret);

    // Send test event: it arrives signed with that secret, and shows as delivered.
    await card.getByRole('button', { name: 'Send test event' }).click();
    await expect(card.getByRole('status').filter({ hasText: /Test event msg_\S+ queued/ })).toBeVisible();
    const [test1] = await arrived(rx.hits, '/catch', 1);
    expect(JSON.parse(test1.body).type).toBe('webhook.test');
    expect(test1.headers['content-type']).toBe('application/json');
    expect(signedWith(secret, test1)).toBe(true);
    const row = card.getByRole('row').filter({ hasText: 'Test event' });
    await expect(row).toContainText('Delivered');
    await expect(row.getByRole('cell').nth(3)).toHaveText('200');
    await expect(row.getByRole('cell').nth(4)).toHaveText(/^\d+ ms$/);
    await info.attach('webhooks', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });

    // Replay: the same message again, the same webhook-id.
    await row.getByRole('button', { name: `Replay ${test1.headers['webhook-id']}` }).click();
    const replayed = await arrived(rx.hits, '/catch', 2);
    expect(replayed[1].headers['webhook-id']).toBe(test1.headers['webhook-id']);
    expect(replayed[1].body).toBe(test1.body);

    // Pause: the badge and the banner say so; Enable brings it back.
    await card.getByRole('button', { name: 'Pause' }).click();
    await expect(card.locator('.badge')).toHaveText('Disabled');
    await expect(card.getByRole('note')).toContainText('paused by its key');
    await card.getByRole('button', { name: 'Enable' }).click();
    await expect(card.locator('.badge')).toHaveText('Active');

    // Rotate: a new secret, once (above the list, where it survives the list's reload); the
    // next delivery carries both signatures.
    await card.getByRole('button', { name: 'Rotate secret' }).click();
    await card.getByRole('button', { name: 'Make a new secret' }).click();
    await expect(section.getByRole('status').filter({ hasText: `New signing secret for ${url}` })).toBeVisible();
    const rotated = await section.getByRole('textbox', { name: 'Signing secret' }).inputValue();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await expect(card).toContainText('Previous secret');
    // Saving something else on the key page keeps it on screen until Done.
    await page.getByLabel('Key name').fill(`${name} renamed`);
    await page.getByRole('button', { name: 'Save name' }).click();
    await expect(page.getByText('Name saved.')).toBeVisible();
    await expect(section.getByRole('textbox', { name: 'Signing secret' })).toHaveValue(rotated);
    await section.getByRole('button', { name: 'Done' }).click();
    await expect(section.getByRole('textbox', { name: 'Signing secret' })).toHaveCount(0);
    await card.getByRole('button', { name: 'Send test event' }).click();
    const after = await arrived(rx.hits, '/catch', 3);
    expect(signedWith(rotated, after[2])).toBe(true);
    expect(signedWith(secret, after[2])).toBe(true);

    // Delete, behind a confirmation.
    await card.getByRole('button', { name: 'Delete' }).click();
    await card.getByRole('button', { name: 'Delete endpoint' }).click();
    await expect(section.getByText('No endpoints yet.')).toBeVisible();
  } finally {
    await rx.close();
  }
});

test('a key without the Webhooks permission says how to get it', async ({ page }) => {
  await login(page, 'admin@acme.example');
  const name = unique('No hooks');
  await page.goto('/integrations/new');
  await page.getByLabel('Key name').fill(name);
  await page.getByLabel('Filter devices').fill('NP Main Stores');
  await page.getByRole('button', { name: 'Select All' }).click();
  await page.getByRole('button', { name: 'Generate' }).click();
  await page.getByRole('button', { name: 'Return' }).click();
  await page.getByRole('link', { name, exact: true }).click();
  const section = page.getByRole('region', { name: 'Webhooks' });
  await expect(section.getByRole('note')).toContainText('tick Webhooks under Permissions');
  await expect(section.getByRole('button', { name: 'Add endpoint' })).toHaveCount(0);
  // Ticking it and saving shows the button.
  await page.getByRole('checkbox', { name: /add and change endpoints/ }).check();
  await page.getByRole('button', { name: 'Save permissions' }).click();
  await expect(page.getByText('Permissions saved.')).toBeVisible();
  await expect(section.getByRole('button', { name: 'Add endpoint' })).toBeVisible();
});

test('Help, "Low-stock alerts in Slack", followed step by step', async ({ page, request }, info) => {
  const slack = await receiver();
  try {
    await login(page, 'admin@acme.example');
    const { secret: key } = await webhooksKey(page, unique('Slack alerts'), 'NP Main Stores');
    // The key page links to the guide; the guide's steps name what the page has.
    await page.getByRole('link', { name: 'Low-stock alerts in Slack' }).click();
    await expect(page.getByRole('heading', { name: 'Low-stock alerts in Slack' })).toBeVisible();
    for (const step of ['Add endpoint', 'Endpoint URL', 'Format: Slack', 'Send test event', 'Save permissions']) {
      await expect(page.locator('main, .page').first()).toContainText(step);
    }
    await info.attach('help-slack', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
    await page.goBack();

    // Slack's incoming-webhook URL (a local stand-in), format Slack, low stock only.
    const hook = '/services/T0000/B0000/XXXXXXXX';
    await addEndpoint(page, slack.url(hook), 'Slack', { untick: [/Stock is back at its minimum/] });
    const card = page.getByRole('listitem').filter({ hasText: hook });
    await card.getByRole('button', { name: 'Send test event' }).click();
    const [first] = await arrived(slack.hits, hook, 1);
    expect(JSON.parse(first.body).text).toContain('A test event from PartLogic');

    // A row falls below its minimum: one message, naming the device, the SKU and the numbers.
    const row = await rowAboveMin(request, key);
    setPhysical(row.DeviceName, row.SKU, row.Description, 0);
    const hits = await arrived(slack.hits, hook, 2);
    const text: string = JSON.parse(hits[1].body).text;
    expect(text).toContain(`*${row.DeviceName}*`);
    expect(text).toContain(row.SKU);
    expect(text).toContain(`below its minimum of ${row.MinQty}`);
    // Restocking it sends nothing here (unticked).
    setPhysical(row.DeviceName, row.SKU, row.Description, row.Physical);
    await page.waitForTimeout(1500);
    expect(slack.hits.filter((h) => h.path === hook)).toHaveLength(2);
    await expect(card.getByRole('row').filter({ hasText: 'Stock fell below its minimum' })).toContainText('Delivered');
  } finally {
    await slack.close();
  }
});

test('Help, "Instant Zapier triggers", followed step by step', async ({ page, request }) => {
  const zapier = await receiver();
  try {
    await login(page, 'admin@acme.example');
    const { secret: key } = await webhooksKey(page, unique('Zap'), 'NP Main Stores');
    await page.getByRole('link', { name: 'Instant Zapier triggers' }).click();
    await expect(page.getByRole('heading', { name: 'Instant Zapier triggers' })).toBeVisible();
    for (const step of ['Catch Hook', 'Add endpoint', 'Format: Standard', 'Send test event', '410 Gone']) {
      await expect(page.locator('main, .page').first()).toContainText(step);
    }
    await page.goBack();

    // The Catch Hook URL (a local stand-in), format Standard, both stock events.
    const hook = '/hooks/catch/123456/abcdef/';
    await addEndpoint(page, zapier.url(hook), 'Standard');
    const card = page.getByRole('listitem').filter({ hasText: hook });
    await card.getByRole('button', { name: 'Send test event' }).click();
    const [first] = await arrived(zapier.hits, hook, 1);
    expect(JSON.parse(first.body).type).toBe('webhook.test');

    // The fields the guide names arrive under data.
    const row = await rowAboveMin(request, key);
    // (Deliveries are not ordered among themselves: the second change waits for the first.)
    setPhysical(row.DeviceName, row.SKU, row.Description, 0);
    await arrived(zapier.hits, hook, 2);
    setPhysical(row.DeviceName, row.SKU, row.Description, row.Physical);
    const hits = await arrived(zapier.hits, hook, 3);
    const [low, back] = [JSON.parse(hits[1].body), JSON.parse(hits[2].body)];
    expect(low.type).toBe('stock.below_min');
    expect(back.type).toBe('stock.restocked');
    for (const field of ['DeviceName', 'Customer', 'SKU', 'Description', 'Physical', 'MinQty', 'MaxQty', 'Kind']) {
      expect(low.data, field).toHaveProperty(field);
    }
    expect(low.data.SKU).toBe(row.SKU);
    expect(low.data.Physical).toBe(0);
    expect(back.data.Physical).toBe(row.Physical);
  } finally {
    await zapier.close();
  }
});
