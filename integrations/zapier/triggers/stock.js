// New Low-Stock Alert and Stock Restocked: instant (REST hooks on /api/webhooks), listed from
// /api/stock/alerts for samples and for the zap editor.
'use strict';

const { api, restHook } = require('../lib');

const alertSample = {
  id: 7,
  StockId: 1,
  DeviceId: 1,
  DeviceName: 'NP Main Stores',
  Customer: 'North Plant',
  SKU: 'BRG-6204',
  Description: 'Deep groove ball bearing 6204-2RS',
  MinQty: 10,
  MaxQty: 40,
  Physical: 8,
  PreviousPhysical: 12,
  Kind: 'below_min',
  At: '2026-01-01T12:00:00.000Z',
};

const alertFields = [
  { key: 'id', label: 'Alert ID', type: 'integer' },
  { key: 'DeviceName', label: 'Device' },
  { key: 'Customer', label: 'Customer' },
  { key: 'SKU', label: 'SKU' },
  { key: 'Description', label: 'Description' },
  { key: 'Physical', label: 'Quantity now', type: 'integer' },
  { key: 'MinQty', label: 'Minimum', type: 'integer' },
  { key: 'MaxQty', label: 'Maximum', type: 'integer' },
  { key: 'At', label: 'When', type: 'datetime' },
];

const alerts = (kind) => async (z, bundle) => {
  const response = await z.request({
    url: api(bundle, '/api/stock/alerts'),
    params: { kind, limit: 50 },
  });
  return response.data;
};

const trigger = (key, noun, label, description, event, kind, sample) => ({
  key,
  noun,
  display: { label, description },
  operation: {
    ...restHook(event, label, alerts(kind), sample),
    outputFields: alertFields,
  },
});

module.exports = {
  lowStock: trigger(
    'new_low_stock_alert',
    'Alert',
    'New Low-Stock Alert',
    'Triggers the moment a stock item falls below its minimum on a device your key reaches.',
    'stock.below_min',
    'below_min',
    alertSample,
  ),
  restocked: trigger(
    'stock_restocked',
    'Alert',
    'Stock Restocked',
    'Triggers when a stock item is back at its minimum or above.',
    'stock.restocked',
    'restocked',
    { ...alertSample, Kind: 'restocked', Physical: 30, PreviousPhysical: 8 },
  ),
};
