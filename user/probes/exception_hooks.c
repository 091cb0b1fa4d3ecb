// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Where each language's exceptions start and end, found by symbol:
 *  - C++: __cxa_throw, __cxa_rethrow, __cxa_begin_catch, in the file when
 *    it links libstdc++ in, else in the libstdc++.so.6 the loader finds
 *    (inside the same root, for a file inside a container: opened there,
 *    attached through our descriptor);
 *  - Rust: the std runtime's __rust_start_panic and __rust_panic_cleanup
 *    (mangled as __rustc::... since Rust 1.7x), in the file;
 *  - Go: runtime.gopanic and runtime.fatalpanic, in the file; type names
 *    are offsets from runtime.types (the start of .rodata when stripped). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "binary_path.h"
#include "elf_symbols.h"
#include "exception_hooks.h"
#include "in_root.h"
#include "probe_cookie.h"
#include "probe_table.h"

struct hook_want {
	const char *glob;
	enum exc_hook hook;
};

static const struct hook_want cxx_hooks[] = {
	{ "__cxa_throw", HOOK_CXX_THROW },
	{ "__cxa_rethrow", HOOK_CXX_RETHROW },
	{ "__cxa_begin_catch", HOOK_CXX_BEGIN_CATCH },
};
static const struct hook_want rust_hooks[] = {
	{ "*__rust_start_panic", HOOK_RUST_PANIC },
	{ "*__rust_panic_cleanup", HOOK_RUST_CATCH },
};
static const struct hook_want go_hooks[] = {
	{ "runtime.gopanic", HOOK_GO_PANIC },
	{ "runtime.fatalpanic", HOOK_GO_FATAL },
};

static bool already_hooked(struct exception_hooks *h, const char *path)
{
	for (size_t i = 0; i < h->nhooked; i++)
		if (strcmp(h->hooked[i], path) == 0)
			return true;
	return false;
}

static int remember(struct exception_hooks *h, const char *path)
{
	char **grown = realloc(h->hooked, (h->nhooked + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	h->hooked = grown;
	h->hooked[h->nhooked] = strdup(path);
	return h->hooked[h->nhooked++] ? 0 : -ENOMEM;
}

/* Attaches the hooks of want[] found in elf, through attach_path (our own
 * descriptor of the file read: /proc/self/fd/N); path names it in
 * messages. Returns how many. */
static int hook_file(struct exception_hooks *h, struct elf_binary *elf, const char *attach_path,
		     const char *path, const struct hook_want *want, size_t nwant,
		     uint64_t types_vaddr, pid_t pid)
{
	int found = 0, err;

	for (size_t i = 0; i < nwant; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts);
		const struct func_symbol **syms;
		struct hook_info info;
		struct bpf_link *link;
		uint32_t idx;
		int n = elf_binary__match(elf, want[i].glob, &syms);

		if (n <= 0 || syms[0]->skip != SKIP_NONE)
			continue;
		if (h->ninfos >= MAX_HOOKS) {
			fprintf(stderr, "spanprobe: warning: more than %d exception hooks; %s not "
				"hooked in %s\n", MAX_HOOKS, want[i].glob, path);
			continue;
		}
		idx = h->ninfos++;
		info.hook_vaddr = syms[0]->vaddr + (syms[0]->attach_offset - syms[0]->file_offset);
		info.types_vaddr = types_vaddr;
		if (bpf_map_update_elem(h->infos_fd, &idx, &info, 0))
			return -errno;
		opts.bpf_cookie = want[i].hook | ((uint64_t)idx << HOOK_INFO_SHIFT);
		link = bpf_program__attach_uprobe_opts(h->prog, pid, attach_path, syms[0]->attach_offset,
						       &opts);
		if (!link) {
			err = -errno;
			fprintf(stderr, "spanprobe: warning: can't hook %s in %s: %s\n",
				syms[0]->name, path, strerror(-err));
			continue;
		}
		err = attachment__add(&h->attached, link);
		if (err)
			return err;
		found++;
	}
	return found;
}

/* The libstdc++ a C++ file uses, opened where the file lives: on this host
 * as the loader finds it, or inside the file's container root, where a
 * container's links never lead to a host file. Returns the descriptor (name:
 * the library's path for messages, inside: its path in that root) or a
 * negative errno. */
static int open_libstdcxx(const struct traced_binary *b, char *name, size_t name_len,
			  char *inside, size_t inside_len)
{
	static const char *const dirs[] = { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu",
					    "/usr/lib64", "/usr/lib", "/lib64", "/lib" };
	const char *root;
	int err, fd;

	if (b->root_fd == IN_ROOT_HOST) {
		err = resolve_binary_path("libstdc++.so.6", inside, inside_len);
		if (err)
			return err;
		snprintf(name, name_len, "%s", inside);
		return in_root__open(IN_ROOT_HOST, inside, NULL);
	}
	/* b->path is /proc/PID/root/PATH: the same prefix names the library */
	root = strncmp(b->path, "/proc/", 6) == 0 ? strstr(b->path + 6, "/root/") : NULL;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(inside, inside_len, "%s/libstdc++.so.6", dirs[i]);
		fd = in_root__open(b->root_fd, inside, NULL);
		if (fd < 0)
			continue;
		snprintf(name, name_len, "%.*s%s", root ? (int)(root + 5 - b->path) : 0, b->path,
			 inside);
		return fd;
	}
	return -ENOENT;
}

