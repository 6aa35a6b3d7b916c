/**
 * PartLogic orders from Google Sheets (Apps Script).
 *
 * 1. In the PartLogic portal, create a key for this spreadsheet with Orders "read and create,
 *    cancel, receive" and the devices it may order for.
 * 2. In your spreadsheet: Extensions → Apps Script. Replace the editor's contents with this
 *    file and save. (A spreadsheet has one script: if this one already runs PartLogic's stock
 *    script, use another spreadsheet for orders.)
 * 3. Reload the spreadsheet. A "PartLogic" menu appears. Choose "Set API key…" and paste your
 *    key (pl_…). Never put the key in a cell or a formula: a sheet's version history keeps
 *    every value it ever held.
 * 4. Sheet "Orders" (made, with its header row, by the first "Send new orders"): one row per
 *    item, with
 *      Device     the device's id, or its exact name as PartLogic lists it (GET /api/devices)
 *      SKU        the item code, stocked at that device
 *      Quantity   a whole number from 1 to 1,000,000
 *      Reference  optional, your own id for the order: rows with the same Device and
 *                 Reference become one order with a line per row; a row without a Reference
 *                 is an order of its own
 *      Order, Status   left empty: the script writes the order's number (PO-000123) and
 *                 status there, or why PartLogic refused the row.
 * 5. "Send new orders" sends every row whose Order is empty; "Send new orders every 10 minutes"
 *    installs a trigger that does it for you (it runs as you), and "Stop sending every 10
 *    minutes" removes it.
 *
 * A row is never ordered twice. Each order is sent with an Idempotency-Key made from what its
 * rows say (this spreadsheet, the device, the Reference, the SKUs and quantities), not from
 * where the rows are: if an answer is lost (a timeout, a run stopped half-way), the next run
 * sends the same request with the same key, and PartLogic answers with the order it already
 * made instead of making another; re-sorting the sheet changes nothing. A refused row keeps an
 * empty Order and is sent again once corrected (as a new request: it says something else now).
 * PartLogic keeps a refusal for 24 hours under its key: if the fix was made in PartLogic
 * instead (the item stocked at the device, the device ticked on the key), change the row's
 * Reference to send it again at once.
 * Two rows saying exactly the same thing without a Reference are one order: give each its own
 * Reference to order the same items twice within a day.
 *
 * Who can see what. The key is kept in YOUR user properties: only scripts running as you can
 * read it; other editors of this spreadsheet cannot. (Script Properties, which every editor can
 * read, are not used: a key found there is refused until you set it with "Set API key…",
 * which deletes it there.)
 * Anyone who can edit sheet "Orders" can add rows that your key orders the next time you (or
 * your trigger) send. Editors can also change this script, and a changed script runs as you the
 * next time your trigger fires: give edit access only to people you would trust with the key,
 * and view or comment access to the rest.
 *
 * Sheet "PartLogic" records the outcome of the last run: when, how many orders, or what the
 * server refused and what to do about it.
 */

var PARTLOGIC_BASE_URL = '{{PARTLOGIC_BASE_URL}}';
var ORDERS_SHEET = 'Orders';
var COLUMNS = ['Device', 'SKU', 'Quantity', 'Reference', 'Order', 'Status'];
// Columns kept as plain text, so that an item code "00123" keeps its zeros and a reference
// "2024-01" does not turn into a date.
var TEXT_COLUMNS = ['SKU', 'Reference', 'Order', 'Status'];
var MAX_QUANTITY = 1000000;
var MAX_LINES = 200;
// A run stops after this many requests without an answer: PartLogic is unreachable for now.
var MAX_FAILURES = 3;

/** Adds the PartLogic menu when the spreadsheet opens. */
function onOpen() {
  SpreadsheetApp.getUi()
    .createMenu('PartLogic')
    .addItem('Set API key…', 'setApiKey')
    .addItem('Send new orders', 'sendNewOrders')
    .addItem('Send new orders every 10 minutes', 'installOrdersTrigger')
    .addItem('Stop sending every 10 minutes', 'removeOrdersTrigger')
    .addToUi();
}

/** Sends every row of sheet "Orders" whose Order is empty; what the trigger runs. One run at a
 * time: a run that finds another one going leaves the rows to it. */
