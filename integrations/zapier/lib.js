// What every part shares: the base URL, the key header, readable refusals, and REST-hook
// subscriptions on /api/webhooks.
'use strict';

/** The full URL of `path` on the connected PartLogic. */
const api = (bundle, path) => `${String(bundle.authData.baseUrl || '').replace(/\/+$/, '')}${path}`;

/** Sends the key in its header on every request. */
const addApiKey = (request, z, bundle) => {
  if (bundle.authData && bundle.authData.apiKey) {
    request.headers = request.headers || {};
    request.headers['X-API-Key'] = bundle.authData.apiKey;
  }
  return request;
};

/**
 * PartLogic answers every refusal as application/problem+json with a stable `code` and a
 * `detail` meant for a person: show that, not "Got 403".
 */
const readableErrors = (response, z) => {
  if (response.status < 400) {
    return response;
  }
  let problem = {};
  try {
    problem = JSON.parse(response.content);
  } catch (e) {
    problem = {};
  }
  const code = problem.code || `http_${response.status}`;
  const detail = problem.detail || `PartLogic answered ${response.status}`;
  const fields = (problem.errors || []).map((e) => `${e.field}: ${e.message}`).join('; ');
  const message = `${detail}${fields ? ` (${fields})` : ''} [${code}]`;
  if (response.status === 401) {
    throw new z.errors.Error(`PartLogic refused the API key: ${message}`, 'AuthenticationError', 401);
  }
  throw new z.errors.Error(message, code, response.status);
};

/**
 * A REST-hook trigger: subscribing adds a webhook endpoint for `event` on the key (Zapier's
 * hook URL), unsubscribing deletes it. Zapier answers 410 once a zap is off, which makes
 * PartLogic disable the endpoint too.
 */
const restHook = (event, describe, list, sample) => ({
  type: 'hook',
  performSubscribe: async (z, bundle) => {
    const response = await z.request({
      url: api(bundle, '/api/webhooks'),
      method: 'POST',
      body: { url: bundle.targetUrl, events: [event], description: `Zapier: ${describe}` },
    });
    return response.data;
  },
  performUnsubscribe: async (z, bundle) => {
    await z.request({
      url: api(bundle, `/api/webhooks/${bundle.subscribeData.id}`),
      method: 'DELETE',
    });
    return {};
  },
  // The delivery's body is {"type", "timestamp", "data"}: the zap gets `data`.
  perform: async (z, bundle) => {
    const body = bundle.cleanedRequest || {};
    const data = body.data || body;
    return [data];
  },
  performList: list,
  sample,
});

module.exports = { api, addApiKey, readableErrors, restHook };
