// New Order and Order Received: instant (REST hooks on /api/webhooks), listed from /api/orders.
'use strict';

const { api, restHook } = require('../lib');

const orderSample = {
  id: 1,
  number: 'PO-000001',
  status: 'open',
  device: { id: 1, name: 'NP Main Stores', customer: 'North Plant' },
  lines: [
    { sku: 'BRG-6204', description: 'Deep groove ball bearing 6204-2RS', quantity: 10, received: 0, outstanding: 10 },
  ],
  reference: 'sheet-row-12',
  note: null,
  created_by: { kind: 'key', name: 'Zapier', detail: 'pl_3kT9' },
  created_at: '2026-01-01T12:00:00.000Z',
  updated_at: '2026-01-01T12:00:00.000Z',
};

const orderFields = [
  { key: 'id', label: 'Order ID', type: 'integer' },
  { key: 'number', label: 'Order number' },
  { key: 'status', label: 'Status' },
  { key: 'device__name', label: 'Device' },
  { key: 'device__customer', label: 'Customer' },
  { key: 'reference', label: 'Reference' },
  { key: 'created_at', label: 'Created', type: 'datetime' },
];

const orders = (status) => async (z, bundle) => {
  const params = { limit: 50 };
  if (status) params.status = status;
  const response = await z.request({ url: api(bundle, '/api/orders'), params });
  return response.data;
};

module.exports = {
  newOrder: {
    key: 'new_order',
    noun: 'Order',
    display: {
      label: 'New Order',
      description: 'Triggers when an order is created for a device your key reaches (needs Orders read).',
    },
    operation: {
      ...restHook('order.created', 'New Order', orders(null), orderSample),
      outputFields: orderFields,
    },
  },
  orderReceived: {
    key: 'order_received',
    noun: 'Order',
    display: {
      label: 'Order Received',
      description: 'Triggers when goods are received on an order (needs Orders read).',
    },
    operation: {
      ...restHook('order.received', 'Order Received', orders('received'), { ...orderSample, status: 'received' }),
      outputFields: orderFields,
    },
  },
};
