#!/bin/sh
# Answers with a short text, then exits with the status given as the query
# string (0-125; anything else exits 0).
code=0
case "$QUERY_STRING" in
    ''|*[!0-9]*) ;;
    *) [ "$QUERY_STRING" -le 125 ] && code=$QUERY_STRING ;;
esac
printf 'Content-Type: text/plain\r\n\r\n'
printf 'exiting with %s\n' "$code"
exit "$code"
