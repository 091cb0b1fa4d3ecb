// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* One object holds every program; libbpf loads it whole or not at all. A
 * kernel may still refuse one program (this one refuses every
 * iter/bpf_map_elem program with EPERM; an older one lacks a helper), and
 * a refused program that serves an optional feature must not take the
 * tracer down: the load is tried again without it, the feature off, said
 * in one line. The table below is the list ARCHITECTURE.md shows. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "object_load.h"

struct prog_feature {
	const char *prog;
	const char *feature;
	const char *without; /* NULL: a core program, the tracer can't run without it */
};

static const struct prog_feature features[] = {
	{ "span_enter", "function entries", NULL },
	{ "span_exit", "function returns", NULL },
	{ "span_exit_site", "returns seen at exit instructions (Go, C++ that calls out, tail calls)",
	  "functions that need them are not traced" },
	{ "exception_hook", "C++ throws, Rust and Go panics",
	  "a span a throw or panic leaves ends at the next traced return, without error status" },
	{ "process_fork", "following forked processes",
	  "processes forked after the start are not traced" },
	{ "thread_exit", "thread exits",
	  "calls open when their thread exits are sent only when tracing stops" },
	{ "process_exec", "execs",
	  "calls open across an exec stay open; binaries of new containers are not found" },
	{ "open_calls_at_stop", "calls open at the stop",
	  "calls still running when tracing stops are not sent; their children point at a parent "
	  "never sent" },
	{ "py_entry", "Python through USDT", "Python with USDT probes is not traced" },
	{ "py_return", "Python through USDT", "Python with USDT probes is not traced" },
	{ "py_line_semaphore", "Python through USDT", "Python with USDT probes is not traced" },
	{ "py_eval_entry", "Python through the evaluator",
	  "Python without USDT probes is not traced" },
	{ "py_eval_ret_insn", "Python through the evaluator",
	  "Python without USDT probes is not traced" },
	{ "py_eval_return", "Python through the evaluator",
	  "Python without USDT probes is not traced" },
	{ "py_eval_session", "uprobe sessions for Python's evaluator",
	  "untraced Python calls pay a return probe too (return instructions or uretprobes)" },
	{ "py_code_dealloc", "code objects' frees for Python's evaluator",
	  "every Python call also reads its code object's names (about 0.1 us more)" },
};

static const struct prog_feature *feature_of(const char *prog)
{
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++)
		if (strcmp(features[i].prog, prog) == 0)
			return &features[i];
	return NULL;
}

/* Enough for the statistics (log level 4) and the few lines of a refusal;
 * too small a buffer would make the kernel refuse the load itself. */
#define PROG_LOG_SIZE (64 * 1024)

struct prog_log {
	char name[64];
	char *buf;
};

bool object_load__was_refused(const struct object_load *l, const char *prog)
{
	for (size_t i = 0; i < l->nrefused; i++)
		if (strcmp(l->refused[i], prog) == 0)
			return true;
	return false;
}

static void free_logs(struct object_load *l)
{
	for (size_t i = 0; i < l->nlogs; i++)
		free(l->logs[i].buf);
	free(l->logs);
	l->logs = NULL;
	l->nlogs = 0;
}

/* Is name one of the comma-separated list's entries? */
static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

int object_load__prepare(struct object_load *l, struct bpf_object *obj)
{
	struct bpf_program *prog;
	size_t n = 0;

	free_logs(l);
	l->failed[0] = '\0';
	bpf_object__for_each_program(prog, obj)
		n++;
	l->logs = calloc(n ?: 1, sizeof(*l->logs));
	if (!l->logs)
		return -ENOMEM;
	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		struct prog_log *log;

		if (object_load__was_refused(l, name))
			bpf_program__set_autoload(prog, false);
		if (!bpf_program__autoload(prog))
			continue;
		/* flags no kernel knows: the kernel itself refuses the program */
		if (in_list(l->test_refuse, name))
			bpf_program__set_flags(prog, bpf_program__flags(prog) | (1U << 31));
		log = &l->logs[l->nlogs];
		log->buf = calloc(1, PROG_LOG_SIZE);
		if (!log->buf)
			return -ENOMEM;
		snprintf(log->name, sizeof(log->name), "%s", name);
		l->nlogs++;
		bpf_program__set_log_buf(prog, log->buf, PROG_LOG_SIZE);
		bpf_program__set_log_level(prog, 4); /* statistics only */
	}
	return 0;
}

/* libbpf's messages during a try: held back (its warnings shown with -v,
 * else replaced by our one line), the refused program's name kept. */
static struct object_load *trying;
static libbpf_print_fn_t outer_print;

