// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The evaluator path's probe sites and layout for one CPython file; see
 * python_eval.h. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "elf_symbols.h"
#include "env_switches.h"
#include "attach.h"
#include "python_eval.h"
#include "python_eval_method.h"
#include "python_settings.h"
#include "spanprobe.skel.h"

#define EVALUATOR "_PyEval_EvalFrameDefault"

bool python_eval__defines_evaluator(const char *path)
{
	Elf_Scn *scn = NULL;
	bool found = false;
	GElf_Shdr sh;
	Elf *elf;
	int fd;

	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (!found && elf && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		GElf_Sym sym;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize && !found; i++) {
			const char *n;

			if (!gelf_getsym(data, i, &sym) || sym.st_shndx == SHN_UNDEF)
				continue;
			n = elf_strptr(elf, sh.sh_link, sym.st_name);
			found = n && strcmp(n, EVALUATOR) == 0;
		}
	}
	elf_end(elf);
	close(fd);
	return found;
}

/* SPANPROBE_PYTHON_RETURN=uretprobe: compare the two ways (bench/). */
static bool uretprobe_asked(void)
{
	const char *v = env_switch__python_return();

	return v && strcmp(v, "uretprobe") == 0;
}

/* Where the evaluator returns: its return instructions, when the list is
 * complete (every instruction decoded, no jump to another function; the
 * indirect jumps are the opcode dispatch of computed gotos). */
static int find_sites(struct py_eval_target *t, const struct container_file *file,
		      const char *inside)
{
	const struct func_symbol **fs = NULL;
	const struct func_symbol *f;
	struct elf_binary *b = NULL;
	int n, err;

	/* through our descriptor; a separate debug file is looked for in the
	 * root the file was found in, never elsewhere */
	err = elf_binary__open_fd(file->fd, file->display, file->root_fd, inside, &b);
	if (err) {
		fprintf(stderr, "spanprobe: %s: can't read its symbols: %s\n", t->bin.name,
			strerror(-err));
		return err;
	}
	n = elf_binary__match(b, EVALUATOR, &fs);
	if (n <= 0) {
		err = n < 0 ? n : -ENOENT;
		fprintf(stderr, "spanprobe: %s: " EVALUATOR " not found among its functions\n",
			t->bin.name);
		goto cleanup;
	}
	f = fs[0];
	if (f->skip != SKIP_NONE) {
		err = -ENOTSUP;
		fprintf(stderr, "spanprobe: %s: the first instruction of " EVALUATOR " can't be "
			"probed (%s)\n", t->bin.name, skip_reason__name(f->skip));
		goto cleanup;
	}
	t->entry_offset = f->attach_offset;
	t->entry_cost = f->cost_reason ? f->cost_reason : attach_cost__name(f->cost);
	t->entry_addr = f->vaddr + (f->attach_offset - f->file_offset);
	if (uretprobe_asked()) {
		t->uretprobe = true;
		snprintf(t->return_how, sizeof(t->return_how), "uretprobe (SPANPROBE_PYTHON_RETURN)");
		goto done;
	}
	if (!f->exits.known || f->exits.nrets == 0) {
		t->uretprobe = true;
		snprintf(t->return_how, sizeof(t->return_how), "uretprobe (return instructions "
			 "not all known: %s)", f->exits.known ? "none found" : f->exits.unknown_reason);
		goto done;
	}
	for (size_t i = 0; i < f->exits.ntails; i++) {
		if (f->exits.tails[i].kind != EXIT_INDIRECT_JMP) {
			t->uretprobe = true;
			snprintf(t->return_how, sizeof(t->return_how), "uretprobe (a %s leaves it at "
				 "0x%llx)", exit_kind__name(f->exits.tails[i].kind),
				 (unsigned long long)f->exits.tails[i].vaddr);
			goto done;
		}
	}
	t->ret_offsets = calloc(f->exits.nrets, sizeof(*t->ret_offsets));
	if (!t->ret_offsets) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < f->exits.nrets; i++)
		t->ret_offsets[i] = f->exits.rets[i].file_offset;
	t->nrets = f->exits.nrets;
	snprintf(t->return_how, sizeof(t->return_how), "%zu return instruction%s%s", t->nrets,
		 t->nrets == 1 ? "" : "s", f->exits.rets[0].in_cold_part ? " (with its .cold part)" : "");
done:
	err = 0;
cleanup:
	elf_binary__free(b);
	return err;
}

