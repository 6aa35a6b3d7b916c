// Orders end to end in Chromium: a key with Orders "read and create, cancel, receive" made in the
// portal, an order created with it the way a script does (plain HTTP with an Idempotency-Key),
// the order on the Orders page, received there, and the stock it added read back through the API.
import { expect, test, type Page } from '@playwright/test';
import { failOnPageErrors, login, unique } from './shared';

failOnPageErrors();

async function createOrdersKey(page: Page, name: string, filter: string): Promise<string> {
  await page.goto('/integrations/new');
  await page.getByLabel('Key name').fill(name);
  await page.getByLabel('Filter devices').fill(filter);
  await page.getByRole('button', { name: 'Select All' }).click();
  // Orders default to no access.
  await expect(page.getByRole('radio', { name: 'no access' })).toBeChecked();
  await page.getByRole('radio', { name: 'read and create, cancel, receive' }).check();
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByText(`Your API key “${name}” was created.`)).toBeVisible();
  const secret = await page.getByLabel('Your new API key').inputValue();
  await page.getByRole('button', { name: 'Return' }).click();
  return secret;
}

test('an integration creates an order, a person receives it, stock goes up', async ({ page, request }, info) => {
  await login(page, 'admin@acme.example');
  const name = unique('Orders');
  const key = await createOrdersKey(page, name, 'NP Main Stores');
  const headers = { 'X-API-Key': key };

  const me = await (await request.get('/api/key', { headers })).json();
  expect(me.permissions).toEqual({ stock: 'read', orders: 'write', webhooks: false });
  const device = me.devices[0].id as number;
  const rows = await (await request.get(`/api/stock?device=${device}&limit=1`, { headers })).json();
  const sku = rows[0].SKU as string;
  const before = rows[0].Physical as number;

  // Created as a script would, and retried: one order.
  const reference = unique('sheet-row');
  const body = { device_id: device, lines: [{ sku, quantity: 7 }], reference };
  const first = await request.post('/api/orders', { headers: { ...headers, 'Idempotency-Key': reference }, data: body });
  expect(first.status()).toBe(201);
  const order = await first.json();
  const again = await request.post('/api/orders', { headers: { ...headers, 'Idempotency-Key': reference }, data: body });
  expect(again.status()).toBe(201);
  expect(again.headers()['idempotent-replayed']).toBe('true');
  expect((await again.json()).id).toBe(order.id);

  // On the Orders page, filtered to open orders of that device.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Orders' }).click();
  await expect(page.getByRole('heading', { name: 'Orders' })).toBeVisible();
  await page.getByLabel('Status').selectOption('open');
  await page.getByLabel('Device or customer').selectOption(`device=${device}`);
  const row = page.getByRole('row').filter({ hasText: order.number });
  await expect(row).toContainText(`API key “${name}”`);
  await expect(row).toContainText('Open');
  await info.attach('orders', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
  await row.getByRole('link', { name: order.number }).click();
  await expect(page.getByRole('heading', { name: `Order ${order.number}` })).toBeVisible();

  // Receive part of it (the field starts at what is outstanding), then the rest.
  const amount = page.getByLabel(`Receive now: ${sku}`);
  await expect(amount).toHaveValue('7');
  await amount.fill('3');
  await page.getByRole('button', { name: 'Receive' }).click();
  await expect(page.getByRole('row').filter({ hasText: sku })).toContainText('3');
  await expect(page.getByLabel(`Receive now: ${sku}`)).toHaveValue('4');
  // Once something arrived, it can no longer be cancelled.
  await expect(page.getByRole('button', { name: 'Cancel order' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Receive' }).click();
  await expect(page.locator('.page-head')).toContainText('Received');
  await expect(page.locator('ol.history')).toContainText(`Received by Alex Admin`);
  await info.attach('order', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });

  const after = await (await request.get(`/api/stock?device=${device}&sku=${encodeURIComponent(sku)}`, { headers })).json();
  expect(after[0].Physical).toBe(before + 7);
  const viaApi = await (await request.get(`/api/orders/${order.id}`, { headers })).json();
  expect(viaApi.status).toBe('received');
});

test('cancel an order behind a confirmation', async ({ page, request }) => {
  await login(page, 'admin@acme.example');
  const key = await createOrdersKey(page, unique('Cancel'), 'NP Tool Crib');
  const headers = { 'X-API-Key': key };
  const me = await (await request.get('/api/key', { headers })).json();
  const device = me.devices[0].id as number;
  const rows = await (await request.get(`/api/stock?device=${device}&limit=1`, { headers })).json();
  const res = await request.post('/api/orders', { headers, data: { device_id: device, lines: [{ sku: rows[0].SKU, quantity: 2 }] } });
  const order = await res.json();
  await page.goto(`/orders/${order.id}`);
  await page.getByRole('button', { name: 'Cancel order' }).click();
  await page.getByRole('button', { name: 'Keep it' }).click();
  await expect(page.locator('.page-head')).toContainText('Open');
  await page.getByRole('button', { name: 'Cancel order' }).click();
  await page.getByRole('button', { name: 'Yes, cancel the order' }).click();
  await expect(page.locator('.page-head')).toContainText('Cancelled');
  expect((await (await request.get(`/api/orders/${order.id}`, { headers })).json()).status).toBe('cancelled');
});
