// Runs a Postman collection converted from an OpenAPI document (openapi2postmanv2 -s DOC -o
// COLLECTION -p -O parametersResolution=Example) with newman, setting nothing but the server URL
// and the API key, as a Postman user would. Checks that:
// - the collection uses the variables `baseUrl` (every request's host) and `apiKey` (the API key
//   auth of every secured operation) and no other, and sends examples rather than
//   placeholders such as `<long>`;
// - every operation of DOC is in it, once, and nothing else;
// - every request answers 2xx, but for the operations tagged `key-retirement` or
//   `secret-scanning` (they retire keys, so they may answer otherwise), which must run after
//   every other request, and the two in NOT_FOUND, which must answer 404.
// Prints a table of method, path, operation and status.
//
// Usage: node postman/run.mjs DOC COLLECTION BASE KEY
import { readFileSync } from "node:fs";
import newman from "newman";

const LAST_TAGS = ["key-retirement", "secret-scanning"];
// Operations whose example cannot exist on a fresh server, which must answer 404 (the request
// well-formed, authorised, routed, and the thing not there):
// - delete_webhook: a path's DELETE comes before its PATCH in the document (utoipa writes
//   methods in a fixed order), so its example deletes endpoint 2, not the endpoint 1 the run
//   adds and goes on using; a fresh run has no endpoint 2.
// - replay_webhook_delivery: a message id is the server's own random one; no example names one.
const NOT_FOUND = ["delete_webhook", "replay_webhook_delivery"];
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const VARIABLES = ["baseUrl", "apiKey"];

const [docPath, collectionPath, base, key] = process.argv.slice(2);
if (!key) {
  console.error("usage: node postman/run.mjs DOC COLLECTION BASE KEY");
  process.exit(2);
}
const doc = JSON.parse(readFileSync(docPath, "utf8"));
const collection = JSON.parse(readFileSync(collectionPath, "utf8"));
const problems = [];

// The operations of the document.
const operations = new Map();
for (const [path, pathItem] of Object.entries(doc.paths ?? {})) {
  for (const method of METHODS) {
    const op = pathItem[method];
    if (!op) continue;
    const security = op.security ?? doc.security ?? [];
    operations.set(`${method.toUpperCase()} ${path}`, {
      method: method.toUpperCase(),
      path,
      id: op.operationId ?? "",
      last: (op.tags ?? []).some((tag) => LAST_TAGS.includes(tag)),
      secured: security.some((requirement) => Object.keys(requirement).length > 0),
    });
  }
}

// The collection's requests, in order, with the auth each inherits.
const requests = [];
(function walk(items, inheritedAuth) {
  for (const item of items) {
    if (Array.isArray(item.item)) {
      walk(item.item, item.auth ?? inheritedAuth);
      continue;
    }
    const url = typeof item.request.url === "string" ? { raw: item.request.url } : item.request.url;
    const path = "/" + (url.path ?? []).map((s) => (s.startsWith(":") ? `{${s.slice(1)}}` : s)).join("/");
    requests.push({ id: item.id, name: item.name, method: item.request.method, path, url, item, auth: item.request.auth ?? inheritedAuth });
  }
})(collection.item ?? [], collection.auth);

