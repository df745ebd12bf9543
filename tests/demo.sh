#!/bin/sh
# make demo: the stand-in Ollama, keepwarm in front of it, and one chat through both.
set -e
build=${1:-build}
log=$(mktemp -d)
"$build/fake_ollama" --listen 127.0.0.1:0 --token-delay 80 >"$log/fake.out" 2>&1 &
fake=$!
keepwarm=""
trap 'kill $fake $keepwarm 2>/dev/null; rm -rf "$log"' EXIT INT TERM
for i in $(seq 50); do grep -q listening "$log/fake.out" && break; sleep 0.1; done
fport=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log/fake.out")
"$build/keepwarm" --listen 127.0.0.1:0 --upstream "http://127.0.0.1:$fport" >"$log/kw.out" 2>&1 &
keepwarm=$!
for i in $(seq 50); do grep -q 'msg="listening"' "$log/kw.out" && break; sleep 0.1; done
port=$(sed -n 's/.*msg="listening" addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log/kw.out")
echo "stand-in Ollama on :$fport, keepwarm on :$port"
echo
echo "\$ curl -N http://127.0.0.1:$port/v1/chat/completions -d '{\"model\":\"llama3.2:3b\",\"stream\":true,...}'"
curl -sN "http://127.0.0.1:$port/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model":"llama3.2:3b","stream":true,"messages":[{"role":"user","content":"Hello!"}]}'
echo
echo "What Ollama received (keep_alive injected):"
curl -s "http://127.0.0.1:$fport/_fake/requests" | node -e '
let t = ""; process.stdin.on("data", (d) => t += d).on("end", () => {
  const chat = JSON.parse(t).requests.filter((q) => q.path === "/api/chat").pop();
  console.log("POST /api/chat " + JSON.stringify(chat.body));
});'

