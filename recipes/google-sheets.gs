/**
 * PartLogic stock in Google Sheets (Apps Script).
 *
 * 1. In your spreadsheet: Extensions → Apps Script. Replace the editor's contents with this
 *    file and save.
 * 2. Project Settings (the gear) → Script Properties → Add script property:
 *    PARTLOGIC_API_KEY = your key (pl_…). Keep the key there, never in a cell or a formula:
 *    a sheet's version history keeps every value it ever held.
 * 3. Reload the spreadsheet. A "PartLogic" menu appears: "Refresh stock now",
 *    "Refresh alerts now" and "Refresh every hour" (installs an hourly trigger).
 *
 * Sheet "Stock" gets every row your key may read (header row = the API's field names), sheet
 * "Alerts" the latest low-stock and restock events, and sheet "PartLogic" the outcome of the
 * last run of each: when, how many rows, or what the server refused and what to do about it.
 */

var PARTLOGIC_BASE_URL = '{{PARTLOGIC_BASE_URL}}';
var PAGE_SIZE = 1000;
var STOCK_FIELDS = ['id', 'DeviceName', 'SKU', 'Description', 'MinQty', 'MaxQty', 'Physical',
  'DeviceId', 'Customer', 'Location', 'UpdatedAt'];
var ALERT_FIELDS = ['id', 'StockId', 'DeviceId', 'DeviceName', 'Customer', 'SKU', 'Description',
  'MinQty', 'MaxQty', 'Physical', 'PreviousPhysical', 'Kind', 'At'];
// Fields that hold numbers; every other field is text and is written as plain text, so that a
// description such as "=IMPORTDATA(…)" stays words, an item code "00123" keeps its zeros, and
// "2024-01" does not turn into a date.
var NUMBER_FIELDS = ['id', 'StockId', 'DeviceId', 'MinQty', 'MaxQty', 'Physical', 'PreviousPhysical'];

/** Adds the PartLogic menu when the spreadsheet opens. */
function onOpen() {
  SpreadsheetApp.getUi()
    .createMenu('PartLogic')
    .addItem('Refresh stock now', 'refreshStock')
    .addItem('Refresh alerts now', 'refreshAlerts')
    .addItem('Refresh every hour', 'installHourlyTrigger')
    .addToUi();
}

/** Reads every stock row the key may read, 1,000 at a time, into sheet "Stock". */
function refreshStock() {
  run_('Stock', function () {
    var rows = [];
    var after = 0;
    for (;;) {
      var page = get_('/api/stock?limit=' + PAGE_SIZE + '&after=' + after);
      rows = rows.concat(page);
      if (page.length < PAGE_SIZE) break;
      after = page[page.length - 1].id;
    }
    write_(sheet_('Stock'), STOCK_FIELDS, rows);
    return rows.length;
  });
}

/** Reads the latest 1,000 alerts (newest first) into sheet "Alerts". */
function refreshAlerts() {
  run_('Alerts', function () {
    var alerts = get_('/api/stock/alerts?limit=1000');
    write_(sheet_('Alerts'), ALERT_FIELDS, alerts);
    return alerts.length;
  });
}

/** Both refreshes: what the hourly trigger runs. */
function refreshAll() {
  refreshStock();
  refreshAlerts();
}

/** Installs (once) a trigger running refreshAll every hour. */
function installHourlyTrigger() {
  ScriptApp.getProjectTriggers().forEach(function (t) {
    if (t.getHandlerFunction() === 'refreshAll') ScriptApp.deleteTrigger(t);
  });
  ScriptApp.newTrigger('refreshAll').timeBased().everyHours(1).create();
  status_('Trigger', 'ok', 'refreshAll will run every hour', '');
}

/** A refusal by the server, with its problem code and the server's explanation. */
function PartLogicError(status, code, detail) {
  this.status = status;
  this.code = code;
  this.detail = detail;
  this.message = code + ': ' + detail;
}

