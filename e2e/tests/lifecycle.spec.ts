// Key lifecycle in a real browser against the real server: roll with an overlap (and "Create a
// key like this one"), the usage chart and its table, the banners for leaked keys and keys
// expiring this week, and live reach. Leak reports are signed as GitHub signs them, with a test
// key pair whose public half the server was given (fixtures/; GitHub itself cannot be reached
// from here, so this signer stands in for it).
import { spawnSync } from 'node:child_process';
import { createSign } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { failOnPageErrors, login, unique } from './shared';

failOnPageErrors();

/** Creates a key in the UI; returns the secret and leaves the browser on Integrations. */
async function createKey(page: Page, name: string, filter: string, expiresOn?: string): Promise<string> {
  await page.goto('/integrations/new');
  await page.getByLabel('Key name').fill(name);
  if (expiresOn) await page.getByLabel('Expires On').fill(expiresOn);
  await page.getByLabel('Filter devices').fill(filter);
  await page.getByRole('button', { name: 'Select All' }).click();
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByText(`Your API key “${name}” was created.`)).toBeVisible();
  const secret = await page.getByLabel('Your new API key').inputValue();
  await page.getByRole('button', { name: 'Return' }).click();
  await expect(page.getByRole('heading', { name: 'Integrations' })).toBeVisible();
  return secret;
}

async function openKey(page: Page, name: string) {
  await page.goto('/integrations');
  await page.getByRole('link', { name, exact: true }).click();
  await expect(page.getByRole('heading', { name: 'API key' })).toBeVisible();
}

async function status(request: APIRequestContext, path: string, key: string): Promise<number> {
  return (await request.get(path, { headers: { 'X-API-Key': key } })).status();
}

/** The e2e server's CLI, on its database (start-server.sh keeps exactly one). */
function cli(...args: string[]) {
  const dir = readdirSync(tmpdir()).find((d) => d.startsWith('partlogic-e2e-'));
  expect(dir).toBeTruthy();
  const run = spawnSync(join('..', 'target', 'debug', 'partlogic'), args, {
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: `sqlite://${join(tmpdir(), dir!, 'e2e.db')}?mode=rwc` },
  });
  expect(run.status, run.stderr).toBe(0);
}

function isoDay(offsetDays: number): string {
  const d = new Date(Date.now() + offsetDays * 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

test('roll a key with a one-hour overlap: both secrets work, the page shows both; then a key like it', async ({ page, request }) => {
  await login(page, 'admin@acme.example');
  const name = unique('Rolled');
  const old = await createKey(page, name, 'SP Welding Bay');
  await openKey(page, name);
  await page.getByRole('button', { name: 'Roll key' }).click();
  const dialog = page.getByRole('dialog', { name: `Roll “${name}”?` });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('1 hour').check();
  await dialog.getByRole('button', { name: 'Roll key' }).click();
  await expect(page.getByText('The key was rolled.')).toBeVisible();
  const secret = await page.getByLabel('Your new API key').inputValue();
  expect(secret).toMatch(/^pl_[0-9A-Za-z]{49}$/);
  expect(secret).not.toBe(old);
  // Both work during the overlap; the key shows the old prefix and when it stops.
  expect(await status(request, '/api/key', secret)).toBe(200);
  expect(await status(request, '/api/key', old)).toBe(200);
  await expect(page.locator('dt', { hasText: 'Previous key' })).toBeVisible();
  await expect(page.locator('dd', { hasText: `${old.slice(0, 7)}…` })).toContainText('works until');
  await expect(page.locator('dd').filter({ hasText: `${secret.slice(0, 7)}…` })).toBeVisible();
  await expect(page.getByRole('table', { name: 'Key history' })).toContainText('Rolled');
  await page.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByLabel('Your new API key')).toHaveCount(0);

  // "Create a key like this one": the form starts as a copy.
  await page.getByRole('link', { name: 'Create a key like this one' }).click();
  await expect(page.getByText(`Filled in from the key “${name}”`)).toBeVisible();
  await expect(page.getByLabel('Key name')).toHaveValue(name);
  await expect(page.getByText('1 of 28 devices selected')).toBeVisible();
  await page.getByLabel('Key name').fill(`${name} copy`);
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByText(`Your API key “${name} copy” was created.`)).toBeVisible();
});