function sendNewOrders() {
  var lock = LockService.getDocumentLock();
  if (!lock.tryLock(30 * 1000)) {
    status_('Orders', 'busy', 'Another run was still sending orders', 'Nothing to do: the rows it did not reach are sent next time.');
    return;
  }
  try {
    run_('Orders', sendRows_);
  } finally {
    lock.releaseLock();
  }
}

/** Installs (once) a trigger running sendNewOrders every 10 minutes. */
function installOrdersTrigger() {
  removeTriggers_();
  ScriptApp.newTrigger('sendNewOrders').timeBased().everyMinutes(10).create();
  status_('Trigger', 'ok', 'sendNewOrders will run every 10 minutes', '');
}

/** Removes that trigger. */
function removeOrdersTrigger() {
  removeTriggers_();
  status_('Trigger', 'ok', 'no trigger: orders are sent only with Send new orders', '');
}

function removeTriggers_() {
  ScriptApp.getProjectTriggers().forEach(function (t) {
    if (t.getHandlerFunction() === 'sendNewOrders') ScriptApp.deleteTrigger(t);
  });
}

/** A refusal by the server (or of a row by this script), with its problem code and the
 * explanation. */
function PartLogicError(status, code, detail) {
  this.status = status;
  this.code = code;
  this.detail = detail;
  this.message = code + ': ' + detail;
}

var KEY_PROPERTY = 'PARTLOGIC_API_KEY';

/** Asks for the key and keeps it in the user's own properties (see "Who can see what"). */
function setApiKey() {
  var ui = SpreadsheetApp.getUi();
  var answer = ui.prompt('PartLogic API key',
    'Paste your key (it starts with pl_). It is kept in your own user properties: other editors of this spreadsheet cannot read it.',
    ui.ButtonSet.OK_CANCEL);
  if (answer.getSelectedButton() !== ui.Button.OK) return;
  var key = answer.getResponseText().trim();
  if (!/^pl_[A-Za-z0-9]{49}$/.test(key)) {
    ui.alert('That is not a whole PartLogic key: copy it again (it starts with pl_ and is 52 characters long).');
    return;
  }
  PropertiesService.getUserProperties().setProperty(KEY_PROPERTY, key);
  // A key from the old instructions, readable by every editor, goes.
  PropertiesService.getScriptProperties().deleteProperty(KEY_PROPERTY);
  SpreadsheetApp.getActiveSpreadsheet().toast('Key saved for you. Fill sheet Orders, then choose Send new orders.', 'PartLogic', 10);
}

function apiKey_() {
  var key = PropertiesService.getUserProperties().getProperty(KEY_PROPERTY);
  if (key) return key;
  if (PropertiesService.getScriptProperties().getProperty(KEY_PROPERTY)) {
    // Readable by every editor: not used, and not moved (whoever ran the script first would
    // take it). The owner sets it again instead, which deletes the shared copy.
    throw new PartLogicError(0, 'key_in_script_properties',
      'The API key is in Script Properties, where every editor of this spreadsheet can read it.');
  }
  throw new PartLogicError(0, 'missing_api_key',
    'No PartLogic API key is set for you: choose PartLogic → Set API key… and paste your key.');
}

/** The problem an answer carries: its code, and its detail with the fields it names. */
function problem_(status, text) {
  var problem = {};
  try { problem = JSON.parse(text) || {}; } catch (e) { /* not a problem document */ }
  var detail = problem.detail || String(text).slice(0, 300);
  if (problem.errors && problem.errors.length) {
    detail += ' (' + problem.errors.map(function (f) { return f.field + ': ' + f.message; }).join('; ') + ')';
  }
  return new PartLogicError(status, problem.code || 'http_' + status, detail);
}

function get_(key, path) {
  var res = UrlFetchApp.fetch(PARTLOGIC_BASE_URL + path, {
    method: 'get',
    headers: { 'X-API-Key': key, 'Accept': 'application/json' },
    muteHttpExceptions: true
  });
  if (res.getResponseCode() !== 200) throw problem_(res.getResponseCode(), res.getContentText());
  return JSON.parse(res.getContentText());
}

// Refusals that are about the key, the pace or the server, not about a row: the run stops and
// the rows it did not reach wait for the next one.
var RUN_STOPPERS = ['missing_api_key', 'malformed_api_key', 'invalid_api_key', 'api_key_expired',
  'api_key_retired', 'api_key_in_query', 'conflicting_api_keys', 'permission_denied',
  'rate_limited', 'server_busy', 'service_unavailable'];

function cellText_(v) {
  return v === null || v === undefined ? '' : String(v).trim();
}

