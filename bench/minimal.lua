wrk.method = "POST"
wrk.body = "{}"
wrk.headers["X-Event"] = "bench"
