-- wrk script for `make bench`'s latency at a fixed load: each connection
-- waits $BENCH_PACE_MS milliseconds after a response before it sends the
-- next request. wrk starts a request's clock when it writes it, so the
-- wait is not in the latency; the load stays below what the server can
-- take, and a tail then shows stalls, not queueing.
local pause = tonumber(os.getenv("BENCH_PACE_MS") or "2")
function delay()
    return pause
end
