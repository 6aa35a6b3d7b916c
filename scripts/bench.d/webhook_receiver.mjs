// A webhook receiver for scripts/bench: answers every POST 200 at once and notes when each
// message arrived. GET /stats answers {count, first, last, arrivals: {webhook-id: ms}} (times in
// ms since the epoch); GET /count the same without arrivals (a burst's 100,000 would cost the
// cores under test a serialisation on every poll); POST /reset forgets everything. Node's http server, so that the receiver
// costs the server under test little of the two cores.
//
// Usage: node webhook_receiver.mjs PORT
import http from "node:http";

const port = Number(process.argv[2]);
let arrivals = new Map();
let count = 0;
let first = null;
let last = null;

http
  .createServer((req, res) => {
    if (req.method === "GET" && req.url === "/stats") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ count, first, last, arrivals: Object.fromEntries(arrivals) }));
      return;
    }
    if (req.method === "GET" && req.url === "/count") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ count, first, last }));
      return;
    }
    if (req.method === "POST" && req.url === "/reset") {
      arrivals = new Map();
      count = 0;
      first = last = null;
      res.writeHead(204).end();
      return;
    }
    req.resume();
    req.on("end", () => {
      const now = Date.now();
      count += 1;
      first ??= now;
      last = now;
      const id = req.headers["webhook-id"];
      if (id && !arrivals.has(id)) arrivals.set(id, now);
      res.writeHead(200).end();
    });
  })
  .listen(port, "127.0.0.1");
