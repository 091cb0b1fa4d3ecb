#!/usr/bin/env bash
# spanprobe's pod watch (user/k8s, driven by build/tools/kube-watch) against a
# real kube-apiserver + etcd: the pods of one node are listed and followed as
# they are created, relabelled, given container ids and deleted; pods of other
# nodes never show; the pod filter (namespace, label selector, container)
# decides on the API's facts; and processes placed in cgroups named like the
# kubelet's (cgroupfs and systemd layouts) resolve to their pod and container.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/peers.sh"
source "$ROOT/tests/lib/kube.sh"
scratch
kube_suite_start watch
pass kube_start

NODE=node-a
CID_WEB=$(openssl rand -hex 32)
CID_SIDE=$(openssl rand -hex 32)
CID_OTHER=$(openssl rand -hex 32)
kube_create_namespace demo && kube_create_namespace other || { fail namespaces "see above"; exit 1; }
uid_web=$(kube_create_pod demo web-1 $NODE '{"app":"web","tier":"fe"}' app,sidecar) &&
	uid_far=$(kube_create_pod demo far-1 node-b '{"app":"web"}') &&
	uid_other=$(kube_create_pod other web-x $NODE '{"app":"web"}') || { fail pods "see above"; exit 1; }

mkfifo "$SCRATCH/cmd"
"$KUBE_WATCH" --server "$KUBE_API" --token-file "$KUBE_ADMIN_TOKEN_FILE" --ca-file "$KUBE_CA" --node $NODE \
	--namespace demo --pod-selector 'app=web,tier in (fe,be)' --container app \
	<"$SCRATCH/cmd" >"$SCRATCH/watch.out" 2>"$SCRATCH/watch.err" &
watcher=$!
bg_track $watcher
exec 3>"$SCRATCH/cmd"
out=$SCRATCH/watch.out

# Hang guards: each line comes within milliseconds of its API call.
check listed_then_synced wait_for_line "$out" "^SYNCED lists=1 " 30
check lists_pod_of_node grep -q "^ADDED demo/web-1 uid=$uid_web phase=Pending labels=app=web,tier=fe containers=app:-,sidecar:-" "$out"
check lists_other_namespace_on_node grep -q "^ADDED other/web-x uid=$uid_other " "$out"
check never_shows_other_node bash -c "! grep -q 'far-1\|$uid_far' '$out'"
check other_namespace_not_selected grep -q "^NOT_SELECTED other/web-x: pod other/web-x: namespace other not selected" "$out"

# Created after the list: the watch reports it.
uid_new=$(kube_create_pod demo web-2 $NODE '{"app":"api","tier":"fe"}')
check watch_sees_new_pod wait_for_line "$out" "^ADDED demo/web-2 uid=$uid_new "
check new_pod_labels_do_not_match wait_for_line "$out" "^NOT_SELECTED demo/web-2: pod demo/web-2: labels do not match 'app=web,tier in (fe,be)'"
kube_label_pod demo web-2 app=web
check relabel_is_update wait_for_line "$out" "^UPDATED demo/web-2 uid=$uid_new phase=Pending labels=app=web,tier=fe "
# Without a container id (no kubelet reported one) --container can't match.
check container_unknown_until_status wait_for_line "$out" "^NOT_SELECTED demo/web-2: pod demo/web-2: the process's container (none)"

# The kubelet's status report: container ids, which processes' cgroups carry.
kube_set_container_ids demo web-1 app=$CID_WEB sidecar=$CID_SIDE || fail set_status "see above"
check status_gives_container_ids wait_for_line "$out" "^UPDATED demo/web-1 uid=$uid_web phase=Running .*containers=app:${CID_WEB:0:12},sidecar:${CID_SIDE:0:12}"
check selected_with_container wait_for_line "$out" "^SELECTED demo/web-1: pod demo/web-1 container app selected"

# Processes in kubelet-named cgroups: cgroupfs driver for web-1's app,
# systemd driver for its sidecar, another namespace's pod for the third.
sleep infinity &
p_app=$!
bg_track $p_app
sleep infinity &
p_side=$!
bg_track $p_side
sleep infinity &
p_other=$!
bg_track $p_other
kube_pod_cgroup "kubepods/besteffort/pod$uid_web/$CID_WEB" $p_app &&
	kube_pod_cgroup "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid_web//-/_}.slice/cri-containerd-$CID_SIDE.scope" $p_side &&
	kube_pod_cgroup "kubepods/pod$uid_other/crio-$CID_OTHER" $p_other || fail cgroups "see above"
echo "resolve $p_app" >&3
echo "resolve $p_side" >&3
echo "resolve $p_other" >&3
echo "resolve $$" >&3
check process_cgroupfs_to_pod wait_for_line "$out" "^PROCESS $p_app uid=$uid_web container=${CID_WEB:0:12} pod=demo/web-1 container_name=app SELECTED: pod demo/web-1 container app selected"
check process_systemd_to_pod wait_for_line "$out" "^PROCESS $p_side uid=$uid_web container=${CID_SIDE:0:12} pod=demo/web-1 container_name=sidecar NOT_SELECTED: pod demo/web-1: container sidecar not selected"
check process_other_namespace wait_for_line "$out" "^PROCESS $p_other uid=$uid_other container=${CID_OTHER:0:12} pod=other/web-x container_name=- NOT_SELECTED: pod other/web-x: namespace other not selected"
check process_outside_pods wait_for_line "$out" "^PROCESS $$ none: in no pod's cgroup"

# A label change takes the pod out of the selection.
kube_label_pod demo web-1 tier-
check unlabel_is_update wait_for_line "$out" "^UPDATED demo/web-1 uid=$uid_web phase=Running labels=app=web "
check unlabelled_not_selected wait_for_line "$out" "^NOT_SELECTED demo/web-1: pod demo/web-1: labels do not match"

# Deleted: gone from the table; its process no longer names a pod.
kube_delete_pod demo web-1
check delete_reported wait_for_line "$out" "^DELETED demo/web-1 uid=$uid_web "
echo "resolve $p_app" >&3
check deleted_pod_unknown wait_for_line "$out" "^PROCESS $p_app uid=$uid_web container=${CID_WEB:0:12} pod=- container_name=- NOT_SELECTED: in no pod of this node known to the API server"

echo stats >&3
check table_count wait_for_line "$out" "^STATS lists=1 .* pods=2$"
echo quit >&3
exec 3>&-
wait_or_fail $watcher
expect_eq watcher_exit_status "$?" 0
check watcher_stopped grep -q '^STOPPED' "$out"
check no_errors bash -c "! grep -q '^ERROR' '$out'"
check sanitizers_clean bash -c "! grep -q 'Sanitizer' '$SCRATCH/watch.err'"
[ -s "$SCRATCH/watch.err" ] && sed 's/^/  watch: /' "$SCRATCH/watch.err" | head -20
exit 0
