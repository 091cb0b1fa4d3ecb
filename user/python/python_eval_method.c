// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The evaluator path's way of seeing returns; see python_eval_method.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "env_switches.h"
#include "python_eval_method.h"
#include "spanprobe.skel.h"

/* A session link on "/" fails with EBADF once the kernel has the link type
 * (as libbpf probes uprobe_multi links), EINVAL before. libbpf 1.4's
 * bpf_link_create does not pass uprobe_multi options for an attach type it
 * does not know: the syscall is made here. */
static bool kernel_has_session_links(void)
{
	LIBBPF_OPTS(bpf_prog_load_opts, load_opts, .expected_attach_type = PY_ATTACH_UPROBE_SESSION);
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	unsigned long offset = 0;
	union bpf_attr attr;
	int prog_fd, link_fd, err;

	prog_fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", insns, 2, &load_opts);
	if (prog_fd < 0)
		return false;
	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = prog_fd;
	attr.link_create.attach_type = PY_ATTACH_UPROBE_SESSION;
	attr.link_create.uprobe_multi.path = (uintptr_t)"/";
	attr.link_create.uprobe_multi.offsets = (uintptr_t)&offset;
	attr.link_create.uprobe_multi.cnt = 1;
	link_fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	err = link_fd < 0 ? -errno : 0;
	if (link_fd >= 0)
		close(link_fd);
	close(prog_fd);
	return err == -EBADF;
}

/* bpf_session_is_return as the BPF side declares it: no argument (a kernel
 * that changed its prototype would refuse the program). */
static bool kernel_has_is_return(void)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	const struct btf_type *fn, *proto;
	bool ok = false;
	int id;

	if (!vmlinux)
		return false;
	id = btf__find_by_name_kind(vmlinux, "bpf_session_is_return", BTF_KIND_FUNC);
	if (id > 0 && (fn = btf__type_by_id(vmlinux, id)) &&
	    (proto = btf__type_by_id(vmlinux, fn->type)) && btf_is_func_proto(proto))
		ok = btf_vlen(proto) == 0;
	btf__free(vmlinux);
	return ok;
}

bool py_eval_method__sessions_available(void)
{
	static int known = -1;

	if (known < 0)
		known = kernel_has_session_links() && kernel_has_is_return();
	return known;
}

bool py_eval_method__prefer_evaluator(void)
{
	return !env_switch__python_usdt();
}

void py_eval_method__choose(struct py_eval_method *m, struct spanprobe_bpf *skel, bool multi,
			    bool session_refused)
{
	memset(m, 0, sizeof(*m));
	if (env_switch__python_return())
		snprintf(m->why_not, sizeof(m->why_not), "SPANPROBE_PYTHON_RETURN=%s",
			 env_switch__python_return());
	else if (!multi)
		snprintf(m->why_not, sizeof(m->why_not), "no uprobe_multi links");
	else if (!py_eval_method__sessions_available())
		snprintf(m->why_not, sizeof(m->why_not), "this kernel has no uprobe sessions "
			 "(Linux 6.13+)");
	else if (session_refused)
		snprintf(m->why_not, sizeof(m->why_not), "the kernel refused the session program");
	else
		m->session = true;
	bpf_program__set_autoload(skel->progs.py_eval_session, m->session);
	bpf_program__set_autoload(skel->progs.py_eval_entry, !m->session);
	bpf_program__set_autoload(skel->progs.py_eval_ret_insn, !m->session);
	bpf_program__set_autoload(skel->progs.py_eval_return, !m->session);
	if (m->session)
		bpf_program__set_expected_attach_type(skel->progs.py_eval_session,
						      PY_ATTACH_UPROBE_SESSION);
}
