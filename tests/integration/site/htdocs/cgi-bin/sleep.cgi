#!/bin/sh
# Sleeps the number of seconds given as the query string (e.g. ?0.3, at most
# 10), then answers with a short text. Anything else in the query sleeps 0.
secs=0
case "$QUERY_STRING" in
    ''|*[!0-9.]*) ;;
    *) secs=$QUERY_STRING ;;
esac
case "$secs" in
    [0-9]|[0-9].*|10) ;;
    *) secs=0 ;;
esac
sleep "$secs" 2>/dev/null || true
# Read a request body, if any: mod_cgid resets the connection otherwise.
case "${CONTENT_LENGTH:-}" in
    ''|*[!0-9]*) ;;
    *) head -c "$CONTENT_LENGTH" >/dev/null ;;
esac
printf 'Content-Type: text/plain\r\n\r\n'
printf 'slept %s s in pid %s\n' "$secs" "$$"
