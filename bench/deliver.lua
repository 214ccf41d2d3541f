-- wrk script: a request whose plugin produces one delivery (X-Mode from the environment).
wrk.method = "POST"
wrk.body = '{"alert":"bench"}'
wrk.headers["X-Mode"] = os.getenv("BENCH_MODE") or "deliver"