static int hold_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char line[512];
	const char *q;
	va_list copy;

	va_copy(copy, args);
	vsnprintf(line, sizeof(line), fmt, copy);
	va_end(copy);
	/* "libbpf: prog 'NAME': BPF program load failed: ..." or "failed to load" */
	if (trying && !trying->failed[0] && (q = strstr(line, "prog '")) &&
	    (strstr(line, "load failed") || strstr(line, "failed to load"))) {
		const char *end = strchr(q + 6, '\'');

		if (end && (size_t)(end - q - 6) < sizeof(trying->failed))
			snprintf(trying->failed, sizeof(trying->failed), "%.*s", (int)(end - q - 6),
				 q + 6);
	}
	if (!trying || !trying->verbose || !outer_print)
		return 0;
	return outer_print(level, fmt, args);
}

int object_load__try(struct object_load *l, int (*load_fn)(void *), void *obj_ctx)
{
	int err;

	trying = l;
	outer_print = libbpf_set_print(hold_print);
	err = load_fn(obj_ctx);
	libbpf_set_print(outer_print);
	trying = NULL;
	return err;
}

static const char *log_of(const struct object_load *l, const char *prog)
{
	for (size_t i = 0; i < l->nlogs; i++)
		if (strcmp(l->logs[i].name, prog) == 0)
			return l->logs[i].buf;
	return NULL;
}

/* The verifier's last line that says something: not its statistics. */
static void last_line(const char *log, char *out, size_t size)
{
	const char *end, *start;

	snprintf(out, size, "nothing");
	if (!log)
		return;
	end = log + strlen(log);
	while (end > log) {
		while (end > log && (end[-1] == '\n' || end[-1] == ' '))
			end--;
		start = end;
		while (start > log && start[-1] != '\n')
			start--;
		if (end > start && strncmp(start, "processed ", 10) != 0 &&
		    strncmp(start, "verification time", 17) != 0 &&
		    strncmp(start, "stack depth", 11) != 0) {
			snprintf(out, size, "%.*s", (int)(end - start), start);
			return;
		}
		end = start;
	}
}

bool object_load__refusal(struct object_load *l, int err)
{
	const struct prog_feature *f = l->failed[0] ? feature_of(l->failed) : NULL;
	char why[256];

	if (!l->failed[0])
		return false; /* not a program (a map, BTF, memory): tracer.c says it */
	last_line(log_of(l, l->failed), why, sizeof(why));
	if (f && f->without && l->nrefused < OBJECT_LOAD_MAX_REFUSED) {
		fprintf(stderr, "spanprobe: %s off: the kernel refused program %s (%s; the verifier "
			"said: %s); %s\n",
			f->feature, l->failed, strerror(-err), why, f->without);
		snprintf(l->refused[l->nrefused++], sizeof(l->refused[0]), "%s", l->failed);
		return true;
	}
	fprintf(stderr, "spanprobe: the kernel refused program %s (%s, which spanprobe can't run "
		"without): %s; the verifier's last line: %s (-v shows libbpf's log)\n", l->failed,
		f ? f->feature : "tracing", strerror(-err), why);
	return false;
}

/* "processed N insns (limit ..) max_states_per_insn M total_states T
 * peak_states P mark_read R" and "verification time U usec". */
static void print_cost(const char *name, const char *log, FILE *out)
{
	unsigned long insns = 0, total = 0, peak = 0, usec = 0;
	char stack[64] = "?";
	const char *p;

	if ((p = strstr(log, "processed ")))
		sscanf(p, "processed %lu insns", &insns);
	if ((p = strstr(log, "total_states ")))
		sscanf(p, "total_states %lu", &total);
	if ((p = strstr(log, "peak_states ")))
		sscanf(p, "peak_states %lu", &peak);
	if ((p = strstr(log, "verification time ")))
		sscanf(p, "verification time %lu usec", &usec);
	/* "stack depth 120+48+0": each frame's bytes, which every state copies */
	if ((p = strstr(log, "stack depth ")))
		sscanf(p, "stack depth %63s", stack);
	fprintf(out, "spanprobe:   %-20s %8lu insns %7lu states (peak %6lu) %7.1f ms, stack %s\n",
		name, insns, total, peak, usec / 1e3, stack);
}

void object_load__print_costs(const struct object_load *l, struct bpf_object *obj, FILE *out)
{
	struct bpf_program *prog;

	fprintf(out, "spanprobe: the verifier's work per program:\n");
	bpf_object__for_each_program(prog, obj) {
		const char *log = log_of(l, bpf_program__name(prog));

		if (bpf_program__fd(prog) >= 0 && log)
			print_cost(bpf_program__name(prog), log, out);
	}
}

void object_load__release(struct object_load *l)
{
	free_logs(l);
}
