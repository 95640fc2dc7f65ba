-- wrk script: replays a file of pre-built raw HTTP requests (bench/lib/sign.py) round-robin.
--
--   wrk -t2 -c16 -d10s -s replay.lua http://127.0.0.1:PORT -- requests.bin out.json
--
-- Thread t of T replays requests t, t+T, t+2T, ... so that no request is sent twice while
-- the file lasts (each AddLayerVersionPermission carries a unique StatementId). Past the
-- end a thread starts over and counts a wrap (the report flags it). Every response status
-- is tallied; done() writes requests, duration, latency percentiles and the tally as JSON.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  table.insert(threads, thread)
  next_id = next_id + 1
end

function init(args)
  local path = args[1]
  nthreads = tonumber(os.getenv("WRK_THREADS") or "2")
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  reqs = {}
  local pos, k = 1, 0
  while pos <= #data do
    local nl = data:find("\n", pos, true)
    local len = tonumber(data:sub(pos, nl - 1))
    if k % nthreads == id then
      reqs[#reqs + 1] = data:sub(nl + 1, nl + len)
    end
    k = k + 1
    pos = nl + 1 + len
  end
  assert(#reqs > 0, "no requests for thread " .. id .. " in " .. path)
  idx = 0
  wraps = 0
  statuses = {}
end

function request()
  idx = idx + 1
  if idx > #reqs then
    idx = 1
    wraps = wraps + 1
  end
  return reqs[idx]
end

function response(status, headers, body)
  local k = tostring(status)
  statuses[k] = (statuses[k] or 0) + 1
end

function done(summary, latency, requests)
  local tally, wrapped, available = {}, 0, 0
  for _, t in ipairs(threads) do
    local s = t:get("statuses") or {}
    for k, v in pairs(s) do
      tally[k] = (tally[k] or 0) + v
    end
    wrapped = wrapped + (t:get("wraps") or 0)
  end
  local parts = {}
  for k, v in pairs(tally) do
    parts[#parts + 1] = string.format('"%s": %d', k, v)
  end
  local e = summary.errors
  local out = string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d, "mean": %.1f}, ' ..
    '"statuses": {%s}, "socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
    '"non_2xx_3xx": %d, "wraps": %d}',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean,
    table.concat(parts, ", "), e.connect, e.read, e.write, e.timeout, e.status, wrapped)
  local path = os.getenv("WRK_OUT")
  if path then
    local f = assert(io.open(path, "w"))
    f:write(out, "\n")
    f:close()
  end
  io.write(out, "\n")
end
