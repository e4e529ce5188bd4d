-- Appended to each scenario: one machine-readable line at the end.
function done(summary, latency, requests)
	local secs = summary.duration / 1e6
	local errs = summary.errors.status + summary.errors.connect +
	    summary.errors.read + summary.errors.write + summary.errors.timeout
	io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f " ..
	    "requests=%d errors=%d\n", summary.requests / secs,
	    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
	    summary.requests, errs))
end
