// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* pod_cgroup: pod uid and container id from /proc/PID/cgroup lines as the
 * kubelet's two cgroup drivers, the QoS classes and containerd, CRI-O and
 * Docker write them; paths a process could make to pass as another pod. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "pod_cgroup.h"
#include "unit.h"

#define UID "74c13223-5a00-11e9-b385-42010a80018d"
#define UID_ "74c13223_5a00_11e9_b385_42010a80018d" /* systemd's spelling */
#define UID2 "0b6d1f3c-8e2a-4f57-9c1d-2e3f4a5b6c7d"
#define UID2_ "0b6d1f3c_8e2a_4f57_9c1d_2e3f4a5b6c7d"
#define CID "34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea03376"
#define CID2 "9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"

struct row {
	const char *name;
	const char *text;
	int want_err;
	const char *want_uid;
	const char *want_cid;
};

static const struct row rows[] = {
	/* cgroupfs driver, cgroup v1 (one line per hierarchy), Docker/containerd */
	{ "cgroupfs_v1_besteffort",
	  "12:pids:/kubepods/besteffort/pod" UID "/" CID "\n"
	  "11:devices:/kubepods/besteffort/pod" UID "/" CID "\n"
	  "1:name=systemd:/kubepods/besteffort/pod" UID "/" CID "\n",
	  0, UID, CID },
	{ "cgroupfs_v2_burstable", "0::/kubepods/burstable/pod" UID "/" CID "\n", 0, UID, CID },
	{ "cgroupfs_guaranteed", "0::/kubepods/pod" UID "/" CID "\n", 0, UID, CID },
	{ "cgroupfs_crio", "0::/kubepods/burstable/pod" UID "/crio-" CID "\n", 0, UID, CID },
	{ "cgroupfs_kind_root", "0::/kubelet/kubepods/besteffort/pod" UID "/" CID "\n", 0, UID, CID },
	/* systemd driver */
	{ "systemd_containerd_burstable",
	  "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	  ".slice/cri-containerd-" CID ".scope\n",
	  0, UID, CID },
	{ "systemd_containerd_besteffort",
	  "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	  ".slice/cri-containerd-" CID ".scope\n",
	  0, UID, CID },
	{ "systemd_guaranteed",
	  "0::/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" CID ".scope\n", 0, UID, CID },
	{ "systemd_crio",
	  "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	  ".slice/crio-" CID ".scope\n",
	  0, UID, CID },
	{ "systemd_docker_v1",
	  "4:memory:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	  ".slice/docker-" CID ".scope\n",
	  0, UID, CID },
	/* minikube's default: cgroup v2, the systemd driver, cri-dockerd */
	{ "systemd_docker_v2_minikube",
	  "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	  ".slice/docker-" CID ".scope\n",
	  0, UID, CID },
	{ "systemd_kind_root",
	  "0::/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
	  "kubelet-kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" CID ".scope\n",
	  0, UID, CID },
	/* A reader in a cgroup namespace sees "/.." for what lies outside it. */
	{ "cgroupns_systemd",
	  "0::/../../kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" CID ".scope\n", 0, UID, CID },
	{ "cgroupns_cgroupfs", "0::/../../besteffort/pod" UID "/" CID "\n", 0, UID, CID },
	/* In the pod, in no container: CRI-O's monitor, the pod cgroup itself. */
	{ "crio_conmon",
	  "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	  ".slice/crio-conmon-" CID ".scope\n",
	  0, UID, "" },
	{ "pod_cgroup_itself", "0::/kubepods/besteffort/pod" UID "\n", 0, UID, "" },
	/* Sub-cgroups a container made below its own keep its identity. */
	{ "nested_below_container",
	  "0::/kubepods/besteffort/pod" UID "/" CID "/kubepods/besteffort/pod" UID2 "/" CID2 "\n",
	  0, UID, CID },
	{ "nested_systemd_below_container",
	  "0::/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" CID
	  ".scope/kubepods.slice/kubepods-pod" UID2_ ".slice/cri-containerd-" CID2 ".scope\n",
	  0, UID, CID },
	/* Hybrid hierarchy: an unmanaged v2 line next to v1 pod lines. */
	{ "hybrid", "5:cpu,cpuacct:/kubepods/burstable/pod" UID "/" CID "\n0::/\n", 0, UID, CID },
	{ "hierarchies_disagree",
	  "5:cpu:/kubepods/burstable/pod" UID "/" CID "\n4:memory:/kubepods/burstable/pod" UID2 "/" CID "\n",
	  -EINVAL, "", "" },
	{ "containers_disagree",
	  "5:cpu:/kubepods/burstable/pod" UID "/" CID "\n4:memory:/kubepods/burstable/pod" UID "/" CID2 "\n",
	  -EINVAL, "", "" },
	/* Not pods */
	{ "docker_outside_kubernetes", "0::/system.slice/docker-" CID ".scope\n", -ENOENT, "", "" },
	{ "user_session", "0::/user.slice/user-1000.slice/session-2.scope\n", -ENOENT, "", "" },
	{ "user_delegated_subtree",
	  "0::/user.slice/user-1000.slice/user@1000.service/app.slice/kubepods/besteffort/pod" UID "/" CID "\n",
	  -ENOENT, "", "" },
	{ "root", "0::/\n", -ENOENT, "", "" },
	{ "pod_outside_kubepods", "0::/system.slice/pod" UID "/" CID "\n", -ENOENT, "", "" },
	{ "uppercase_uid", "0::/kubepods/pod74C13223-5A00-11E9-B385-42010A80018D/" CID "\n", -ENOENT, "", "" },
	{ "systemd_uid_with_dashes",
	  "0::/kubepods.slice/kubepods-pod" UID ".slice/cri-containerd-" CID ".scope\n", -ENOENT, "", "" },
	{ "systemd_wrong_parent_slice",
	  "0::/kubepods.slice/kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" CID ".scope\n",
	  -ENOENT, "", "" },
	{ "systemd_not_kubepods",
	  "0::/machine.slice/machine-pod" UID_ ".slice/libpod-" CID ".scope\n", -ENOENT, "", "" },
	{ "cut_short_uid", "0::/kubepods/pod74c13223-5a00\n", -ENOENT, "", "" },
	{ "unknown_container_name", "0::/kubepods/pod" UID "/" CID "ff\n", 0, UID, "" },
	{ "no_path_field", "0:kubepods/pod" UID "\n", -ENOENT, "", "" },
	{ "empty", "", -ENOENT, "", "" },
};