function sheet_(name) {
  var book = SpreadsheetApp.getActiveSpreadsheet();
  return book.getSheetByName(name) || book.insertSheet(name);
}

/** Where each column is (by its name in row 1); an empty sheet gets the header row. */
function columns_(sheet) {
  if (sheet.getLastRow() === 0) {
    TEXT_COLUMNS.forEach(function (name) {
      sheet.getRange(1, COLUMNS.indexOf(name) + 1, sheet.getMaxRows(), 1).setNumberFormat('@');
    });
    sheet.getRange(1, 1, 1, COLUMNS.length).setValues([COLUMNS]);
  }
  var header = sheet.getRange(1, 1, 1, sheet.getLastColumn()).getValues()[0].map(cellText_);
  var col = {};
  var missing = [];
  COLUMNS.forEach(function (name) {
    col[name] = header.indexOf(name);
    if (col[name] < 0) missing.push(name);
  });
  if (missing.length) {
    throw new PartLogicError(0, 'orders_sheet_columns',
      'Row 1 of sheet Orders must name the columns ' + COLUMNS.join(', ') + '; missing: ' + missing.join(', '));
  }
  return col;
}

/** The run behind "Send new orders": reads the rows, checks them, groups them into orders,
 * sends each order and writes down what became of it. */
function sendRows_() {
  var key = apiKey_();
  var book = SpreadsheetApp.getActiveSpreadsheet();
  var sheet = sheet_(ORDERS_SHEET);
  var col = columns_(sheet);
  var values = sheet.getDataRange().getValues();
  var counts = { created: 0, replayed: 0, refused: 0, waiting: 0, unanswered: 0 };
  var writeBack = function (row, order, status) {
    if (order !== null) sheet.getRange(row.n, col.Order + 1, 1, 1).setValues([[order]]);
    sheet.getRange(row.n, col.Status + 1, 1, 1).setValues([[status]]);
  };
  var refuse = function (rows, code, detail) {
    rows.forEach(function (row) { writeBack(row, null, 'Refused: ' + code + ': ' + detail); });
    counts.refused += rows.length;
  };

  // The rows to send: not sent yet, not empty.
  var numbers = {};
  var rows = [];
  for (var i = 1; i < values.length; i++) {
    var v = values[i];
    var order = cellText_(v[col.Order]);
    if (order) { numbers[order] = i + 1; continue; }
    var row = { n: i + 1, device: cellText_(v[col.Device]), sku: cellText_(v[col.SKU]),
      quantity: v[col.Quantity], reference: cellText_(v[col.Reference]) };
    if (!row.device && !row.sku && cellText_(row.quantity) === '' && !row.reference) continue;
    rows.push(row);
  }
  if (!rows.length) return { result: 'ok', detail: 'no new rows', advice: '' };

  // Each row on its own: a device PartLogic knows, an SKU, a whole quantity.
  var byName = null;
  if (rows.some(function (r) { return r.device && !/^\d+$/.test(r.device); })) {
    byName = {};
    get_(key, '/api/devices').forEach(function (d) { (byName[d.Name] = byName[d.Name] || []).push(d.id); });
  }
  var good = [];
  rows.forEach(function (row) {
    var q = typeof row.quantity === 'number' ? row.quantity
      : /^\d+$/.test(cellText_(row.quantity)) ? Number(cellText_(row.quantity)) : NaN;
    if (!row.device) return refuse([row], 'missing_device', 'Device is empty: give the device\'s id or its name as PartLogic lists it.');
    if (/^\d+$/.test(row.device)) {
      row.deviceId = Number(row.device);
    } else {
      var ids = byName[row.device] || [];
      if (ids.length === 0) return refuse([row], 'unknown_device', 'No device named "' + row.device + '" among this key\'s devices (the name must match exactly, or use the device\'s id).');
      if (ids.length > 1) return refuse([row], 'ambiguous_device', ids.length + ' devices are named "' + row.device + '": use the device\'s id (' + ids.join(', ') + ').');
      row.deviceId = ids[0];
    }
    if (!row.sku) return refuse([row], 'missing_sku', 'SKU is empty.');
    if (!(q % 1 === 0 && q >= 1 && q <= MAX_QUANTITY)) return refuse([row], 'invalid_quantity', 'Quantity must be a whole number from 1 to 1,000,000.');
    row.quantity = q;
    good.push(row);
  });

  // Rows with the same device and Reference are one order; a row without a Reference is one.
  var groups = [];
  var byReference = {};
  rows.forEach(function (row) {
    if (!row.reference) { groups.push([row]); return; }
    var id = (row.deviceId || row.device) + '\n' + row.reference;
    if (!byReference[id]) groups.push(byReference[id] = []);
    byReference[id].push(row);
  });

  var bookId = book.getId();
  var sentKeys = {};
  var failures = 0;
  var lastFailure = '';
  for (var g = 0; g < groups.length; g++) {
    var group = groups[g];
    var bad = group.filter(function (r) { return good.indexOf(r) < 0; });
    if (bad.length) {
      refuse(group.filter(function (r) { return bad.indexOf(r) < 0; }), 'invalid_row',
        'Row ' + bad[0].n + ' of the same order (same Device and Reference) needs correcting first.');
      continue;
    }
    // The body is built the same way every time (lines by SKU), so that a retry is
    // byte-for-byte the first request: same key, same body.
    var lines = group.slice().sort(function (a, b) { return a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0; });
    var twice = lines.filter(function (r, j) { return j > 0 && lines[j - 1].sku === r.sku; });
    if (twice.length) {
      refuse(group, 'duplicate_sku', 'SKU ' + twice[0].sku + ' is on more than one row of this order (same Device and Reference): put it on one row.');
      continue;
    }
    if (lines.length > MAX_LINES) {
      refuse(group, 'too_many_lines', 'An order has at most ' + MAX_LINES + ' lines: split these rows over two References.');
      continue;
    }
    var body = { device_id: group[0].deviceId, lines: lines.map(function (r) { return { sku: r.sku, quantity: r.quantity }; }) };
    if (group[0].reference) body.reference = group[0].reference;
    var payload = JSON.stringify(body);
    var idempotencyKey = idempotencyKey_(bookId, payload);
    if (sentKeys[idempotencyKey]) {
      refuse(group, 'duplicate_order', 'The same order as row ' + sentKeys[idempotencyKey] + ' (same device, Reference, SKUs and quantities): give each its own Reference to order both.');
      continue;
    }
    sentKeys[idempotencyKey] = group[0].n;

    var res;
    try {
      res = UrlFetchApp.fetch(PARTLOGIC_BASE_URL + '/api/orders', {
        method: 'post',
        contentType: 'application/json',
        payload: payload,
        headers: { 'X-API-Key': key, 'Idempotency-Key': idempotencyKey, 'Accept': 'application/json' },
        muteHttpExceptions: true
      });
    } catch (e) {
      // No answer (a time-out, a broken connection): the order may or may not exist. The next
      // run asks again with the same key and body, and gets the order if it does.
      group.forEach(function (row) { writeBack(row, null, 'No answer yet: the next run sends it again (never ordered twice).'); });
      counts.unanswered += group.length;
      lastFailure = e && e.message ? e.message : String(e);
      if (++failures >= MAX_FAILURES) {
        throw new PartLogicError(0, 'no_answer', 'PartLogic did not answer ' + failures + ' times (' + lastFailure + '): the next run sends the rows without an Order again.');
      }
      continue;
    }
    var status = res.getResponseCode();
    var text = res.getContentText();
    if (status === 201) {
      var made = JSON.parse(text);
      var replayed = header_(res, 'Idempotent-Replayed') === 'true';
      if (replayed && numbers[made.number] && numbers[made.number] !== group[0].n) {
        // The same request as a row already marked with this order: a repeat, not a lost answer.
        refuse(group, 'duplicate_order', 'The same order as ' + made.number + ' on row ' + numbers[made.number] + ' (same device, Reference, SKUs and quantities): give it a Reference of its own to order it again.');
        continue;
      }
      numbers[made.number] = group[0].n;
      group.forEach(function (row) { writeBack(row, made.number, made.status); });
      if (replayed) counts.replayed++; else counts.created++;
      continue;
    }
    var problem = problem_(status, text);
    if (RUN_STOPPERS.indexOf(problem.code) >= 0) throw problem;
    if (status === 409 || status >= 500) {
      // Still being made (a request whose answer was lost may still be running), or the server
      // failed: the row waits for the next run.
      group.forEach(function (row) { writeBack(row, null, 'Waiting: ' + problem.code + ': ' + problem.detail + ' (the next run sends it again)'); });
      counts.waiting += group.length;
      continue;
    }
    refuse(group, problem.code, problem.detail);
  }
  var detail = plural_(counts.created, 'order') + ' created, ' + counts.replayed + ' already created by an earlier run, '
    + plural_(counts.refused, 'row') + ' refused, ' + plural_(counts.waiting + counts.unanswered, 'row') + ' waiting for the next run';
  if (counts.unanswered) {
    return { result: 'no_answer', detail: detail + ' (no answer: ' + lastFailure + ')', advice: advice_('no_answer') };
  }
  return {
    result: 'ok',
    detail: detail,
    advice: counts.refused ? 'See column Status of the refused rows: correct them, then send again.' : ''
  };
}

