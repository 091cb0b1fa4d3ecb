// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The Python source (python_source.h): each operation is python_probe.h's,
 * given what the tracer knows; and the "found" lines of the Python
 * functions the kernel side announces (REC_PY_FUNC). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "process_choice.h"
#include "object_load.h"
#include "python_probe.h"
#include "python_source.h"
#include "span_decode.h"
#include "span_record.h"
#include "spanprobe.skel.h"
#include "tracer.h"

/* Room in the statistics map for the Python functions found at run time. */
#define STATS_DYN_SLOTS 512

struct python_source {
	struct python_probe *probe; /* NULL: no python: probe */
	size_t found;               /* functions announced so far */
};

const struct python_probe *python_source__probe(const void *state)
{
	const struct python_source *s = state;

	return s ? s->probe : NULL;
}

static struct python_probe *probe_of(void *state)
{
	return state ? ((struct python_source *)state)->probe : NULL;
}

static int resolve(const struct source_env *env, void **state)
{
	const struct tracer_opts *o = env->opts;
	struct python_source *s = calloc(1, sizeof(*s));
	int err;

	*state = s;
	if (!s)
		return -ENOMEM;
	err = python_probe__resolve(o->specs, o->nspecs, o->pid, o->wait && !o->list,
				    o->verbose || o->dry_run, o->list, &s->probe);
	if (err)
		return err;
	return s->probe != NULL;
}

static void print_list(const void *state, const struct source_env *env, FILE *out)
{
	python_probe__print_list(python_source__probe(state), env->opts->verbose, out);
}

/* With no python: probe, its programs stay out of the kernel; a refused
 * session program: the evaluator's other return methods instead. */
static void configure(void *state, const struct source_env *env, struct stats_slots *slots)
{
	struct python_probe *p = probe_of(state);

	if (env->target <= 0 && python_probe__watches_execs(p))
		env->skel->rodata->watch_execs = true;
	python_probe__configure(p, env->skel, env->multi,
				object_load__was_refused(env->load, "py_eval_session"));
	slots->dynamic = p ? STATS_DYN_SLOTS : 0;
}

static int store(void *state, const struct source_env *env)
{
	return python_probe__store(probe_of(state), env->skel);
}

/* Selecting, the probes go into the chosen processes one by one
 * (attach_process). */
static int attach(void *state, const struct source_env *env)
{
	struct python_probe *p = probe_of(state);
	int err;

	if (env->selecting) {
		python_probe__select(p, env->skel);
	} else if (p) {
		err = python_probe__attach(p, env->skel, env->attach_pid, env->target);
		if (err)
			return err;
	}
	if (p && (env->opts->verbose || env->opts->dry_run))
		python_probe__describe(p, stderr);
	return 0;
}

static void say_tracing(const void *state, FILE *to)
{
	python_probe__say_paths(python_source__probe(state), to);
}

static int attach_one_process(void *state, const struct source_env *env, pid_t pid,
			      struct attachment *into)
{
	(void)env;
	return python_probe__attach_process(probe_of(state), pid, into);
}

/* Inlining goes back on in pid first, unless it exec'd. */
static void release_process(void *state, pid_t pid, bool exec)
{
	python_probe__release_process(probe_of(state), pid, exec);
}

/* CPython's inlining off before the start is over (and the ready file
 * says so): a worker's calls would otherwise run inlined and unseen until
 * its evaluator reported it. */
static void hook_process(void *state, pid_t pid)
{
	python_probe__hook_process(probe_of(state), pid);
}

static int discover(void *state, const struct source_env *env, pid_t pid, uint64_t start)
{
	python_probe__discover(probe_of(state), env->skel, pid, start, stderr);
	return 0;
}

/* CPython 3.11+ running inlined in a traced process: turn that off (with
 * selection, not in one unchosen since it reported). */
static void control(void *state, const struct source_env *env, const struct control_event *ev)
{
	if (ev->kind != REC_PY_UNHOOKED)
		return;
	if (!env->selecting || process_choice__chosen(env->choice, ev->pid))
		python_probe__on_unhooked(probe_of(state), ev->pid);
}

/* "found" lines for each of the first Python functions, then at each
 * power of ten (all of them with -v), so a glob matching thousands does not
 * flood. */
static void announced(void *state, const struct source_env *env, const struct record_header *h)
{
	const struct py_func_record *r = (const struct py_func_record *)h;
	struct python_source *s = state;
	char name[PY_NAME_LEN + 1], where[PY_FILE_LEN + 16];
	size_t n;

	if (h->kind != REC_PY_FUNC)
		return;
	n = ++s->found;
	if (!env->opts->verbose && n > 10 && n != 100 && n != 1000 && n != 10000 && n != 100000)
		return;
	if (!span_decoder__dyn_name(env->decoder, r->func_id, name, sizeof(name), where,
				    sizeof(where)))
		return;
	fprintf(stderr, "spanprobe: python: tracing %s (%s, process %u); %zu Python function%s "
		"found so far\n", name, where, r->pid, n, n == 1 ? "" : "s");
}

/* Inlining back on first, while the program is still traced. */
static void detach(void *state)
{
	python_probe__detach(probe_of(state));
}

static void source_free(void *state)
{
	struct python_source *s = state;

	if (!s)
		return;
	python_probe__free(s->probe);
	free(s);
}

const struct probe_source_ops python_source = {
	.probes_of_image = true,
	.start_note = " and Python functions as they are found",
	.resolve = resolve,
	.print_list = print_list,
	.configure = configure,
	.store = store,
	.attach = attach,
	.say_tracing = say_tracing,
	.attach_process = attach_one_process,
	.release_process = release_process,
	.hook_process = hook_process,
	.discover = discover,
	.control = control,
	.announced = announced,
	.detach = detach,
	.free = source_free,
};
