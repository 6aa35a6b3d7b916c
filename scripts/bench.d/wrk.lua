-- Reports a wrk run as one JSON line (appended to $BENCH_OUT), so scripts/bench can build its
-- table without scraping wrk's text. With BENCH_MIX set, each request picks one of the
-- "path|key" entries of that file (the soak's mix); otherwise wrk's own URL and -H are used.
-- With BENCH_BODY (a file) each request POSTs that body as JSON; BENCH_IDEM=unique gives each
-- request an Idempotency-Key of its own, any other value sends that one key every time.

local mix = nil
-- Requests are formatted in init: only then does wrk know the host they go to.
init = function(args)
  local mixfile = os.getenv("BENCH_MIX")
  if not mixfile then return end
  mix = {}
  for line in io.lines(mixfile) do
    local path, key = line:match("^([^|]+)|(.*)$")
    if path then table.insert(mix, wrk.format("GET", path, { ["X-API-Key"] = key })) end
  end
end

-- Each thread gets a number of its own, so unique keys stay unique across threads.
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local body = nil
local bodyfile = os.getenv("BENCH_BODY")
if bodyfile then
  local f = io.open(bodyfile, "r")
  body = f:read("*a")
  f:close()
end
local idem = os.getenv("BENCH_IDEM")
local run = tostring(os.time())

local counter = 0
request = function()
  counter = counter + 1
  if body then
    -- wrk.format takes these instead of the -H ones: start from those (Host, X-API-Key).
    local headers = {}
    for name, value in pairs(wrk.headers) do headers[name] = value end
    headers["Content-Type"] = "application/json"
    if idem == "unique" then
      headers["Idempotency-Key"] = "bench-" .. run .. "-" .. tostring(tid) .. "-" .. counter
    elseif idem then
      headers["Idempotency-Key"] = idem
    end
    return wrk.format("POST", nil, headers, body)
  end
  if not mix then return wrk.request() end
  return mix[(counter % #mix) + 1]
end

done = function(summary, latency, requests)
  local e = summary.errors
  local line = string.format(
    '{"label":"%s","requests":%d,"secs":%.3f,"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"non2xx":%d,"socket_errors":%d}\n',
    os.getenv("BENCH_LABEL") or "?", summary.requests, summary.duration / 1e6,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, e.status,
    e.connect + e.read + e.write + e.timeout)
  local out = io.open(os.getenv("BENCH_OUT"), "a")
  out:write(line)
  out:close()
end