function plural_(n, noun) {
  return n + ' ' + noun + (n === 1 ? '' : 's');
}

/** The Idempotency-Key of an order: this spreadsheet and the SHA-256 of the request body, so
 * the same rows give the same key wherever they are in the sheet, and changed rows a new one. */
function idempotencyKey_(bookId, payload) {
  var digest = Utilities.computeDigest(Utilities.DigestAlgorithm.SHA_256, payload, Utilities.Charset.UTF_8);
  var hex = '';
  // Apps Script's bytes are signed (-128 to 127).
  for (var i = 0; i < digest.length; i++) hex += ('0' + (digest[i] & 0xff).toString(16)).slice(-2);
  return 'sheets-' + bookId + '-' + hex;
}

function header_(res, name) {
  var headers = res.getHeaders();
  for (var h in headers) {
    if (h.toLowerCase() === name.toLowerCase()) return String(headers[h]);
  }
  return null;
}

/** Runs a send and records its outcome in sheet "PartLogic". */
function run_(what, send) {
  try {
    var outcome = send();
    status_(what, outcome.result, outcome.detail, outcome.advice);
  } catch (e) {
    var code = e instanceof PartLogicError ? e.code : 'script_error';
    var detail = e instanceof PartLogicError ? e.detail : String(e);
    status_(what, code, detail, advice_(code));
    if (!(e instanceof PartLogicError)) throw e;
  }
}

