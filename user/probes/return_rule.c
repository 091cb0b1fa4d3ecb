// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The rule that picks, per function, how its return is seen.
 *
 * A uretprobe costs ~0.5 us a return, but the kernel swaps the return
 * address on the stack for its trampoline, and whatever walks the stack
 * meets an address it does not know:
 *  - C++ and Rust unwinders find no unwind info for it and terminate the
 *    program (an exception through a traced call: exit 134);
 *  - Go's runtime copies goroutine stacks as they grow and walks them (GC,
 *    preemption, tracebacks): "unexpected return pc", a fatal error;
 *  - a function returning twice (setjmp, getcontext) saves the swapped
 *    address and its second return lands in the trampoline with no return
 *    pending, and a vfork child returns on its parent's stack: the kernel
 *    then kills the process with SIGILL ("failed to handle uretprobe").
 * Exit sites (uprobes on the function's ret and tail-jump instructions)
 * leave the address alone. A ret is never emulated by the kernel: it is
 * single-stepped, ~4-16 us (bench/results.md); a direct tail jmp is
 * emulated (cheap). So exit sites only where a uretprobe would harm:
 *  - every function of a Go file;
 *  - every function of a C++ or Rust file (and of a file with landing pads
 *    but no symbols to tell its language) that calls or jumps anywhere: a
 *    leaf (no call, no jump out) can't be unwound through, so it keeps the
 *    cheaper uretprobe;
 *  - the functions that return twice or in a vfork child, in any file;
 * and uretprobes for the rest. --return-probes overrides it for every
 * function. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "exit_sites.h"
#include "return_rule.h"

/* glibc's names (and their public aliases): setjmp family, ucontext,
 * vfork and the clone/posix_spawn paths that run a CLONE_VM child. */
static const char *const returns_twice_globs[] = {
	"setjmp", "_setjmp", "__setjmp", "sigsetjmp", "__sigsetjmp", "__sigsetjmp_cancel",
	"getcontext", "__getcontext", "swapcontext", "__swapcontext", "savectx",
	"vfork", "__vfork", "__libc_vfork",
	"clone", "clone3", "__clone*",
	"posix_spawn", "posix_spawnp", "__posix_spawn*", "__spawni", "__spawnix", "__spawni_child",
};

static bool name_returns_twice(const char *name)
{
	for (size_t i = 0; i < sizeof(returns_twice_globs) / sizeof(returns_twice_globs[0]); i++)
		if (name && fnmatch(returns_twice_globs[i], name, 0) == 0)
			return true;
	return false;
}

bool return_rule__returns_twice(const struct func_symbol *sym)
{
	if (name_returns_twice(sym->linkage_name) || name_returns_twice(sym->name))
		return true;
	for (size_t i = 0; i < sym->naliases; i++)
		if (name_returns_twice(sym->aliases[i]))
			return true;
	return false;
}

bool go_version_at_least(const char *version, int major, int minor)
{
	int ma = 0, mi = 0;

	if (!version || sscanf(version, "go%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

int return_choice__parse(const char *s, enum return_choice *out)
{
	if (strcmp(s, "auto") == 0)
		*out = RETURNS_AUTO;
	else if (strcmp(s, "uretprobe") == 0)
		*out = RETURNS_URETPROBE;
	else if (strcmp(s, "exits") == 0)
		*out = RETURNS_EXITS;
	else
		return -EINVAL;
	return 0;
}

static bool is_leaf(const struct func_exits *x)
{
	return x->known && x->ncalls == 0 && x->ntails == 0;
}

/* A site the kernel refuses to probe: a notrack jmp is a jump table's
 * dispatch (gcc marks only those), so no exit; anything else makes the
 * exits unprobeable. */
static bool refused_exit(const struct exit_site *s, bool indirect)
{
	return s->cost == ATTACH_UNPROBEABLE && !indirect;
}

static bool exits_probeable(const struct func_exits *x)
{
	for (size_t i = 0; i < x->nrets; i++)
		if (refused_exit(&x->rets[i], false))
			return false;
	for (size_t i = 0; i < x->ntails; i++)
		if (refused_exit(&x->tails[i], x->tails[i].kind == EXIT_INDIRECT_JMP))
			return false;
	return true;
}

static void choose_auto(struct traced_func *f)
{
	const struct func_symbol *s = f->sym;

	if (return_rule__returns_twice(s)) {
		f->ret_probe = RETURN_EXIT_SITES;
		f->ret_why = "returns twice or in a vfork child: a uretprobe gets it killed";
		return;
	}
	switch (f->bin->lang) {
	case LANG_GO:
		f->ret_probe = RETURN_EXIT_SITES;
		f->ret_why = "Go: the runtime copies and walks goroutine stacks";
		return;
	case LANG_CXX:
	case LANG_RUST:
	case LANG_UNKNOWN_EH:
		if (is_leaf(&s->exits)) {
			f->ret_probe = RETURN_URETPROBE;
			f->ret_why = f->bin->lang == LANG_CXX ? "C++ leaf: nothing unwinds through it"
				   : f->bin->lang == LANG_RUST ? "Rust leaf: nothing unwinds through it"
							       : "leaf: nothing unwinds through it";
			return;
		}
		f->ret_probe = RETURN_EXIT_SITES;
		f->ret_why = f->bin->lang == LANG_CXX ? "C++: exceptions unwind through it"
			   : f->bin->lang == LANG_RUST ? "Rust: panics unwind through it"
						       : "landing pads in a file without symbols";
		return;
	case LANG_C:
		break;
	}
	f->ret_probe = RETURN_URETPROBE;
	f->ret_why = "C: nothing unwinds through it";
}

void return_rule__choose(enum return_choice choice, struct traced_func *f)
{
	if (f->skip != SKIP_NONE)
		return;
	switch (choice) {
	case RETURNS_URETPROBE:
		f->ret_probe = RETURN_URETPROBE;
		f->ret_why = "--return-probes uretprobe";
		return; /* the user's call, also for Go and C++ */
	case RETURNS_EXITS:
		f->ret_probe = RETURN_EXIT_SITES;
		f->ret_why = "--return-probes exits";
		break;
	case RETURNS_AUTO:
		choose_auto(f);
		break;
	}
	if (f->ret_probe == RETURN_EXIT_SITES &&
	    (!f->sym->exits.known || !exits_probeable(&f->sym->exits) ||
	     !exit_sites__decodable(f)))
		f->skip = SKIP_EXITS_UNKNOWN;
}
