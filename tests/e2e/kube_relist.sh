#!/usr/bin/env bash
# The pod watch through the API server's own interruptions, against a real
# kube-apiserver + etcd:
#   bookmark changes elsewhere move the version: the server's BOOKMARK (sent
#            before it ends a watch) carries it, with no event for us;
#   resume   watches the server ends (timeoutSeconds=4) are resumed from the
#            last resourceVersion: events keep coming, with no new list;
#   expired  kube-apiserver restarted after a pod was removed behind its back
#            (straight from etcd): the watcher's version is older than the
#            new watch cache keeps, the server answers 410 Gone, the watcher
#            lists again and reports the pod it could not see go.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/peers.sh"
source "$ROOT/tests/lib/kube.sh"
scratch
kube_suite_start watch
NODE=node-r
kube_create_namespace demo || { fail namespace "see above"; exit 1; }
uid_a=$(kube_create_pod demo a $NODE) && uid_b=$(kube_create_pod demo b $NODE) || { fail pods "see above"; exit 1; }

mkfifo "$SCRATCH/cmd"
"$KUBE_WATCH" --server "$KUBE_API" --token-file "$KUBE_ADMIN_TOKEN_FILE" --ca-file "$KUBE_CA" --node $NODE \
	--watch-timeout 4 <"$SCRATCH/cmd" >"$SCRATCH/watch.out" 2>"$SCRATCH/watch.err" &
watcher=$!
bg_track $watcher
exec 3>"$SCRATCH/cmd"
out=$SCRATCH/watch.out
check first_list wait_for_line "$out" "^SYNCED lists=1 watches=0 expired=0 pods=2" 30

# stats_until PATTERN: ask for stats until a STATS line matches (hang
# guard 30 s; the conditions below take 1-4 s).
stats_until() {
	local i
	for ((i = 0; i < 300; i++)); do
		echo stats >&3
		wait_for_line "$out" "^STATS" 5 || return 1
		grep '^STATS' "$out" | tail -n 1 | grep -q -- "$1" && return 0
		sleep 0.1
	done
	return 1
}

# bookmarks: pods come and go on another node; ours are unchanged, yet the
# version moves and the server says so before it ends the watch.
for i in 1 2 3; do kube_create_pod demo far-$i node-far >/dev/null; done
check bookmark_received stats_until 'bookmarks=[1-9]'
last_stats=$(grep '^STATS' "$out" | tail -n 1)
check bookmark_is_no_event grep -q "^STATS lists=1 .* events=0 bookmarks=" <<<"$last_stats"
# resume: the watches the server ends are resumed, without a new list.
check watch_resumed_without_list stats_until '^STATS lists=1 watches=[3-9]'
uid_c=$(kube_create_pod demo c $NODE)
check event_after_resume wait_for_line "$out" "^ADDED demo/c uid=$uid_c "

# expired: the API server goes; pod b goes from etcd (its revision moves past
# everything the watcher saw); the API server comes back with a fresh cache.
peer_stop "$KUBE_APISERVER_PID"
check watcher_notices_outage wait_for_line "$out" "^ERROR cannot watch pods on node $NODE: cannot reach the API server at $KUBE_API" 30
key=$(printf '/registry/pods/demo/b' | base64 -w0)
if etcd_api /v3/kv/deleterange "{\"key\":\"$key\"}" | grep -q '"deleted":"1"'; then
	pass pod_removed_in_etcd
else
	fail pod_removed_in_etcd "etcd did not delete $key"
fi
kube_restart_apiserver || { fail restart "see above"; exit 1; }
pass apiserver_restarted
check relisted_after_410 wait_for_line "$out" "^SYNCED lists=2 .* expired=1 pods=2" 60
check missed_delete_reported grep -q "^DELETED demo/b uid=$uid_b " "$out"
check kept_pod_not_readded bash -c "[ \$(grep -c '^ADDED demo/a uid=$uid_a ' '$out') = 1 ]"
uid_d=$(kube_create_pod demo d $NODE)
check events_after_relist wait_for_line "$out" "^ADDED demo/d uid=$uid_d "

echo quit >&3
exec 3>&-
wait_or_fail $watcher
expect_eq watcher_exit_status "$?" 0
check sanitizers_clean bash -c "! grep -q 'Sanitizer' '$SCRATCH/watch.err'"
[ -s "$SCRATCH/watch.err" ] && sed 's/^/  watch: /' "$SCRATCH/watch.err" | head -20
exit 0
