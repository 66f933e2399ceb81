-- Paces wrk's connections so that together they send about `rate` requests
-- per second: wrk has no constant-rate mode (wrk2 has one but is not in
-- Debian). Usage: wrk -s fixed-rate.lua ... -- <rate> <connections>
--
-- Each connection waits delay() ms after every answer before it sends the
-- next request, so its rate is 1 / (delay + latency): the achieved rate is a
-- little below `rate`, and the harness reports it. wrk measures latency from
-- the moment a request is written, after the delay; the wait of a request
-- that queued behind a slow one is not counted (no coordinated-omission
-- correction, unlike wrk2).
local interval_ms = 1

function init(args)
   local rate = tonumber(args[1])
   local connections = tonumber(args[2])
   interval_ms = connections * 1000 / rate
end

-- delay() is whole milliseconds: dither between the two neighbours so the
-- mean is the fractional interval.
function delay()
   local whole = math.floor(interval_ms)
   if math.random() < interval_ms - whole then
      return whole + 1
   end
   return whole
end
