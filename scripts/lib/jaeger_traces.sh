# Reading the demo apps' traces back from Jaeger's query API, for the demos
# on real runtimes (container-demo.sh, cluster-demo.sh) and the node test.
# Sourced; the caller defines die().
#
# Only spans spanprobe made count (instrumentation scope "spanprobe", which
# Jaeger shows as the tag otel.scope.name): Jaeger all-in-one also traces
# its own queries, into itself, and those would be counted otherwise.

# jaeger_spanprobe_spans URL START_US: how many spans spanprobe made since
# START_US (µs) Jaeger holds, over all its services; fails when Jaeger does
# not answer.
jaeger_spanprobe_spans() {
	local url=$1 start=$2 svc total=0 c
	for svc in $(curl -sf "$url/api/services" | jq -r '.data[]?'); do
		c=$(curl -sf "$url/api/traces?service=$svc&start=$start&limit=100000" |
			jq '[.data[]?.spans[]? | select(any(.tags[]?; .key == "otel.scope.name"
				and .value == "spanprobe"))] | length') || return 1
		total=$((total + c))
	done
	echo "$total"
}

# jaeger_wait_spans URL START_US WANT: waits up to 60 s for Jaeger to hold
# WANT of spanprobe's spans (the Collector batches for 1 s), then dies unless
# it holds exactly that many.
jaeger_wait_spans() {
	local url=$1 start=$2 want=$3 got=0 i
	for ((i = 0; i < 120; i++)); do # hang guard: 60 s
		got=$(jaeger_spanprobe_spans "$url" "$start") && [ "$got" -ge "$want" ] && break
		sleep 0.5
	done
	echo "spanprobe exported $want spans; Jaeger holds $got"
	[ "$got" = "$want" ] || die "Jaeger holds $got spans; spanprobe exported $want"
}

# check_traces URL START_US SERVICE APP_LOG KEY VALUE JSON_OUT: Jaeger's
# traces of SERVICE whose process carries the resource attribute KEY=VALUE
# (process.pid, k8s.pod.name) are the app's requests in order (APP_LOG: its
# whole log, followed to its end), each a root foo with goo and zoo under it,
# ERROR on goo exactly where the app printed the exception. Only the first
# may be missing or without its foo: it may have started before spanprobe
# attached to the new process. The traces are kept in JSON_OUT.
check_traces() {
	local url=$1 start=$2 service=$3 log=$4 key=$5 value=$6 out=$7
	local query app_requests app_errors traced n bad want got
	query="$url/api/traces?service=$service&start=$start&limit=100000"
	app_requests=$(grep -c 'Zoo function completed' "$log")
	# The app's requests in order, 1 = goo raised the simulated exception.
	app_errors=$(awk '/Exception in goo/ {e = 1} /Zoo function completed/ {print e + 0; e = 0}' "$log")
	curl -sf "$query" | jq --arg key "$key" --arg value "$value" '{data: [.data[]? |
		select(any(.processes[]; any(.tags[]; .key == $key and (.value | tostring) == $value)))]}' >"$out"
	# Traces in start order: "1 foo,goo<,zoo< goo" for one with an error span on goo.
	traced=$(jq -r '[.data[]
		| {start: ([.spans[].startTime] | min),
		   names: ([.spans[] | .operationName + (if (.references // [] | length) == 0 then "" else "<" end)] | sort),
		   error: (if any(.spans[]; any(.tags[]; .key == "error" and .value == true)) then 1 else 0 end),
		   error_on: ([.spans[] | select(any(.tags[]; .key == "error" and .value == true)) | .operationName] | unique)}]
		| sort_by(.start) | .[] | "\(.error) \(.names | join(",")) \(.error_on | join(","))"' "$out")
	sed -n 1p <<<"$traced" | grep -q ' foo,' || traced=$(sed 1d <<<"$traced")
	n=$(grep -c . <<<"$traced")
	bad=$(grep -vcE '^(0 foo,goo<,zoo< |1 foo,goo<,zoo< goo)$' <<<"$traced")
	echo "Jaeger (service $service, $key $value) holds $n traces;" \
		"the app printed $app_requests requests, $(grep -c 1 <<<"$app_errors") with the exception."
	echo "  API: curl '$query'"
	[ "$n" -gt 0 ] || die "$service: no trace of $key $value in Jaeger"
	[ "$bad" -eq 0 ] || die "$service: $bad traces are not a root foo with goo and zoo under it, ERROR on goo alone"
	[ "$n" -ge $((app_requests - 1)) ] && [ "$n" -le "$app_requests" ] ||
		die "$service: Jaeger has $n traces of the app's $app_requests requests (only the first may start before spanprobe attaches)"
	want=$(tail -n "$n" <<<"$app_errors")
	got=$(cut -d' ' -f1 <<<"$traced")
	[ "$got" = "$want" ] || die "$service: errors in Jaeger ($(tr '\n' ' ' <<<"$got")) differ from the app's last $n requests ($(tr '\n' ' ' <<<"$want"))"
}
