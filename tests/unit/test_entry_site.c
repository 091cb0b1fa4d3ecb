// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Where a traced function's entry probe goes (user/probes/entry_site.c):
 * the cheaper site its code offers unless its uretprobe needs sp on the
 * return address, the site is one of its exits, an --arg reads a register
 * the skipped instructions overwrite, or (Go) they write r14; and the sp
 * correction in the entry cookie. */
#include <string.h>

#include "entry_site.h"
#include "probe_cookie.h"
#include "probe_table.h"
#include "unit.h"

#define FILE_OFF 0x1000
#define SITE_OFF 0x1009

static void test_rule(void)
{
	static const struct {
		const char *what;
		enum return_probe ret;
		uint32_t sp_delta;
		uint16_t clobbered;   /* bits: rax=0 ... r15=15 */
		int arg_reg;          /* --arg register (0 rdi .. 5 r9), or -1 */
		bool go;
		bool site_is_exit;
		bool moved;
	} cases[] = {
		{ "uretprobe, sp untouched", RETURN_URETPROBE, 0, 1u << 0, -1, false, false, true },
		{ "uretprobe, sp moved: the return address is not at sp", RETURN_URETPROBE, 0x48, 0,
		  -1, false, false, false },
		{ "exit sites, sp moved: given back", RETURN_EXIT_SITES, 0x48, 0, -1, false, false,
		  true },
		{ "--arg arg0 (rdi), rdi overwritten", RETURN_URETPROBE, 0, 1u << 7, 0, false, false,
		  false },
		{ "--arg arg2 (rdx), rax overwritten", RETURN_URETPROBE, 0, 1u << 0, 2, false, false,
		  true },
		{ "--arg arg4 (r8), r8 overwritten", RETURN_URETPROBE, 0, 1u << 8, 4, false, false,
		  false },
		{ "Go, r12 written (lea; cmp; jbe)", RETURN_EXIT_SITES, 0, 1u << 12, -1, true, false,
		  true },
		{ "Go, r14 (g) written", RETURN_EXIT_SITES, 0, 1u << 14, -1, true, false, false },
		{ "exit sites, the site is a tail jmp out", RETURN_EXIT_SITES, 0, 0, -1, false, true,
		  false },
		{ "uretprobe, the site is a tail jmp out", RETURN_URETPROBE, 0, 0, -1, false, true,
		  true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct traced_binary bin = { .go_regabi = cases[i].go };
		struct exit_site tail = { .file_offset = SITE_OFF, .kind = EXIT_TAIL_JMP };
		struct func_symbol sym = {
			.file_offset = FILE_OFF, .attach_offset = FILE_OFF,
			.cost = ATTACH_SINGLE_STEP, .cost_reason = "first instruction single-stepped",
			.body = { .found = true, .file_offset = SITE_OFF, .cost = ATTACH_EMULATED,
				  .sp_delta = cases[i].sp_delta, .clobbered = cases[i].clobbered,
				  .nskipped = 2, .site_insn = "jcc" },
		};
		struct traced_func f = { .id = 7, .bin = &bin, .sym = &sym, .ret_probe = cases[i].ret };
		struct entry_site e;
		uint64_t cookie;

		if (cases[i].site_is_exit) {
			sym.exits.known = true;
			sym.exits.tails = &tail;
			sym.exits.ntails = 1;
		}
		if (cases[i].arg_reg >= 0) {
			f.args.spec.nargs = 1;
			f.args.spec.slot[0].reg = (uint8_t)cases[i].arg_reg;
		}
		entry_site__of(&f, &e);
		cookie = entry_site__cookie(&f);
		if (e.moved != cases[i].moved) {
			printf("  %s: moved %d, want %d (%s)\n", cases[i].what, e.moved, cases[i].moved,
			       e.why_not ? e.why_not : "");
			unit_failed_checks++;
		}
		CHECK_INT(e.offset, cases[i].moved ? SITE_OFF : FILE_OFF);
		CHECK_INT(e.code_start, FILE_OFF);
		CHECK_INT(e.cost, cases[i].moved ? ATTACH_EMULATED : ATTACH_SINGLE_STEP);
		CHECK_INT(e.sp_delta, cases[i].moved ? cases[i].sp_delta : 0);
		CHECK(cases[i].moved ? e.why != NULL : e.why_not != NULL);
		CHECK_INT(cookie & COOKIE_FUNC_MASK, 7);
		CHECK_INT((cookie >> COOKIE_SP_SHIFT) & COOKIE_SP_MASK, e.sp_delta);
		CHECK_INT(!!(cookie & COOKIE_GO), cases[i].go);
	}
}

/* No cheaper site: the entry as before, with the reason kept for -l -v. */
static void test_no_body_site(void)
{
	struct traced_binary bin = { 0 };
	struct func_symbol sym = {
		.file_offset = FILE_OFF, .attach_offset = FILE_OFF + 4, .skipped_endbr64 = true,
		.cost = ATTACH_EMULATED, .cost_reason = "endbr64 then push",
		.body = { .found = true, .file_offset = FILE_OFF + 4, .cost = ATTACH_EMULATED },
	};
	struct traced_func f = { .id = 1, .bin = &bin, .sym = &sym };
	struct entry_site e;

	entry_site__of(&f, &e);
	CHECK(!e.moved && e.offset == FILE_OFF + 4 && e.why_not == NULL);
	CHECK_INT(e.code_start, FILE_OFF);
	CHECK_STR(e.why, "endbr64 then push");
	sym.cost = ATTACH_SINGLE_STEP;
	sym.attach_offset = FILE_OFF;
	sym.body = (struct body_entry){ .found = false, .reason = "it returns (or traps) first" };
	entry_site__of(&f, &e);
	CHECK(!e.moved && e.offset == FILE_OFF && e.cost == ATTACH_SINGLE_STEP);
	CHECK_STR(e.why_not, "it returns (or traps) first");
	CHECK_INT(entry_site__cookie(&f) >> COOKIE_SP_SHIFT, 0);
	/* a refused first instruction: left out, never moved */
	sym.cost = ATTACH_UNPROBEABLE;
	sym.skip = SKIP_REFUSED_INSN;
	sym.body = (struct body_entry){ .found = true, .file_offset = SITE_OFF,
					.cost = ATTACH_EMULATED };
	entry_site__of(&f, &e);
	CHECK(!e.moved && e.offset == FILE_OFF && e.cost == ATTACH_UNPROBEABLE);
}

int main(void)
{
	unit_prog = "entry_site";
	RUN(test_rule);
	RUN(test_no_body_site);
	return unit_exit();
}
