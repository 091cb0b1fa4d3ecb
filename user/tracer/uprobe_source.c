// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The uprobe source (uprobe_source.h): the functions of the table
 * (env->table, which probe_table.c resolves) get span_enter and span_exit
 * or span_exit_site; the files whose returns are seen at their exits get
 * the exception hooks; each function's error rule and arguments go into
 * func_rules and func_args. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "elf_symbols.h"
#include "entry_site.h"
#include "exception_hooks.h"
#include "probe_cost.h"
#include "probe_list.h"
#include "probe_spec.h"
#include "probe_table.h"
#include "spanprobe.skel.h"
#include "tracer.h"
#include "uprobe_source.h"

/* Room in the statistics map, beyond the functions resolved now, for those
 * found later in new containers. */
#define STATS_SPARE_SLOTS 64

struct uprobe_source {
	struct attachment attached;    /* the function probes (not selecting) */
	struct exception_hooks hooks;  /* __cxa_throw, gopanic, ...: exceptions leaving calls */
	struct indirect_sink indirect; /* slots of the indirect jmps probed as exits */
	size_t found_from;             /* the first file the last discover added (nbins: none) */
};

static bool has_absolute_uprobe(const struct probe_spec *specs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (specs[i].kind == PROBE_UPROBE && specs[i].binary[0] == '/')
			return true;
	return false;
}

static int resolve(const struct source_env *env, void **state)
{
	const struct tracer_opts *o = env->opts;
	struct uprobe_source *s = calloc(1, sizeof(*s));
	int err;

	*state = s;
	if (!s)
		return -ENOMEM;
	err = probe_table__resolve(env->table, o->specs, o->nspecs, o->pid, o->wait && !o->list);
	if (err)
		return err;
	return env->table->nfuncs || env->table->pending;
}

static int apply_rules(void *state, const struct source_env *env)
{
	const struct tracer_opts *o = env->opts;
	int err;

	(void)state;
	err = probe_table__apply_rules(env->table, o->rules, o->nrules);
	if (err)
		return err;
	return probe_table__apply_args(env->table, o->arg_rules, o->narg_rules);
}

static void print_list(const void *state, const struct source_env *env, FILE *out)
{
	(void)state;
	probe_list__print(env->table, env->opts->verbose, out);
}

/* Whether a function's return may need the exit-site program (and its
 * throws the exception hooks): one resolved so, or files found later
 * (containers, processes chosen later, files not there yet), not known now. */
static bool may_need_exit_sites(const struct source_env *env)
{
	const struct probe_table *table = env->table;

	if (table->pending || env->selecting ||
	    has_absolute_uprobe(env->opts->specs, env->opts->nspecs))
		return true;
	for (size_t i = 0; i < table->nfuncs; i++)
		if (table->funcs[i].ret_probe == RETURN_EXIT_SITES)
			return true;
	return false;
}

