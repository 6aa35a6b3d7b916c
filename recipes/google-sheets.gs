/**
 * PartLogic stock in Google Sheets (Apps Script).
 *
 * 1. In your spreadsheet: Extensions → Apps Script. Replace the editor's contents with this
 *    file and save.
 * 2. Reload the spreadsheet. A "PartLogic" menu appears. Choose "Set API key…" and paste your
 *    key (pl_…). Never put the key in a cell or a formula: a sheet's version history keeps
 *    every value it ever held.
 * 3. "Refresh stock now", "Refresh alerts now", or "Refresh every hour" (installs an hourly
 *    trigger, which runs as you).
 *
 * Who can see what. The key is kept in YOUR user properties: only scripts running as you can
 * read it; other editors of this spreadsheet cannot. (Script Properties, which every editor can
 * read, are not used: a key found there is refused until you set it with "Set API key…",
 * which deletes it there.)
 * Other editors do see everything the script writes into the sheets. They can also change this
 * script, and a changed script runs as you the next time your hourly trigger fires: give edit
 * access only to people you would trust with the key, and view or comment access to the rest.
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
    .addItem('Set API key…', 'setApiKey')
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
  SpreadsheetApp.getActiveSpreadsheet().toast('Key saved for you. Choose Refresh stock now.', 'PartLogic', 10);
}

function apiKey_() {
  var key = PropertiesService.getUserProperties().getProperty(KEY_PROPERTY);
  if (key) return key;
  if (PropertiesService.getScriptProperties().getProperty(KEY_PROPERTY)) {
    // Set up with an earlier version of this script, where every editor can read the key. It is
    // not moved by itself: whoever ran the script first would take it, and the key's owner's
    // trigger would stop. The owner sets it again instead, which deletes the shared copy.
    throw new PartLogicError(0, 'key_in_script_properties',
      'The API key is in Script Properties, where every editor of this spreadsheet can read it.');
  }
  throw new PartLogicError(0, 'missing_api_key',
    'No PartLogic API key is set for you: choose PartLogic → Set API key… and paste your key.');
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
    missing_api_key: 'Choose PartLogic → Set API key… and paste your key.',
    key_in_script_properties: 'Choose PartLogic → Set API key… and paste the key: it is then kept in your own user properties and deleted from Script Properties. Retire the key in the portal if people you would not trust with it can edit this spreadsheet.',
    malformed_api_key: 'The key set is not a whole key: choose PartLogic → Set API key… and paste it again (it starts with pl_ and is 52 characters long).',
    invalid_api_key: 'The key is not known: create a new one in the PartLogic portal under Integrations.',
    api_key_expired: 'The key has expired: create a new one in the PartLogic portal, then PartLogic → Set API key….',
    api_key_retired: 'The key was retired in the portal: create a new one, then PartLogic → Set API key….',
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
