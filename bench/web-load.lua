-- wrk script for the review application's load test: requests go round the alert pages listed in
-- the file named by ALERT_PATHS (one path per line), or to the alert queue when that file is empty,
-- with the session cookie from SESSION_COOKIE; prints the 50th, 95th and 99th
-- latency percentiles and the error count (status >= 400 and socket errors) in a form the bench
-- script reads. The bench script checks beforehand that the cookie gets 200, not a redirect to /login.
local cookie = os.getenv("SESSION_COOKIE")
local paths = {}
local file = os.getenv("ALERT_PATHS")
if file then
  for line in io.lines(file) do
    if #line > 0 then
      table.insert(paths, line)
    end
  end
end
if #paths == 0 then
  paths = { "/alerts" }
end
local i = 0
request = function()
  i = i + 1
  local path = paths[(i % #paths) + 1]
  return wrk.format("GET", path, { ["Cookie"] = cookie })
end

done = function(summary, latency, requests)
  io.write(string.format("requests %d\n", summary.requests))
  io.write(string.format("errors %d\n", summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout))
  for _, p in ipairs({ 50, 95, 99 }) do
    io.write(string.format("p%d_ms %.1f\n", p, latency:percentile(p) / 1000.0))
  end
  io.write(string.format("max_ms %.1f\n", latency.max / 1000.0))
end
