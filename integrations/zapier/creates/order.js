// Create Order: one order with its lines. The Idempotency-Key is a digest of what is asked
// for (and the zap, when Zapier says which), so a Zapier retry of the same step answers the
// first order again instead of making a second one.
'use strict';

const crypto = require('crypto');
const { api } = require('../lib');

/** The key a retry of this step repeats: given, or a digest of the step's input. */
const idempotencyKey = (bundle) => {
  if (bundle.inputData.idempotency_key) return String(bundle.inputData.idempotency_key);
  const zap = (bundle.meta && bundle.meta.zap && bundle.meta.zap.id) || '';
  const { device_id, lines, reference, note } = bundle.inputData;
  const digest = crypto
    .createHash('sha256')
    .update(JSON.stringify({ zap, device_id, lines, reference, note }))
    .digest('hex');
  return `zapier-${digest}`;
};

module.exports = {
  key: 'create_order',
  noun: 'Order',
  display: {
    label: 'Create Order',
    description: 'Creates a replenishment order for one device (needs Orders "read and create, cancel, receive").',
  },
  operation: {
    inputFields: [
      { key: 'device_id', label: 'Device ID', type: 'integer', required: true },
      {
        key: 'lines',
        label: 'Lines',
        required: true,
        children: [
          { key: 'sku', label: 'SKU', required: true },
          { key: 'quantity', label: 'Quantity', type: 'integer', required: true },
        ],
      },
      { key: 'reference', label: 'Reference', required: false, helpText: 'Your own id, e.g. the spreadsheet row.' },
      { key: 'note', label: 'Note', type: 'text', required: false },
      {
        key: 'idempotency_key',
        label: 'Idempotency key',
        required: false,
        helpText: 'Leave empty: the same input never makes a second order within 24 hours.',
      },
    ],
    perform: async (z, bundle) => {
      const lines = (bundle.inputData.lines || []).map((l) => ({
        sku: String(l.sku),
        quantity: Number(l.quantity),
      }));
      const body = { device_id: Number(bundle.inputData.device_id), lines };
      if (bundle.inputData.reference) body.reference = String(bundle.inputData.reference);
      if (bundle.inputData.note) body.note = String(bundle.inputData.note);
      const response = await z.request({
        url: api(bundle, '/api/orders'),
        method: 'POST',
        headers: { 'Idempotency-Key': idempotencyKey(bundle) },
        body,
      });
      return response.data;
    },
    sample: {
      id: 1,
      number: 'PO-000001',
      status: 'open',
      device: { id: 1, name: 'NP Main Stores', customer: 'North Plant' },
      reference: 'sheet-row-12',
    },
  },
};