function apiKey_() {
  var key = PropertiesService.getScriptProperties().getProperty('PARTLOGIC_API_KEY');
  if (!key) {
    throw new PartLogicError(0, 'missing_api_key',
      'Add the script property PARTLOGIC_API_KEY (Project Settings → Script Properties) with your PartLogic API key.');
  }
  return key;
}

function get_(path) {
  var res = UrlFetchApp.fetch(PARTLOGIC_BASE_URL + path, {
    method: 'get',
    headers: { 'X-API-Key': apiKey_(), 'Accept': 'application/json' },
    muteHttpExceptions: true
  });
  var status = res.getResponseCode();
  var text = res.getContentText();
  if (status !== 200) {
    var problem = {};
    try { problem = JSON.parse(text); } catch (e) { /* not a problem document */ }
    throw new PartLogicError(status, problem.code || 'http_' + status,
      problem.detail || text.slice(0, 300));
  }
  return JSON.parse(text);
}

function sheet_(name) {
  var book = SpreadsheetApp.getActiveSpreadsheet();
  return book.getSheetByName(name) || book.insertSheet(name);
}

/** The header row and one row per item, written with a single setValues; text columns are
 * formatted as plain text first. */
function write_(sheet, fields, items) {
  var values = [fields];
  items.forEach(function (item) {
    values.push(fields.map(function (f) { return item[f] === null || item[f] === undefined ? '' : item[f]; }));
  });
  sheet.clearContents();
  fields.forEach(function (f, i) {
    if (NUMBER_FIELDS.indexOf(f) < 0) sheet.getRange(1, i + 1, values.length, 1).setNumberFormat('@');
  });
  sheet.getRange(1, 1, values.length, fields.length).setValues(values);
}

/** Runs a refresh and records its outcome in sheet "PartLogic"; a refusal leaves the data as
 * it was and says what went wrong. */
function run_(what, refresh) {
  try {
    var n = refresh();
    status_(what, 'ok', n + ' rows', '');
  } catch (e) {
    var code = e instanceof PartLogicError ? e.code : 'script_error';
    var detail = e instanceof PartLogicError ? e.detail : String(e);
    status_(what, code, detail, advice_(code));
    if (!(e instanceof PartLogicError)) throw e;
  }
}

function advice_(code) {
  var advice = {
    missing_api_key: 'Add the script property PARTLOGIC_API_KEY.',
    malformed_api_key: 'The script property does not hold a whole key: copy it again (it starts with pl_ and is 52 characters long).',
    invalid_api_key: 'The key is not known: create a new one in the PartLogic portal under Integrations.',
    api_key_expired: 'The key has expired: create a new one in the PartLogic portal and update the script property.',
    api_key_retired: 'The key was retired in the portal: create a new one and update the script property.',
    too_many_streams: 'Another export with this key is running: try again in a minute.',
    service_unavailable: 'PartLogic is briefly unavailable: the next run will try again.'
  };
  return advice[code] || 'See the PartLogic portal: Help → Authentication.';
}

var STATUS_ROWS = ['Stock', 'Alerts', 'Trigger'];

/** One row per kind of run in sheet "PartLogic", so one run's outcome never hides another's. */
function status_(what, result, detail, advice) {
  var sheet = sheet_('PartLogic');
  var row = STATUS_ROWS.indexOf(what) + 2;
  sheet.getRange(1, 1, 1, 5).setValues([['Refreshed', 'Last run', 'Result', 'Detail', 'What to do']]);
  sheet.getRange(1, 1, STATUS_ROWS.length + 1, 5).setNumberFormat('@');
  sheet.getRange(row, 1, 1, 5).setValues([[what, new Date().toISOString(), result, detail, advice]]);
  if (result !== 'ok') {
    SpreadsheetApp.getActiveSpreadsheet().toast(result + ': ' + detail, 'PartLogic', 30);
  }
}