function advice_(code) {
  var advice = {
    missing_api_key: 'Choose PartLogic → Set API key… and paste your key.',
    key_in_script_properties: 'Choose PartLogic → Set API key… and paste the key: it is then kept in your own user properties and deleted from Script Properties. Retire the key in the portal if people you would not trust with it can edit this spreadsheet.',
    malformed_api_key: 'The key set is not a whole key: choose PartLogic → Set API key… and paste it again (it starts with pl_ and is 52 characters long).',
    invalid_api_key: 'The key is not known: create a new one in the PartLogic portal under Integrations.',
    api_key_expired: 'The key has expired: create a new one in the PartLogic portal, then PartLogic → Set API key….',
    api_key_retired: 'The key was retired in the portal: create a new one, then PartLogic → Set API key….',
    permission_denied: 'This key may not create orders: in the PartLogic portal, open the key under Integrations and set Orders to "read and create, cancel, receive".',
    orders_sheet_columns: 'Put the column names in row 1 of sheet Orders (or delete the sheet: the next run makes it again).',
    no_answer: 'Nothing to do: the next run (or Send new orders) asks again, and a row is never ordered twice.',
    rate_limited: 'This key sent too many requests this minute: the next run goes on.',
    server_busy: 'PartLogic is busy for a moment: the next run goes on.',
    service_unavailable: 'PartLogic is briefly unavailable: the next run goes on.'
  };
  return advice[code] || 'See the PartLogic portal: Help → Orders from a spreadsheet.';
}

var STATUS_ROWS = ['Orders', 'Trigger'];

/** One row per kind of run in sheet "PartLogic", so one run's outcome never hides another's. */
function status_(what, result, detail, advice) {
  var sheet = sheet_('PartLogic');
  var row = STATUS_ROWS.indexOf(what) + 2;
  sheet.getRange(1, 1, 1, 5).setValues([['Run', 'Last run', 'Result', 'Detail', 'What to do']]);
  sheet.getRange(1, 1, STATUS_ROWS.length + 1, 5).setNumberFormat('@');
  sheet.getRange(row, 1, 1, 5).setValues([[what, new Date().toISOString(), result, detail, advice]]);
  if (result !== 'ok' || advice) {
    SpreadsheetApp.getActiveSpreadsheet().toast(result + ': ' + detail, 'PartLogic', 30);
  }
}
