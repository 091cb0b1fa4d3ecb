// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "container_files.h"
#include "in_root.h"
#include "binary_path.h"
#include "elf_symbols.h"
#include "probe_spec.h"
#include "probe_table.h"
#include "return_rule.h"

static void print_open_error(const char *path, int err)
{
	switch (err) {
	case -EACCES:
		fprintf(stderr, "spanprobe: %s: permission denied (run as root)\n", path);
		break;
	case -EISDIR:
		fprintf(stderr, "spanprobe: %s: is a directory (name the executable or library)\n", path);
		break;
	case -ENOEXEC:
		fprintf(stderr, "spanprobe: %s: not an ELF file (name a compiled executable or "
			"shared library, not a script)\n", path);
		break;
	case -EINVAL:
		/* elf_binary__open: not a regular file */
		fprintf(stderr, "spanprobe: %s: not a regular file (a FIFO, device or socket can't "
			"be traced; name the executable or library)\n", path);
		break;
	case -ELOOP:
		fprintf(stderr, "spanprobe: %s: too many levels of symbolic links (a symlink loop? "
			"check the path with readlink -f)\n", path);
		break;
	case -EREMOTE:
		fprintf(stderr, "spanprobe: %s: a file of a kernel pseudo-filesystem (procfs, sysfs...) "
			"can't be traced; name the executable or library\n", path);
		break;
	default:
		fprintf(stderr, "spanprobe: %s: can't read symbols: %s\n", path, strerror(-err));
	}
}

static struct traced_binary *find_binary(const struct probe_table *t, const struct file_identity *id)
{
	for (size_t i = 0; i < t->nbins; i++)
		if (file_identity__same(&t->bins[i]->id, id))
			return t->bins[i];
	return NULL;
}

/* A container can put a new file at a probed path in every root it makes,
 * and each file found is held open and its symbols kept: past this many
 * files, further ones are not traced (said once). */
#define MAX_TRACED_FILES 256

static bool over_cap(struct probe_table *t, const char *display)
{
	if (t->nbins < MAX_TRACED_FILES)
		return false;
	if (!t->cap_warned)
		fprintf(stderr, "spanprobe: warning: %d files traced already; %s and any further "
			"file is not traced (containers making new files at a probed path?)\n",
			MAX_TRACED_FILES, display);
	t->cap_warned = true;
	return true;
}

static void binary_free(struct traced_binary *b)
{
	if (!b)
		return;
	free(b->path);
	free(b->spec_name);
	elf_binary__free(b->elf);
	if (b->fd >= 0)
		close(b->fd);
	if (b->root_fd >= 0)
		close(b->root_fd);
	free(b);
}

/* The binary for the file f found, opened once per file the kernel probes:
 * containers of one image show one file through as many overlay mounts,
 * each with its own st_dev (see file_identity.h). Takes f's descriptors
 * when the file is new. lookup_path: the file's path in its root, where its
 * debug file is looked for. *out is NULL when the file is new but the most
 * files are traced already. */
static int add_binary(struct probe_table *t, struct container_file *f, const char *spec_name,
		      const char *lookup_path, struct traced_binary **out)
{
	struct traced_binary **grown, *b;
	struct file_identity id;
	int err;

	/* the identity of the descriptor's file, not of a path resolved again */
	err = file_identity__of(f->open_path, &id);
	if (err) {
		print_open_error(f->display, err);
		return err;
	}
	*out = find_binary(t, &id);
	if (*out || over_cap(t, f->display))
		return 0;
	grown = realloc(t->bins, (t->nbins + 1) * sizeof(*t->bins));
	if (!grown)
		return -ENOMEM;
	t->bins = grown;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->fd = -1;
	b->root_fd = IN_ROOT_HOST;
	err = elf_binary__open_fd(f->fd, f->display, f->root_fd, lookup_path, &b->elf);
	if (err) {
		print_open_error(f->display, err);
		free(b);
		return err;
	}
	b->path = strdup(f->display);
	b->spec_name = strdup(spec_name);
	b->id = id;
	if (!b->path || !b->spec_name) {
		binary_free(b);
		return -ENOMEM;
	}
	b->fd = f->fd;
	f->fd = -1;
	b->root_fd = f->root_fd;
	f->root_fd = IN_ROOT_HOST;
	snprintf(b->attach_path, sizeof(b->attach_path), "/proc/self/fd/%d", b->fd);
	b->lang = elf_binary__lang(b->elf);
	b->go_regabi = b->lang == LANG_GO && go_version_at_least(elf_binary__go_version(b->elf), 1, 17);
	t->bins[t->nbins++] = b;
	/* GNU ifuncs: the implementation the traced process uses; without one
	 * (or when it does not map the file) this process's, when it maps the
	 * same file (same CPU, same choice) */
	if ((t->pid <= 0 || elf_binary__resolve_ifuncs(b->elf, t->pid) < 0))
		elf_binary__resolve_ifuncs(b->elf, 0);
	*out = b;
	return 0;
}