/* Only the programs the configuration uses go to the verifier. */
static void configure(void *state, const struct source_env *env, struct stats_slots *slots)
{
	struct spanprobe_bpf *skel = env->skel;
	const struct tracer_opts *o = env->opts;
	const struct probe_table *table = env->table;
	bool absolute = has_absolute_uprobe(o->specs, o->nspecs);
	bool exits = may_need_exit_sites(env);
	size_t up = table->nfuncs;

	(void)state;
	if (env->target <= 0 && absolute)
		skel->rodata->watch_execs = true;
	if (env->multi) {
		bpf_program__set_expected_attach_type(skel->progs.span_enter, BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(skel->progs.span_exit, BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(skel->progs.span_exit_site, BPF_TRACE_UPROBE_MULTI);
	}
	if (!table->nfuncs && !table->pending) {
		bpf_program__set_autoload(skel->progs.span_enter, false);
		bpf_program__set_autoload(skel->progs.span_exit, false);
	}
	bpf_program__set_autoload(skel->progs.span_exit_site, exits);
	bpf_program__set_autoload(skel->progs.exception_hook, exits);
	skel->rodata->capture_args = probe_table__with_args(table) > 0 ||
				     (table->pending && o->narg_rules);
	if (table->pending || absolute)
		up += STATS_SPARE_SLOTS;
	if (up > SPAN_MAX_FUNCS)
		up = SPAN_MAX_FUNCS;
	slots->by_id = (uint32_t)up;
}

static int store_rules(const struct source_env *env, size_t first)
{
	const struct probe_table *table = env->table;
	struct spanprobe_bpf *skel = env->skel;

	for (uint32_t i = first; i < table->nfuncs; i++) {
		const struct traced_func *f = &table->funcs[i];
		int err = bpf_map__update_elem(skel->maps.func_rules, &i, sizeof(i), &f->rule,
					       sizeof(f->rule), 0);
		if (err) {
			fprintf(stderr, "spanprobe: can't store the rule of %s: %s\n", f->sym->name,
				strerror(-err));
			return err;
		}
		if (!f->args.spec.nargs)
			continue;
		err = bpf_map__update_elem(skel->maps.func_args, &i, sizeof(i), &f->args.spec,
					   sizeof(f->args.spec), 0);
		if (err) {
			fprintf(stderr, "spanprobe: can't store the arguments of %s: %s\n",
				f->sym->name, strerror(-err));
			return err;
		}
	}
	return 0;
}

static int store(void *state, const struct source_env *env)
{
	(void)state;
	return store_rules(env, 0);
}

/* The programs of the function probes; the indirect-jump slots are the
 * source's, shared by every attachment. */
static struct attach_progs progs_of(struct uprobe_source *s, const struct source_env *env)
{
	s->indirect.map_fd = bpf_map__fd(env->skel->maps.indirect_sites);
	return (struct attach_progs){
		.enter = env->skel->progs.span_enter,
		.exit = env->skel->progs.span_exit,
		.exit_site = env->skel->progs.span_exit_site,
		.indirect = &s->indirect,
	};
}

/* C++ throws, Rust and Go panics in the files whose returns are seen at
 * their exits (user/probes/exception_hooks.h). */
static int attach_exception_hooks(struct uprobe_source *s, const struct source_env *env, pid_t pid)
{
	return exception_hooks__attach(&s->hooks, env->table, env->skel->progs.exception_hook,
				       bpf_map__fd(env->skel->maps.hook_infos), pid,
				       env->opts->verbose || env->opts->dry_run);
}

static int attach(void *state, const struct source_env *env)
{
	struct uprobe_source *s = state;
	struct attach_progs progs = progs_of(s, env);
	int err;

	/* selecting: the hooks go into every process, filtered in the kernel
	 * by the chosen set, like the following probes */
	if (env->selecting)
		return attach_exception_hooks(s, env, -1);
	err = attach_probes(&s->attached, env->table, &progs, env->attach_pid, env->multi);
	if (!err)
		err = attach_exception_hooks(s, env, env->attach_pid);
	return err;
}

/* The functions whose probe is single-stepped, named once at start: each of
 * their calls shows several microseconds of the probe's own work (the tree
 * and lines outputs then mark the durations it dominates). */
static void say_single_stepped(const struct probe_table *table)
{
	struct probe_cost cost = { 0 };
	size_t n = 0;

	for (size_t i = 0; i < table->nfuncs; i++) {
		const struct traced_func *f = &table->funcs[i];

		struct entry_site entry;

		if (f->skip != SKIP_NONE)
			continue;
		entry_site__of(f, &entry);
		if (entry.cost != ATTACH_SINGLE_STEP)
			continue;
		if (!n++) {
			probe_cost__of(f, &cost);
			fprintf(stderr, "spanprobe: single-stepped probes (about %u us of each call is "
				"the probe's own work; spanprobe -l says why):", cost.overhead_ns / 1000);
		}
		if (n <= 8)
			fprintf(stderr, " %s", f->sym->name);
	}
	if (n > 8)
		fprintf(stderr, " and %zu more", n - 8);
	if (n)
		fputc('\n', stderr);
}

/* Selecting, attach_process leaves the skipped functions' line to its
 * caller: said once, for the processes chosen at the start. With -c,
 * nothing at start: stderr is the command's too. */
static void say_attached(const void *state, const struct source_env *env)
{
	(void)state;
	if (env->selecting)
		probe_list__print_skipped(stderr, env->table, NULL);
	if (!env->opts->cmd || env->opts->verbose)
		say_single_stepped(env->table);
}

static int attach_one_process(void *state, const struct source_env *env, pid_t pid,
			      struct attachment *into)
{
	struct attach_progs progs = progs_of(state, env);

	return attach_process(into, env->table, &progs, pid, env->multi);
}

/* A new file's functions go into every chosen process at once: one that
 * maps it later (a container's shell about to exec the binary its image
 * holds) gets the breakpoints as the kernel maps it, with no call missed
 * while spanprobe reads the exec. A chosen process keeps its function
 * links across an exec: they follow the process, not its image. */
static void attach_found(void *state, const struct source_env *env, pid_t pid,
			 struct attachment *into)
{
	const struct uprobe_source *s = state;

	for (size_t b = s->found_from; b < env->table->nbins; b++)
		attach_process_binary(into, env->table, env->table->bins[b], pid);
}

/* A process exec'd while watching for container paths: the probed files
 * its mount namespace holds that are not traced yet. */
static int discover(void *state, const struct source_env *env, pid_t pid, uint64_t start)
{
	struct uprobe_source *s = state;
	struct probe_table *table = env->table;
	size_t first_bin, first_func;
	int n, err;

	pthread_mutex_lock(env->table_lock);
	n = probe_table__discover(table, pid, start, &first_bin, &first_func);
	pthread_mutex_unlock(env->table_lock);
	s->found_from = n > 0 ? first_bin : table->nbins;
	if (n > 0) {
		err = store_rules(env, first_func);
		if (err)
			return err;
	}
	if (env->selecting || n <= 0)
		return 0; /* selecting: attach_found; else nothing new, or the process is gone */
	for (size_t i = first_bin; i < table->nbins; i++) {
		const struct traced_binary *b = table->bins[i];

		if (attach_binary(&s->attached, table, b, -1) == 0 &&
		    exception_hooks__attach_binary(&s->hooks, table, b, -1) == 0)
			fprintf(stderr, "spanprobe: tracing %s (%s, seen by process %d)\n", b->spec_name,
				b->path, pid);
	}
	return 0;
}

static void detach(void *state)
{
	struct uprobe_source *s = state;

	if (!s)
		return;
	attachment__destroy(&s->attached);
	exception_hooks__detach(&s->hooks);
}

static void source_free(void *state)
{
	struct uprobe_source *s = state;

	if (!s)
		return;
	detach(s);
	indirect_sink__release(&s->indirect);
	free(s);
}

const struct probe_source_ops uprobe_source = {
	.resolve = resolve,
	.apply_rules = apply_rules,
	.print_list = print_list,
	.configure = configure,
	.store = store,
	.attach = attach,
	.say_attached = say_attached,
	.attach_process = attach_one_process,
	.attach_found = attach_found,
	.discover = discover,
	.detach = detach,
	.free = source_free,
};
