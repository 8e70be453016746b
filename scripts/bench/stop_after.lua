-- wrk script for `make bench`'s growth check (run with -t1 -c1: one
-- keep-alive connection): after $BENCH_STOP_AFTER responses, stop sending
-- and create $BENCH_DONE_FILE; bench.py then interrupts wrk (SIGINT makes
-- it print its summary), since wrk otherwise waits out its -d duration.
local limit = tonumber(os.getenv("BENCH_STOP_AFTER") or "0")
local done_file = os.getenv("BENCH_DONE_FILE")
local seen = 0
function response(status, headers, body)
    seen = seen + 1
    if limit > 0 and seen == limit then
        if done_file then
            local f = io.open(done_file, "w")
            if f then f:close() end
        end
        wrk.thread:stop()
    end
end
