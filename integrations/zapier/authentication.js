// The PartLogic API key, sent as X-API-Key on every request (never in the URL). The test
// request is GET /api/key, which any key may call; the connection is labelled with the key's
// name.
'use strict';

const { api } = require('./lib');

const test = async (z, bundle) => {
  const response = await z.request({ url: api(bundle, '/api/key') });
  return response.data;
};

module.exports = {
  type: 'custom',
  fields: [
    {
      key: 'baseUrl',
      label: 'PartLogic address',
      required: true,
      type: 'string',
      helpText: 'The address you open PartLogic at, for example `https://stock.example.com`.',
    },
    {
      key: 'apiKey',
      label: 'API key',
      required: true,
      type: 'password',
      helpText:
        'A PartLogic API key (Integrations → New API Key). For instant triggers give it the **Webhooks** permission; for Create Order, Orders "read and create, cancel, receive".',
    },
  ],
  test,
  connectionLabel: '{{json.name}}',
};