int probe_table__check_binary(const struct traced_binary *b)
{
	struct stat st;

	/* what the kernel resolved at attach, resolved again now */
	if (stat(b->attach_path, &st) != 0 || st.st_dev != b->id.dev || st.st_ino != b->id.ino)
		return -ESTALE;
	return 0;
}

static bool already_traced(const struct probe_table *t, const struct traced_binary *b,
			   const struct func_symbol *sym)
{
	for (size_t i = 0; i < t->nfuncs; i++)
		if (t->funcs[i].bin == b && t->funcs[i].sym == sym)
			return true;
	return false;
}

/* A traced function of b probed at the same place (one span per call). */
static const struct traced_func *same_code(const struct probe_table *t, const struct traced_binary *b,
					   const struct func_symbol *sym)
{
	if (sym->skip != SKIP_NONE)
		return NULL;
	for (size_t i = 0; i < t->nfuncs; i++)
		if (t->funcs[i].bin == b && t->funcs[i].skip == SKIP_NONE &&
		    t->funcs[i].sym->attach_offset == sym->attach_offset)
			return &t->funcs[i];
	return NULL;
}

static int add_func(struct probe_table *t, const struct traced_binary *b, const struct func_symbol *sym)
{
	struct traced_func *grown, *f;
	const struct traced_func *same;

	if (already_traced(t, b, sym))
		return 0;
	same = same_code(t, b, sym);
	if (t->nfuncs >= SPAN_MAX_FUNCS) {
		fprintf(stderr, "spanprobe: more than %d functions to trace (narrow the globs)\n",
			SPAN_MAX_FUNCS);
		return -E2BIG;
	}
	grown = realloc(t->funcs, (t->nfuncs + 1) * sizeof(*t->funcs));
	if (!grown)
		return -ENOMEM;
	t->funcs = grown;
	f = &t->funcs[t->nfuncs];
	memset(f, 0, sizeof(*f));
	f->id = t->nfuncs;
	f->bin = b;
	f->sym = sym;
	f->skip = sym->skip;
	if (same) {
		f->skip = SKIP_SAME_CODE;
		f->same_as = same->id;
	}
	/* Without a rule, the return value is still shown: read it as its DWARF
	 * type, else as C's default int. */
	f->rule.err_op = ERR_OP_NONE;
	f->rule.ret_size = sym->ret_known && !sym->ret_void ? sym->ret_size : 4;
	f->rule.ret_signed = sym->ret_known && !sym->ret_void ? sym->ret_signed : 1;
	return_rule__choose(t->returns, f);
	t->nfuncs++;
	return 0;
}

static bool is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* "no function matches": what exists instead, and for a stripped file
 * what would name more functions (never "run spanprobe -l", which may be
 * the very command that failed). */
static void print_no_match(const struct probe_spec *spec, const struct traced_binary *b,
			   const char *func)
{
	char build_id[130], link[256], hint[768];
	const char *close[3];
	size_t nclose = is_glob(func) ? 0 : elf_binary__closest_names(b->elf, func, close, 3);
	const char *source = elf_binary__symbol_source(b->elf);

	if (nclose) {
		fprintf(stderr, "spanprobe: no function matches '%s' in %s; did you mean %s%s%s%s%s?\n",
			func, spec->binary, close[0], nclose > 1 ? ", " : "", nclose > 1 ? close[1] : "",
			nclose > 2 ? ", " : "", nclose > 2 ? close[2] : "");
		return;
	}
	if (elf_binary__has_symtab(b->elf) || strcmp(source, ".dynsym") != 0) {
		fprintf(stderr, "spanprobe: no function matches '%s' in %s (%zu functions, from %s; "
			"try: spanprobe -l 'uprobe:%s:*')\n", func, spec->binary,
			elf_binary__count(b->elf), source, spec->binary);
		return;
	}
	elf_binary__debug_hints(b->elf, build_id, sizeof(build_id), link, sizeof(link));
	if (build_id[0] && link[0])
		snprintf(hint, sizeof(hint), "install its debug file (/usr/lib/debug/.build-id/%.2s/%s.debug, "
			 "or %s next to it)", build_id, build_id + 2, link);
	else if (build_id[0])
		snprintf(hint, sizeof(hint), "install its debug file (/usr/lib/debug/.build-id/%.2s/%s.debug)",
			 build_id, build_id + 2);
	else if (link[0])
		snprintf(hint, sizeof(hint), "put its debug file %s next to it", link);
	else
		snprintf(hint, sizeof(hint), "it names no debug file");
	fprintf(stderr, "spanprobe: no function matches '%s' in %s, which is stripped (no .symtab): "
		"only its %zu exported functions (.dynsym) are known; to trace others, %s, or "
		"rebuild without -s and trace that build\n", func, spec->binary,
		elf_binary__count(b->elf), hint);
}

