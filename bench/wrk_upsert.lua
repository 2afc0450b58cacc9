-- wrk script for bench/server_load.py: POST 100-order batches with per-request order ids.
-- env: BENCH_TEMPLATE (file with markers AAAAAAAAAAAA / BBBBBBBBBBBB), BENCH_MIX (new|half|existing),
--      BENCH_AUTH (credentials header value), BENCH_AUTH_HEADER (its name; Authorization when unset),
--      BENCH_RUN (unique prefix of this run, 4 chars)
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(os.getenv("BENCH_TEMPLATE"), "rb"))
  template = f:read("*a")
  f:close()
  mix = os.getenv("BENCH_MIX")
  run = os.getenv("BENCH_RUN")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers[os.getenv("BENCH_AUTH_HEADER") or "Authorization"] = os.getenv("BENCH_AUTH")
  counter = 0
  a = string.format("%s%02dx%05d", run, tid, 0)
  b = string.format("%s%02dy%05d", run, tid, 0)
end

local function fresh(tag)
  counter = counter + 1
  return string.format("%s%02d%s%05d", run, tid, tag, counter % 100000)
end

function request()
  if mix == "new" then
    a, b = fresh("a"), fresh("b")
  elseif mix == "half" then
    a, b = b, fresh("b")
  end
  local body = template:gsub("AAAAAAAAAAAA", a):gsub("BBBBBBBBBBBB", b)
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