int python_eval__inspect(const struct container_file *file, const char *inside,
			 struct py_eval_target *t)
{
	int err;

	memset(t, 0, sizeof(*t));
	err = cpython_binary__inspect(file->open_path, file->display, &t->bin);
	if (err)
		return err;
	/* the BPF side reads both names with one 16-byte read */
	if (t->bin.layout.code_name != t->bin.layout.code_filename + 8) {
		fprintf(stderr, "spanprobe: %s: co_filename and co_name are not adjacent: not a "
			"CPython layout this spanprobe reads\n", t->bin.name);
		return -ENOTSUP;
	}
	t->file = file->maps;
	return find_sites(t, file, inside);
}

int python_eval__store(const struct py_eval_target *t, uint32_t idx, struct spanprobe_bpf *skel)
{
	struct py_eval_interp info = {
		.l = t->bin.layout,
		.entry_addr = t->entry_addr,
		.runtime_addr = t->bin.runtime_addr,
		.code_type_addr = t->bin.code_type_addr,
		.needs_hook = t->bin.needs_eval_frame_hook,
		/* attached before the entry, whenever both are (python_eval__attach) */
		.frees_watched = python_eval__watches_frees(t, skel),
	};
	int err;

	if (idx >= PY_MAX_EVAL_INTERPS) {
		fprintf(stderr, "spanprobe: at most %d CPython files without USDT probes\n",
			PY_MAX_EVAL_INTERPS);
		return -E2BIG;
	}
	err = bpf_map__update_elem(skel->maps.py_eval_interps, &idx, sizeof(idx), &info,
				   sizeof(info), 0);
	if (err)
		fprintf(stderr, "spanprobe: can't store the layout of %s: %s\n", t->bin.name,
			strerror(-err));
	return err;
}

/* One uprobe_multi link per kind of probe point, where the tracer loaded
 * the programs for them (the kernel has uprobe_multi links): a perf-event
 * uprobe needs CAP_SYS_ADMIN (CAP_PERFMON is refused it, on 6.18 too),
 * which the DaemonSet does not grant; a link needs CAP_BPF and CAP_PERFMON. */
static int attach_multi(struct bpf_program *prog, pid_t pid, const char *path,
			const uint64_t *offsets, size_t n, uint32_t idx, bool retprobe,
			const char *what, const char *name, bool quiet_gone,
			struct attachment *attached)
{
	LIBBPF_OPTS(bpf_uprobe_multi_opts, opts, .cnt = n, .retprobe = retprobe);
	unsigned long *offs = calloc(n, sizeof(*offs));
	__u64 *cookies = calloc(n, sizeof(*cookies));
	int err = -ENOMEM;

	if (offs && cookies) {
		for (size_t i = 0; i < n; i++) {
			offs[i] = offsets[i];
			cookies[i] = idx;
		}
		opts.offsets = offs;
		opts.cookies = cookies;
		err = attachment__keep(attached, bpf_program__attach_uprobe_multi(prog, pid, path, NULL,
										       &opts),
				       what, name, quiet_gone);
	}
	free(offs);
	free(cookies);
	return err;
}

/* The entry, and the returns of the calls it traces, on one uprobe session
 * link (python_eval_method.h), made by the syscall: libbpf 1.4 makes only
 * uprobe_multi links. */
static int attach_session(const struct py_eval_target *t, uint32_t idx, struct spanprobe_bpf *skel,
			  pid_t pid, bool quiet_gone, struct attachment *attached)
{
	unsigned long offset = t->entry_offset;
	uint64_t cookie = idx;
	union bpf_attr attr;
	int fd, err;

	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = bpf_program__fd(skel->progs.py_eval_session);
	attr.link_create.attach_type = PY_ATTACH_UPROBE_SESSION;
	attr.link_create.uprobe_multi.path = (uintptr_t)t->bin.path;
	attr.link_create.uprobe_multi.offsets = (uintptr_t)&offset;
	attr.link_create.uprobe_multi.cookies = (uintptr_t)&cookie;
	attr.link_create.uprobe_multi.cnt = 1;
	attr.link_create.uprobe_multi.pid = pid > 0 ? (uint32_t)pid : 0; /* 0: every process */
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	if (fd < 0) {
		err = -errno;
		if (!(quiet_gone && err == -ESRCH))
			fprintf(stderr, "spanprobe: can't attach to " EVALUATOR " in %s: %s\n",
				t->bin.name, strerror(-err));
		return err;
	}
	return attachment__add_fd(attached, fd);
}

