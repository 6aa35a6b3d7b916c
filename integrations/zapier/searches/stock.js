// Find Stock: the stock rows of an SKU, on one device or on every device the key reaches.
'use strict';

const { api } = require('../lib');

module.exports = {
  key: 'find_stock',
  noun: 'Stock',
  display: {
    label: 'Find Stock',
    description: 'Finds an item\'s stock by SKU, on one device or every device your key reaches.',
  },
  operation: {
    inputFields: [
      { key: 'sku', label: 'SKU', required: true, helpText: 'The exact SKU.' },
      { key: 'device', label: 'Device ID', type: 'integer', required: false },
    ],
    perform: async (z, bundle) => {
      const params = { sku: bundle.inputData.sku };
      if (bundle.inputData.device) params.device = bundle.inputData.device;
      const response = await z.request({ url: api(bundle, '/api/stock'), params });
      return response.data;
    },
    sample: {
      id: 1,
      DeviceName: 'NP Main Stores',
      SKU: 'BRG-6204',
      Description: 'Deep groove ball bearing 6204-2RS',
      MinQty: 10,
      MaxQty: 40,
      Physical: 25,
    },
  },
};