/* Adds the spec's functions in binary b. quiet: a file found later that
 * lacks them is skipped with a warning instead of failing the run. */
static int add_spec_funcs(struct probe_table *t, const struct probe_spec *spec,
			  const struct traced_binary *b, bool quiet)
{
	for (size_t j = 0; j < spec->nfuncs; j++) {
		const struct func_symbol **syms;
		int n = elf_binary__match(b->elf, spec->funcs[j], &syms), err;

		if (n < 0) {
			fprintf(stderr, "spanprobe: %s: can't read symbols: %s\n", b->path, strerror(-n));
			return n;
		}
		if (n == 0 && quiet) {
			fprintf(stderr, "spanprobe: warning: no function matches '%s' in %s; not traced there\n",
				spec->funcs[j], b->path);
			continue;
		}
		if (n == 0) {
			print_no_match(spec, b, spec->funcs[j]);
			return -ENOENT;
		}
		for (int k = 0; k < n; k++) {
			err = add_func(t, b, syms[k]);
			if (err)
				return err;
		}
	}
	return 0;
}

static void print_container_error(const char *path, pid_t pid, int err);

/* A mapped file's path names the library (or program) `name` stands for:
 * "libc" is libc.so.6, "ssl" libssl.so.3, "libssl.so.3" itself. */
static bool names_library(const char *path, void *ctx)
{
	const char *name = ctx, *base = strrchr(path, '/');
	size_t n = strlen(name);

	base = base ? base + 1 : path;
	if (strcmp(base, name) == 0)
		return true;
	if (strncmp(base, "lib", 3) == 0 && strncmp(name, "lib", 3) != 0)
		base += 3;
	return strncmp(base, name, n) == 0 &&
	       (strncmp(base + n, ".so", 3) == 0 || (strstr(name, ".so") && base[n] == '.'));
}

/* -p PID of a process in another root (a container), BINARY a bare name:
 * the file of that name the process maps, opened inside its root (never
 * the host's file of that name, which the process does not run). */
static int resolve_mapped_spec(struct probe_table *t, const struct probe_spec *spec)
{
	struct container_file f;
	struct traced_binary *b;
	char prefix[64];
	int err;

	err = container_files__mapped(t->pid, t->pid_start, names_library, (void *)spec->binary, &f);
	if (err == -ENOENT) {
		fprintf(stderr, "spanprobe: %s: process %d maps no such library or program (it runs "
			"in a container: give the path inside it, e.g. uprobe:/usr/lib/x86_64-linux-gnu/"
			"%s.so:FUNCS)\n", spec->binary, (int)t->pid, spec->binary);
		return err;
	}
	if (err) {
		print_container_error(spec->binary, t->pid, err);
		return err;
	}
	snprintf(prefix, sizeof(prefix), "/proc/%d/root", (int)t->pid);
	err = add_binary(t, &f, spec->binary, f.display + strlen(prefix), &b);
	container_file__close(&f);
	return err || !b ? err : add_spec_funcs(t, spec, b, false);
}

/* A path relative or bare (library, PATH lookup) resolved on this host. */
static int resolve_host_spec(struct probe_table *t, const struct probe_spec *spec)
{
	char path[PATH_MAX];
	struct container_file f;
	struct traced_binary *b;
	int err;

	err = resolve_binary_path(spec->binary, path, sizeof(path));
	if (err) {
		if (strchr(spec->binary, '/'))
			fprintf(stderr, "spanprobe: %s: no such file (check the path in the probe)\n",
				spec->binary);
		else
			fprintf(stderr, "spanprobe: %s: not found on PATH nor as a library in the "
				"loader's directories (give a path, e.g. uprobe:./%s:FUNCS)\n",
				spec->binary, spec->binary);
		return err;
	}
	err = container_files__here(path, &f);
	if (err) {
		print_open_error(path, err);
		return err;
	}
	err = add_binary(t, &f, spec->binary, path, &b);
	container_file__close(&f);
	return err || !b ? err : add_spec_funcs(t, spec, b, false);
}

