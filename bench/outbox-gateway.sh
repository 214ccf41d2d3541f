# Sourced by bench/deliveries and bench/deliveries-ab: a gateway serving the adversary fixture
# with one target, `local`, whose receiver is bench/bare-hyper on 127.0.0.1:18192.
export BENCH_ADMIN_TOKEN=bench

# start_gateway DIR BINARY SYNC PORT_BASE: listens on BASE+1, its admin API on BASE+3; leaves
# the process id in $started and returns once it answers.
start_gateway() {
    mkdir -p "$1/plugins"
    cp target/wasm32-wasip2/plugin/fixture_adversary.wasm "$1/plugins/adversary.wasm"
    cat > "$1/hookgate.toml" <<TOML
[server]
listen = "127.0.0.1:$(($4 + 1))"
plugins_dir = "$1/plugins"
cache_dir = "$1/cache"
data_dir = "$1/data"
outbox_sync = "$3"
[admin]
listen = "127.0.0.1:$(($4 + 3))"
token = { env = "BENCH_ADMIN_TOKEN" }
[targets.local]
url = "http://127.0.0.1:18192/hook"
TOML
    RUST_LOG=warn "$2" serve --config "$1/hookgate.toml" > /dev/null 2> "$1/err" &
    started=$!
    for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$(($4 + 1))/healthz" && return; sleep 0.1; done
}

# target PORT_BASE pause|resume
target() {
    curl -sf -o /dev/null -X POST -H "Authorization: Bearer bench" \
        "http://127.0.0.1:$(($1 + 3))/api/targets/local/$2"
}
