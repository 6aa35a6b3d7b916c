// The PartLogic Zapier integration (Zapier Platform CLI layout). See README.md.
'use strict';

const authentication = require('./authentication');
const { addApiKey, readableErrors } = require('./lib');
const stock = require('./triggers/stock');
const orders = require('./triggers/orders');
const findStock = require('./searches/stock');
const createOrder = require('./creates/order');

module.exports = {
  version: require('./package.json').version,
  platformVersion: require('zapier-platform-core').version,
  authentication,
  beforeRequest: [addApiKey],
  afterResponse: [readableErrors],
  triggers: {
    [stock.lowStock.key]: stock.lowStock,
    [stock.restocked.key]: stock.restocked,
    [orders.newOrder.key]: orders.newOrder,
    [orders.orderReceived.key]: orders.orderReceived,
  },
  searches: {
    [findStock.key]: findStock,
  },
  creates: {
    [createOrder.key]: createOrder,
  },
};