/* -p PID: the path can't be used in that process's root. */
static void print_container_error(const char *path, pid_t pid, int err)
{
	if (err == -EPERM)
		fprintf(stderr, "spanprobe: %s: not allowed to look into process %d's root (run as "
			"root, or with CAP_SYS_PTRACE)\n", path, pid);
	else
		fprintf(stderr, "spanprobe: %s in the root of process %d: %s (the path is resolved "
			"inside that process's root: a link that loops or names a non-file is not "
			"followed)\n", path, pid, in_root__strerror(err));
}

/* An absolute path: the file here and the files at that path in containers. */
static int resolve_abs_spec(struct probe_table *t, const struct probe_spec *spec, pid_t pid, bool wait)
{
	struct container_file *files = NULL;
	struct traced_binary *b;
	struct stat st;
	int n, err = 0;

	if (pid > 0) {
		/* the process -p named, not whichever has its PID by now */
		files = calloc(1, sizeof(*files));
		if (!files)
			return -ENOMEM;
		n = container_files__in_process_at(spec->binary, pid, t->pid_start, files);
		if (n == 0)
			n = 1;
		else if (n == -ENOENT || n == -ENOTDIR)
			n = 0;
	} else {
		n = container_files__find(spec->binary, pid, &files);
	}
	if (n == -ESRCH) {
		free(files);
		fprintf(stderr, "spanprobe: process %d exited before %s was found in it\n", pid,
			spec->binary);
		return n;
	}
	if (n < 0 && pid > 0 && n != -ENOMEM)
		print_container_error(spec->binary, pid, n);
	if (n < 0) {
		free(files);
		return n;
	}
	if (n == 0) {
		container_files__free(files, 0);
		/* say why precisely: a directory, an unreadable file, a symlink
		 * loop or a bad path component here is not "no such file" */
		if (pid <= 0) {
			int fd = in_root__open(IN_ROOT_HOST, spec->binary, &st);

			if (fd >= 0)
				close(fd); /* there now: it was not a moment ago */
			else if (fd != -ENOENT) {
				print_open_error(spec->binary, fd);
				return fd;
			}
		}
		if (wait) {
			fprintf(stderr, "spanprobe: %s not found yet; waiting for a process that has it\n",
				spec->binary);
			t->pending++;
			return 0;
		}
		if (pid > 0)
			fprintf(stderr, "spanprobe: %s: no such file in process %d (check the path as "
				"that process sees it)\n", spec->binary, pid);
		else
			fprintf(stderr, "spanprobe: %s: no such file here nor in any container (check "
				"the path, or add --wait to trace it once a process has it)\n",
				spec->binary);
		return -ENOENT;
	}
	for (int i = 0; i < n && !err; i++) {
		err = add_binary(t, &files[i], spec->binary, spec->binary, &b);
		if (!err && !b)
			break; /* the most files are traced (said once) */
		if (!err)
			err = add_spec_funcs(t, spec, b, false);
	}
	container_files__free(files, n);
	return err;
}

/* The same probe written twice (a generated list, a config and the command
 * line): resolved once; the second adds nothing, and for an absolute path
 * would look through every container root again. */
static bool repeats_earlier(const struct probe_spec *specs, size_t i)
{
	for (size_t j = 0; j < i; j++) {
		const struct probe_spec *a = &specs[j], *b = &specs[i];
		bool same = a->kind == b->kind && a->nfuncs == b->nfuncs &&
			    strcmp(a->binary, b->binary) == 0;

		for (size_t k = 0; same && k < a->nfuncs; k++)
			same = strcmp(a->funcs[k], b->funcs[k]) == 0;
		if (same)
			return true;
	}
	return false;
}

