-- wrk script: a signed Pelorus committime POST (body and signature come from the environment).
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "Pelorus-Webhook/bench"
wrk.headers["X-Pelorus-Event"] = "committime"
wrk.headers["X-Hub-Signature-256"] = os.getenv("BENCH_SIGNATURE")