bool python_eval__watches_frees(const struct py_eval_target *t, const struct spanprobe_bpf *skel)
{
	return t->bin.code_dealloc_offset && bpf_program__fd(skel->progs.py_code_dealloc) >= 0;
}

/* code_dealloc's probe, before the entry's: no verdict is kept by address
 * alone while a free could go unseen. */
static int attach_frees(const struct py_eval_target *t, struct spanprobe_bpf *skel, pid_t pid,
			bool quiet_gone, struct attachment *attached)
{
	struct bpf_program *prog = skel->progs.py_code_dealloc;

	if (!python_eval__watches_frees(t, skel))
		return 0;
	if (bpf_program__expected_attach_type(prog) == BPF_TRACE_UPROBE_MULTI)
		return attach_multi(prog, pid, t->bin.path, &t->bin.code_dealloc_offset, 1, 0, false,
				    "code_dealloc", t->bin.name, quiet_gone, attached);
	return attachment__keep(attached,
				bpf_program__attach_uprobe_opts(prog, pid, t->bin.path,
								t->bin.code_dealloc_offset, NULL),
				"code_dealloc", t->bin.name, quiet_gone);
}

int python_eval__attach(const struct py_eval_target *t, uint32_t idx, struct spanprobe_bpf *skel,
			pid_t pid, bool quiet_gone, struct attachment *attached)
{
	LIBBPF_OPTS(bpf_uprobe_opts, entry_opts, .bpf_cookie = idx);
	LIBBPF_OPTS(bpf_uprobe_opts, ret_opts, .bpf_cookie = idx, .retprobe = true);
	int err;

	err = attach_frees(t, skel, pid, quiet_gone, attached);
	if (err)
		return err;

	/* the session program is loaded whenever chosen: a refused one was
	 * chosen away at the retry (python_eval_method.c) */
	if (bpf_program__autoload(skel->progs.py_eval_session))
		return attach_session(t, idx, skel, pid, quiet_gone, attached);
	/* a program of this path refused by the kernel (object_load.c said so) */
	if (bpf_program__fd(skel->progs.py_eval_entry) < 0 ||
	    (t->uretprobe && bpf_program__fd(skel->progs.py_eval_return) < 0) ||
	    (!t->uretprobe && t->nrets && bpf_program__fd(skel->progs.py_eval_ret_insn) < 0))
		return 0;
	if (bpf_program__expected_attach_type(skel->progs.py_eval_entry) == BPF_TRACE_UPROBE_MULTI) {
		/* returns first, as below */
		err = t->uretprobe ? attach_multi(skel->progs.py_eval_return, pid, t->bin.path,
						  &t->entry_offset, 1, idx, true,
						  "the return of " EVALUATOR, t->bin.name, quiet_gone,
						  attached)
			: t->nrets ? attach_multi(skel->progs.py_eval_ret_insn, pid, t->bin.path,
						  t->ret_offsets, t->nrets, idx, false,
						  "the return instructions of " EVALUATOR,
						  t->bin.name, quiet_gone, attached)
				   : 0;
		return err ? err
			   : attach_multi(skel->progs.py_eval_entry, pid, t->bin.path,
					  &t->entry_offset, 1, idx, false, EVALUATOR, t->bin.name,
					  quiet_gone, attached);
	}

	/* returns first: an entry seen is then never without its return */
	if (t->uretprobe) {
		err = attachment__keep(attached,
				       bpf_program__attach_uprobe_opts(skel->progs.py_eval_return, pid,
								       t->bin.path, t->entry_offset,
								       &ret_opts),
				       "the return of " EVALUATOR, t->bin.name, quiet_gone);
		if (err)
			return err;
	}
	for (size_t i = 0; i < t->nrets; i++) {
		err = attachment__keep(attached,
				       bpf_program__attach_uprobe_opts(skel->progs.py_eval_ret_insn, pid,
								       t->bin.path, t->ret_offsets[i],
								       &entry_opts),
				       "a return instruction of " EVALUATOR, t->bin.name, quiet_gone);
		if (err)
			return err;
	}
	return attachment__keep(attached,
				bpf_program__attach_uprobe_opts(skel->progs.py_eval_entry, pid,
								t->bin.path, t->entry_offset, &entry_opts),
				EVALUATOR, t->bin.name, quiet_gone);
}

void python_eval__release(struct py_eval_target *t)
{
	free(t->ret_offsets);
	t->ret_offsets = NULL;
	t->nrets = 0;
}