int probe_table__resolve(struct probe_table *t, const struct probe_spec *specs, size_t nspecs,
			 pid_t pid, bool wait)
{
	int err = 0;

	t->specs = specs;
	t->nspecs = nspecs;
	t->pid = pid;
	for (size_t i = 0; i < nspecs && !err; i++) {
		if (specs[i].kind != PROBE_UPROBE || repeats_earlier(specs, i))
			continue;
		if (specs[i].binary[0] == '/')
			err = resolve_abs_spec(t, &specs[i], pid, wait);
		else if (pid > 0 && !strchr(specs[i].binary, '/') &&
			 !container_files__shares_our_root(pid))
			err = resolve_mapped_spec(t, &specs[i]);
		else
			err = resolve_host_spec(t, &specs[i]);
	}
	return err;
}

static bool rule_names(const struct error_rule *r, const struct func_symbol *sym)
{
	for (size_t i = 0; i < r->nfuncs; i++)
		if (fnmatch(r->funcs[i], sym->name, 0) == 0 ||
		    fnmatch(r->funcs[i], sym->linkage_name, 0) == 0)
			return true;
	return false;
}

/* Applies the rules to funcs[first..nfuncs); returns -EINVAL for a rule on
 * a void function, else how many (rule, function) pairs matched per rule in
 * matched[] (may be NULL). */
static int apply_rules_from(struct probe_table *t, size_t first, size_t *matched)
{
	for (size_t i = 0; i < t->nrules; i++) {
		const struct error_rule *r = &t->rules[i];

		for (size_t j = first; j < t->nfuncs; j++) {
			struct traced_func *f = &t->funcs[j];
			const struct func_symbol *sym = f->sym;

			if (!rule_names(r, sym))
				continue;
			if (sym->ret_known && sym->ret_void) {
				fprintf(stderr, "spanprobe: --error '%s': %s returns void, so no return "
					"value can mark it failed\n", r->text, sym->name);
				return -EINVAL;
			}
			if (matched)
				matched[i]++;
			f->rule.err_op = r->op;
			f->rule.err_value = r->null ? 0 : r->value;
			f->rule_text = r->text;
			if (r->null) {
				/* NULL judges a pointer, whatever DWARF says of the type */
				f->rule.ret_size = 8;
				f->rule.ret_signed = 0;
			}
		}
	}
	return 0;
}

static bool arg_rule_names(const struct arg_rule *r, const struct func_symbol *sym)
{
	for (size_t i = 0; i < r->nfuncs; i++)
		if (fnmatch(r->funcs[i], sym->name, 0) == 0 ||
		    fnmatch(r->funcs[i], sym->linkage_name, 0) == 0)
			return true;
	return false;
}

/* Resolves the --arg rules for funcs[first..nfuncs); a later rule naming
 * the same function replaces an earlier one's arguments. */
static int apply_args_from(struct probe_table *t, size_t first, size_t *matched)
{
	char err[512];

	for (size_t i = 0; i < t->narg_rules; i++) {
		const struct arg_rule *r = &t->arg_rules[i];

		for (size_t j = first; j < t->nfuncs; j++) {
			struct traced_func *f = &t->funcs[j];

			if (!arg_rule_names(r, f->sym))
				continue;
			if (arg_rule__resolve(r, f->sym, &f->args, err, sizeof(err))) {
				fprintf(stderr, "spanprobe: %s\n", err);
				return -EINVAL;
			}
			if (matched)
				matched[i]++;
		}
	}
	return 0;
}

int probe_table__apply_args(struct probe_table *t, const struct arg_rule *rules, size_t nrules)
{
	size_t *matched = calloc(nrules ? nrules : 1, sizeof(*matched));
	int err;

	if (!matched)
		return -ENOMEM;
	t->arg_rules = rules;
	t->narg_rules = nrules;
	err = apply_args_from(t, 0, matched);
	for (size_t i = 0; i < nrules && !err; i++) {
		if (matched[i] || t->pending)
			continue;
		fprintf(stderr, "spanprobe: --arg '%s' names no traced function (add it to a uprobe: "
			"probe, e.g. uprobe:./app:%s; Python functions get no arguments)\n",
			rules[i].text, rules[i].funcs[0]);
		err = -ENOENT;
	}
	free(matched);
	return err;
}

size_t probe_table__with_args(const struct probe_table *t)
{
	size_t n = 0;

	for (size_t i = 0; t && i < t->nfuncs; i++)
		n += t->funcs[i].args.spec.nargs > 0;
	return n;
}

