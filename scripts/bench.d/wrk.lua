-- Reports a wrk run as one JSON line (appended to $BENCH_OUT), so scripts/bench can build its
-- table without scraping wrk's text. With BENCH_MIX set, each request picks one of the
-- "path|key" entries of that file (the soak's mix); otherwise wrk's own URL and -H are used.

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

local counter = 0
request = function()
  if not mix then return wrk.request() end
  counter = counter + 1
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