test('the usage chart: requests by hour and by day, with the numbers as a table', async ({ page, request }) => {
  await login(page, 'admin@acme.example');
  const name = unique('Charted');
  const key = await createKey(page, name, 'SP Welding Bay');
  for (let i = 0; i < 3; i++) expect(await status(request, '/api/stock?limit=5', key)).toBe(200);
  expect(await status(request, '/api/stock?device=999999', key)).toBe(403);
  await openKey(page, name);
  const usage = page.getByRole('region', { name: 'Usage' });
  await expect(usage.getByText(/^Requests over the last 24 hours: 3 answered, 1 refused/)).toBeVisible();
  await expect(usage.getByRole('img', { name: /3 answered, 1 refused/ })).toBeVisible();
  await expect(usage.locator('rect.bar-ok[height]:not([height="0.0"])')).toHaveCount(1);
  await usage.getByText('Show the numbers').click();
  const table = usage.getByRole('table', { name: 'Usage over the last 24 hours' });
  await expect(table.locator('tbody tr')).toHaveCount(1);
  await expect(table.locator('tbody tr td').nth(1)).toHaveText('3');
  await expect(table.locator('tbody tr td').nth(2)).toContainText('device_not_in_scope: 1');
  await usage.getByRole('button', { name: '30 days' }).click();
  await expect(usage.getByRole('button', { name: '30 days' })).toHaveAttribute('aria-pressed', 'true');
  await expect(usage.getByRole('table', { name: 'Usage over the last 30 days' }).locator('tbody tr')).toHaveCount(1);
  // The refusal reaches the history when the counters are written (every 10 seconds).
  await expect(async () => {
    await page.reload();
    await expect(page.getByRole('table', { name: 'Key history' })).toContainText('asked for a device it does not reach', { timeout: 1000 });
  }).toPass({ timeout: 25_000 });
  // The list counts the week's requests.
  await page.goto('/integrations');
  await expect(page.locator('tr', { hasText: name }).locator('td[data-label="Requests (7 days)"]')).toHaveText('4');
});

test('banners: a key expiring this week, and a key reported leaked (retired at once)', async ({ page, request }) => {
  await login(page, 'admin@acme.example');
  const soon = unique('Soon');
  await createKey(page, soon, 'SP Welding Bay', isoDay(2));
  const expiring = page.locator('.banner.expiring');
  await expect(expiring).toContainText(/\d+ keys? expires? this week/);
  await expect(expiring.getByRole('link', { name: soon })).toBeVisible();

  const leaked = unique('Leaked');
  const key = await createKey(page, leaked, 'SP Welding Bay');
  const body = JSON.stringify([{ token: key, type: 'partlogic_api_key', url: 'https://github.com/acme/tools/blob/main/.env', source: 'content' }]);
  const signer = createSign('SHA256');
  signer.update(body);
  const signature = signer.sign(readFileSync(join('fixtures', 'secret-scanning-test-signer.pem'), 'utf8')).toString('base64');
  const res = await request.post('/api/secret-scanning', {
    data: body,
    headers: {
      'Content-Type': 'application/json',
      'GITHUB-PUBLIC-KEY-IDENTIFIER': 'partlogic-e2e-test-key',
      'GITHUB-PUBLIC-KEY-SIGNATURE': signature,
    },
  });
  expect(res.status()).toBe(200);
  expect((await res.json())[0].label).toBe('true_positive');
  expect(await status(request, '/api/key', key)).toBe(401);

  await page.goto('/integrations');
  const banner = page.locator('.banner.leaked');
  await expect(banner).toContainText('found in public and stopped');
  await expect(banner.locator('li', { hasText: leaked })).toContainText('(retired)');
  await expect(banner).toContainText('https://github.com/acme/tools/blob/main/.env');
  await banner.getByRole('link', { name: leaked }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'This key was found in public; it is retired.' })).toBeVisible();
  await expect(page.getByRole('table', { name: 'Key history' })).toContainText('reported leaked at https://github.com/acme/tools/blob/main/.env');
});

test('live reach: a ticked device the owner can no longer see is named as not reachable', async ({ page, request }) => {
  await login(page, 'member2@acme.example');
  const name = unique('Reach');
  const key = await createKey(page, name, 'SP');
  await openKey(page, name);
  await expect(page.locator('dd.reach')).toHaveText('2 devices (all ticked)');
  cli('user', 'revoke', 'member2@acme.example', '--device', 'SP Tool Crib');
  try {
    await page.reload();
    await expect(page.locator('dd.reach')).toHaveText('1 of 2 ticked devices');
    await expect(page.locator('.unreachable')).toContainText('SP Tool Crib (South Plant) — not reachable (owner lost access)');
    await expect.poll(async () => {
      const v = await (await request.get('/api/key', { headers: { 'X-API-Key': key } })).json();
      return v.devices.map((d: { Name: string }) => d.Name);
    }).toEqual(['SP Main Stores']);
  } finally {
    cli('user', 'grant', 'member2@acme.example', '--device', 'SP Tool Crib');
  }
});