// Variables: only baseUrl and apiKey, in the expected places.
const requestParts = requests.map((r) => JSON.stringify([r.url, r.item.request.header, r.item.request.body, r.auth]));
const used = new Set([...requestParts.join("\n").matchAll(/\{\{([^{}]+)\}\}/g)].map((m) => m[1]));
for (const name of used) {
  if (!VARIABLES.includes(name)) problems.push(`the collection uses a variable {{${name}}}, which this run does not set (only ${VARIABLES.join(", ")})`);
}
for (const name of VARIABLES) {
  if (!used.has(name)) problems.push(`the collection never uses {{${name}}}: the converter names its variables differently now`);
}
for (const r of requests) {
  const host = Array.isArray(r.url.host) ? r.url.host.join(".") : r.url.host ?? "";
  if (host !== "{{baseUrl}}") problems.push(`${r.method} ${r.path}: host is ${JSON.stringify(host)}, not {{baseUrl}}`);
  const op = operations.get(`${r.method} ${r.path}`);
  if (op?.secured) {
    const fields = Object.fromEntries((r.auth?.apikey ?? []).map((f) => [f.key, f.value]));
    if (r.auth?.type !== "apikey" || fields.value !== "{{apiKey}}" || fields.in !== "header")
      problems.push(`${r.method} ${r.path}: auth is ${JSON.stringify(r.auth)}, not an API key header from {{apiKey}}`);
  }
  // Schema placeholders instead of the document's examples (what the v1 converter sends).
  const sent = [
    ...(r.url.query ?? []).filter((q) => !q.disabled).map((q) => q.value),
    ...(r.item.request.header ?? []).filter((h) => !h.disabled).map((h) => h.value),
    ...(r.url.path ?? []),
  ];
  const body = r.item.request.body?.raw ?? "";
  if (sent.some((v) => /^<[A-Za-z -]+>$/.test(String(v))) || /"<[A-Za-z -]+>"/.test(body))
    problems.push(`${r.method} ${r.path}: sends schema placeholders (<long>, <string>…) instead of examples: ${JSON.stringify(sent)} ${body}`);
}

// Coverage: every operation once, nothing else.
const seen = new Map();
for (const r of requests) {
  const k = `${r.method} ${r.path}`;
  if (!operations.has(k)) problems.push(`the collection has ${k}, which is no operation of ${docPath}`);
  seen.set(k, (seen.get(k) ?? 0) + 1);
}
for (const [k, op] of operations) {
  if (!seen.has(k)) problems.push(`operation ${op.id} (${k}) is missing from the collection`);
  else if (seen.get(k) > 1) problems.push(`operation ${op.id} (${k}) is in the collection ${seen.get(k)} times`);
}

if (problems.length > 0) {
  for (const p of problems) console.error(`FAIL ${p}`);
  process.exit(1);
}

const summary = await new Promise((resolve, reject) => {
  newman.run(
    {
      collection,
      envVar: [
        { key: "baseUrl", value: base },
        { key: "apiKey", value: key },
      ],
      reporters: [],
      timeoutRequest: 30_000,
    },
    (err, result) => (err ? reject(err) : resolve(result)),
  );
});

const byId = new Map(requests.map((r) => [r.id, r]));
const rows = [];
let firstLast = Infinity;
let lastOther = -1;
summary.run.executions.forEach((execution, index) => {
  const r = byId.get(execution.item.id);
  const op = r && operations.get(`${r.method} ${r.path}`);
  const status = execution.response?.code;
  const error = execution.requestError?.message;
  rows.push([r?.method ?? "?", r?.path ?? execution.item.name, op?.id ?? "?", error ? `error: ${error}` : String(status), op?.last ? "(may fail)" : ""]);
  if (op?.last) firstLast = Math.min(firstLast, index);
  else lastOther = index;
  if (error) problems.push(`${r?.method} ${r?.path}: request failed: ${error}`);
  else if (NOT_FOUND.includes(op?.id)) {
    if (status !== 404) problems.push(`${r?.method} ${r?.path} (${op?.id}) answered ${status}, not 404 for an example a fresh server cannot have`);
  } else if (!op?.last && !(status >= 200 && status < 300)) {
    problems.push(`${r?.method} ${r?.path} (${op?.id}) answered ${status}: ${execution.response?.stream?.toString().slice(0, 500)}`);
  }
});
if (summary.run.executions.length !== requests.length)
  problems.push(`newman ran ${summary.run.executions.length} requests of ${requests.length}`);
if (firstLast < lastOther)
  problems.push("an operation tagged key-retirement or secret-scanning ran before another operation (they must come last)");
for (const failure of summary.run.failures ?? []) problems.push(`newman: ${failure.error?.message ?? failure.error}`);

const header = ["method", "path", "operation", "status", ""];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
console.log(line(header));
for (const row of rows) console.log(line(row));

if (problems.length > 0) {
  for (const p of problems) console.error(`FAIL ${p}`);
  process.exit(1);
}
console.log(`${rows.length} requests, every operation of ${docPath} covered`);
