#!/bin/sh
# A test in plain shell: run it with `mockpipe run -- sh checkout.sh`, which sets MOCKPIPE_URL and
# MOCKPIPE_WRITE_KEY. curl plays the app here; in a real suite the app sends the calls.
set -eu

# expect JSON: POST /mockpipe/expect; fails the script with mockpipe's explanation on a 409.
expect() {
  answer=$(mktemp)
  status=$(curl -s -o "$answer" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "$1" "$MOCKPIPE_URL/mockpipe/expect")
  if [ "$status" != 200 ]; then
    echo "expectation failed ($status):" >&2
    cat "$answer" >&2
    rm -f "$answer"
    exit 1
  fi
  rm -f "$answer"
}

curl -sf -u "$MOCKPIPE_WRITE_KEY:" -H 'Content-Type: application/json' \
  -d '{"userId": "u1", "event": "Order Completed", "properties": {"revenue": 99.5}}' \
  "$MOCKPIPE_URL/v1/track" > /dev/null

# Everything sent with this key has been processed (answers 409 if it does not settle in 10 s).
curl -sf "$MOCKPIPE_URL/mockpipe/settle?writeKey=$MOCKPIPE_WRITE_KEY&quiet=0.1" > /dev/null

expect '{"type": "track", "writeKey": "'"$MOCKPIPE_WRITE_KEY"'", "count": 1,
         "fields": {"event": "Order Completed", "properties": {"revenue": 99.5}}}'
expect '{"type": "identify", "writeKey": "'"$MOCKPIPE_WRITE_KEY"'", "count": 0, "timeout": 0.2}'
echo "checkout: ok"
