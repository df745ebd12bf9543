-- wrk script: POST the JSON body in the file named by $BENCH_BODY, and print one
-- machine-readable RESULT line (latencies in microseconds) when the run ends.
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
local body = f:read("*a"):gsub("%s+$", "")
f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = body

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d mean_us=%.1f errors=%d " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.mean,
    e.connect + e.read + e.write + e.status + e.timeout,
    e.connect, e.read, e.write, e.status, e.timeout))
end