int probe_table__apply_rules(struct probe_table *t, const struct error_rule *rules, size_t nrules)
{
	size_t *matched = calloc(nrules ? nrules : 1, sizeof(*matched));
	int err;

	if (!matched)
		return -ENOMEM;
	t->rules = rules;
	t->nrules = nrules;
	err = apply_rules_from(t, 0, matched);
	for (size_t i = 0; i < nrules && !err; i++) {
		if (matched[i] || t->pending)
			continue;
		fprintf(stderr, "spanprobe: --error rule for '%s' names no traced function "
			"(add it to a probe, e.g. uprobe:./app:%s)\n", rules[i].funcs[0], rules[i].funcs[0]);
		err = -ENOENT;
	}
	free(matched);
	return err;
}

static bool binary_is_new(const struct probe_table *t, const struct traced_binary *b, size_t first)
{
	for (size_t i = first; i < t->nbins; i++)
		if (t->bins[i] == b)
			return true;
	return false;
}

/* One warning per root for a path refused there (see probe_table.h). */
static void warn_once(struct probe_table *t, const char *path, pid_t pid, int err)
{
	char ns_path[64];
	struct stat st;
	ino_t *grown;

	snprintf(ns_path, sizeof(ns_path), "/proc/%d/ns/mnt", (int)pid);
	if (stat(ns_path, &st) != 0)
		return;
	for (size_t i = 0; i < t->nwarned; i++)
		if (t->warned[i] == st.st_ino)
			return;
	grown = realloc(t->warned, (t->nwarned + 1) * sizeof(*grown));
	if (!grown)
		return;
	t->warned = grown;
	t->warned[t->nwarned++] = st.st_ino;
	fprintf(stderr, "spanprobe: warning: %s in the root of process %d: %s (looked up inside "
		"that container; a link leaving it is followed only within it); not traced there\n",
		path, (int)pid, in_root__strerror(err));
}

int probe_table__discover(struct probe_table *t, pid_t pid, uint64_t start_time, size_t *first_bin,
			  size_t *first_func)
{
	struct container_file f;
	struct file_identity id;
	struct traced_binary *b;
	int added = 0, err;

	*first_bin = t->nbins;
	*first_func = t->nfuncs;
	for (size_t i = 0; i < t->nspecs; i++) {
		const struct probe_spec *spec = &t->specs[i];

		if (spec->kind != PROBE_UPROBE || spec->binary[0] != '/' ||
		    repeats_earlier(t->specs, i))
			continue;
		err = container_files__in_process_at(spec->binary, pid, start_time, &f);
		if (err == -ESRCH)
			return 0; /* gone (or its PID reused): its root is nobody's now */
		if (err) {
			if (err != -ENOENT && err != -ENOTDIR && err != -ENAMETOOLONG)
				warn_once(t, spec->binary, pid, err);
			continue;
		}
		/* traced since before this exec: nothing new; added by an earlier
		 * spec in this loop: this spec's functions still go in */
		if (file_identity__of(f.open_path, &id) != 0) {
			container_file__close(&f);
			continue; /* gone since */
		}
		b = find_binary(t, &id);
		if (b && !binary_is_new(t, b, *first_bin)) {
			container_file__close(&f);
			continue;
		}
		err = add_binary(t, &f, spec->binary, spec->binary, &b);
		container_file__close(&f);
		if (!err && !b)
			continue; /* the most files are traced (said once) */
		if (!err)
			err = add_spec_funcs(t, spec, b, true);
		if (err)
			return err;
	}
	added = t->nbins - *first_bin;
	if (added) {
		err = apply_rules_from(t, *first_func, NULL);
		if (!err)
			err = apply_args_from(t, *first_func, NULL);
		if (err)
			return err;
	}
	return added;
}

void probe_table__release(struct probe_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nbins; i++)
		binary_free(t->bins[i]);
	free(t->bins);
	free(t->funcs);
	free(t->warned);
	memset(t, 0, sizeof(*t));
}

size_t probe_table__attachable(const struct probe_table *t)
{
	size_t n = 0;

	for (size_t i = 0; t && i < t->nfuncs; i++)
		n += t->funcs[i].skip == SKIP_NONE;
	return n;
}

size_t probe_table__count_skipped(const struct probe_table *t, size_t counts[SKIP_REASON_MAX])
{
	size_t total = 0;

	if (counts)
		memset(counts, 0, SKIP_REASON_MAX * sizeof(*counts));
	for (size_t i = 0; t && i < t->nfuncs; i++) {
		enum skip_reason r = t->funcs[i].skip;

		if (r == SKIP_NONE || r >= SKIP_REASON_MAX)
			continue;
		total++;
		if (counts)
			counts[r]++;
	}
	return total;
}