static void test_cgroup_lines(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pod_cgroup_ids ids;
		int err = pod_cgroup__parse(rows[i].text, &ids);

		if (err != rows[i].want_err || strcmp(ids.pod_uid, rows[i].want_uid) != 0 ||
		    strcmp(ids.container_id, rows[i].want_cid) != 0) {
			printf("  row %s: got %d '%s' '%s', want %d '%s' '%s'\n", rows[i].name, err,
			       ids.pod_uid, ids.container_id, rows[i].want_err, rows[i].want_uid,
			       rows[i].want_cid);
			unit_failed_checks++;
		}
	}
}

/* A line without a newline at the end, and the real file of this process
 * (not in a pod here). */
static void test_read(void)
{
	struct pod_cgroup_ids ids;
	int err;

	CHECK_INT(pod_cgroup__parse("0::/kubepods/pod" UID "/" CID, &ids), 0);
	CHECK_STR(ids.container_id, CID);
	err = pod_cgroup__read(getpid(), &ids);
	CHECK(err == 0 || err == -ENOENT); /* the tests may run in a pod */
	CHECK_INT(err == 0, ids.pod_uid[0] != '\0');
	CHECK_INT(pod_cgroup__read(-1, &ids), -ESRCH);
}

int main(void)
{
	unit_prog = "pod_cgroup";
	RUN(test_cgroup_lines);
	RUN(test_read);
	return unit_exit();
}
