-- wrk script: counts responses by status class over all threads and prints one line at the end:
--   status_2xx=N status_5xx=N status_other=N
-- (wrk itself only reports "Non-2xx or 3xx responses", which mixes 5xx with everything else).
-- WRK_DELAY_MS=N makes each connection pause N ms between requests (paced "normal" clients that
-- leave the CPU to the server instead of saturating it).
local threads = {}
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "0")

if delay_ms > 0 then
    function delay()
        return delay_ms
    end
end

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    s2xx, s5xx, sother = 0, 0, 0
end

function response(status, headers, body)
    if status >= 500 then
        s5xx = s5xx + 1
    elseif status >= 200 and status < 300 then
        s2xx = s2xx + 1
    else
        sother = sother + 1
    end
end

function done(summary, latency, requests)
    local a, b, c = 0, 0, 0
    for _, t in ipairs(threads) do
        a = a + t:get("s2xx")
        b = b + t:get("s5xx")
        c = c + t:get("sother")
    end
    io.write(string.format("status_2xx=%d status_5xx=%d status_other=%d\n", a, b, c))
end
