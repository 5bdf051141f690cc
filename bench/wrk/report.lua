-- Loaded into wrk with -s. At the end of a run, prints wrk's totals and latency distribution as
-- one JSON line after a marker, so bench/lib/wrk.mjs never has to parse wrk's prose output.
-- wrk reports times in microseconds.

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'LEDGE_BENCH_JSON {"requests":%.0f,"durationUs":%.0f,"bytes":%.0f,' ..
    '"errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f},' ..
    '"latencyUs":{"min":%.0f,"mean":%.1f,"max":%.0f,"p50":%.0f,"p75":%.0f,"p90":%.0f,"p99":%.0f,"p999":%.0f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end
