-- wrk script for bench_gateway: GET an absolute-form HTTPS URL through an HTTP proxy (as an agent's
-- forwarder would), each thread (one connection each) as one agent with its session token; at the
-- end one JSON line of figures. Settings come from the environment: BENCH_URL, BENCH_HOST and
-- BENCH_TOKENS (a file, one token a line).
local assigned = 0

function setup(thread)
  local tokens = {}
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    tokens[#tokens + 1] = line
  end
  thread:set("auth", "Bearer " .. tokens[assigned % #tokens + 1])
  assigned = assigned + 1
end

function init(args)
  wrk.headers["Host"] = os.getenv("BENCH_HOST")
  wrk.headers["Proxy-Authorization"] = auth
  prepared = wrk.format("GET", os.getenv("BENCH_URL"))
end

function request()
  return prepared
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "status_errors": %d, ' ..
    '"socket_errors": %d, "timeouts": %d, "p50_us": %d, "p99_us": %d, "mean_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, errors.status,
    errors.connect + errors.read + errors.write, errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