static int hook_cxx(struct exception_hooks *h, const struct traced_binary *b, pid_t pid)
{
	char lib[PATH_MAX], inside[PATH_MAX], attach_path[32];
	struct elf_binary *elf = NULL;
	uint64_t vaddr;
	int n, err, fd;

	/* linked in (static libstdc++) */
	if (elf_binary__symbol_vaddr(b->elf, "__cxa_throw", &vaddr)) {
		if (already_hooked(h, b->path))
			return 0;
		n = hook_file(h, b->elf, b->attach_path, b->path, cxx_hooks, 3, 0, pid);
		return n < 0 ? n : (n ? remember(h, b->path) : -ENOENT);
	}
	fd = open_libstdcxx(b, lib, sizeof(lib), inside, sizeof(inside));
	if (fd < 0)
		return -ENOENT; /* none there, or one that can't be used (a loop, not a file) */
	if (already_hooked(h, lib)) {
		close(fd);
		return 0;
	}
	err = elf_binary__open_fd(fd, lib, b->root_fd, inside, &elf);
	if (err) {
		close(fd);
		return -ENOENT; /* not an ELF file it could load */
	}
	/* the probes hold the file once attached: the descriptor may go then */
	snprintf(attach_path, sizeof(attach_path), "/proc/self/fd/%d", fd);
	n = hook_file(h, elf, attach_path, lib, cxx_hooks, 3, 0, pid);
	elf_binary__free(elf);
	close(fd);
	if (n < 0)
		return n;
	if (n == 0)
		return -ENOENT;
	if (h->verbose)
		fprintf(stderr, "spanprobe: C++ exceptions: %d hooks in %s\n", n, lib);
	return remember(h, lib);
}

static bool returns_by_exits(const struct probe_table *t, const struct traced_binary *b)
{
	for (size_t i = 0; i < t->nfuncs; i++)
		if (t->funcs[i].bin == b && t->funcs[i].skip == SKIP_NONE &&
		    t->funcs[i].ret_probe == RETURN_EXIT_SITES)
			return true;
	return false;
}

int exception_hooks__attach_binary(struct exception_hooks *h, const struct probe_table *t,
				   const struct traced_binary *b, pid_t pid)
{
	uint64_t types = 0;
	int n;

	/* nothing to hook with, or the kernel refused the program (said at load) */
	if (!returns_by_exits(t, b) || bpf_program__fd(h->prog) < 0)
		return 0;
	switch (b->lang) {
	case LANG_CXX:
	case LANG_UNKNOWN_EH:
		n = hook_cxx(h, b, pid);
		if (n == -ENOENT && b->lang == LANG_CXX)
			fprintf(stderr, "spanprobe: warning: %s: no __cxa_throw here nor a libstdc++.so.6: "
				"calls left by C++ exceptions show as truncated\n", b->spec_name);
		return n == -ENOENT ? 0 : n;
	case LANG_RUST:
		if (already_hooked(h, b->path))
			return 0;
		n = hook_file(h, b->elf, b->attach_path, b->path, rust_hooks, 2, 0, pid);
		if (n == 0)
			fprintf(stderr, "spanprobe: warning: %s: no __rust_start_panic: calls left by "
				"panics show as truncated\n", b->spec_name);
		return n < 0 ? n : remember(h, b->path);
	case LANG_GO:
		if (already_hooked(h, b->path) || !b->go_regabi)
			return 0;
		if (!elf_binary__symbol_vaddr(b->elf, "runtime.types", &types))
			types = elf_binary__section_vaddr(b->elf, ".rodata");
		n = hook_file(h, b->elf, b->attach_path, b->path, go_hooks, 2, types, pid);
		if (n == 0)
			fprintf(stderr, "spanprobe: warning: %s: no runtime.gopanic: calls left by "
				"panics show as truncated\n", b->spec_name);
		return n < 0 ? n : remember(h, b->path);
	case LANG_C:
		break;
	}
	return 0;
}

int exception_hooks__attach(struct exception_hooks *h, const struct probe_table *t,
			    struct bpf_program *prog, int infos_fd, pid_t pid, bool verbose)
{
	int err = 0;

	memset(h, 0, sizeof(*h));
	h->prog = prog;
	h->infos_fd = infos_fd;
	h->verbose = verbose;
	for (size_t i = 0; i < t->nbins && err >= 0; i++) {
		err = exception_hooks__attach_binary(h, t, t->bins[i], pid);
		if (err < 0 && traced_binary__in_container(t->bins[i])) {
			/* its calls left by an exception show as truncated spans */
			fprintf(stderr, "spanprobe: can't hook the exceptions of %s: %s\n",
				t->bins[i]->path, strerror(-err));
			err = 0;
		}
	}
	if (err < 0)
		fprintf(stderr, "spanprobe: can't hook exceptions: %s\n", strerror(-err));
	return err < 0 ? err : 0;
}

void exception_hooks__detach(struct exception_hooks *h)
{
	if (!h)
		return;
	attachment__destroy(&h->attached);
	for (size_t i = 0; i < h->nhooked; i++)
		free(h->hooked[i]);
	free(h->hooked);
	h->hooked = NULL;
	h->nhooked = 0;
}
