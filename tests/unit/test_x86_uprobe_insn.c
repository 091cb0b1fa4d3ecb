// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* user/elf/x86_uprobe_insn.c: the kernel's verdict on a uprobe at one
 * instruction, and the entry point chosen for a function, by kernel
 * version. The verdicts for the running kernel are checked against the
 * kernel itself in tests/integration/elf_libc.sh. */
#include <stdlib.h>
#include <string.h>

#include "x86_uprobe_insn.h"
#include "unit.h"

#define MAX_CODE 16

static struct x86_decoder *decoder_for(const char *release)
{
	struct uprobe_rules rules;
	struct x86_decoder *d = NULL;

	uprobe_rules__for_release(release, &rules);
	CHECK_INT(x86_decoder__new(&rules, &d), 0);
	return d;
}

static void test_rules_for_release(void)
{
	static const struct {
		const char *release;
		bool nop_patterns, nop5;
	} cases[] = {
		{ "6.18.44-fc-v669", true, true },
		{ "6.18", true, true },
		{ "7.0.1", true, true },
		{ "6.16.2", true, false },
		{ "6.12.9-amd64", false, false },
		{ "6.1.0-31-amd64", false, false },
		{ "5.15.0", false, false },
		{ "", false, false },
		{ "linux", false, false },
		{ "6", false, false },
		{ NULL, false, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct uprobe_rules r;

		uprobe_rules__for_release(cases[i].release, &r);
		if (r.nop_patterns != cases[i].nop_patterns || r.nop5_optimized != cases[i].nop5) {
			printf("  %s: nop_patterns=%d nop5=%d\n", cases[i].release ? cases[i].release : "NULL",
			       r.nop_patterns, r.nop5_optimized);
			unit_failed_checks++;
		}
	}
	CHECK(uprobe_rules__running() != NULL);
}

/* One instruction, as 6.18 judges it. */
static void test_insn_verdicts(void)
{
	static const struct {
		const char *what;
		uint8_t code[MAX_CODE];
		size_t n;
		uint64_t off;
		enum attach_cost cost;
		enum insn_kind kind;
		uint8_t len;
	} cases[] = {
		{ "push %rbp", { 0x55 }, 1, 0, ATTACH_EMULATED, INSN_OTHER, 1 },
		{ "push %r12", { 0x41, 0x54 }, 2, 0, ATTACH_EMULATED, INSN_OTHER, 2 },
		{ "pushw %ax (66 50)", { 0x66, 0x50 }, 2, 0, ATTACH_SINGLE_STEP, INSN_OTHER, 2 },
		{ "nop", { 0x90 }, 1, 0, ATTACH_EMULATED, INSN_OTHER, 1 },
		{ "pause (f3 90)", { 0xf3, 0x90 }, 2, 0, ATTACH_EMULATED, INSN_OTHER, 2 },
		{ "xchg %eax,%r8d (41 90)", { 0x41, 0x90 }, 2, 0, ATTACH_UNPROBEABLE, INSN_OTHER, 2 },
		{ "nopl (%rax)", { 0x0f, 0x1f, 0x00 }, 3, 0, ATTACH_EMULATED, INSN_OTHER, 3 },
		{ "nopl 0(%rax) /1", { 0x0f, 0x1f, 0x48, 0x00 }, 4, 0, ATTACH_SINGLE_STEP, INSN_OTHER, 4 },
		{ "nop5", { 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 5, 0x1000, ATTACH_NOP5, INSN_OTHER, 5 },
		{ "nop5 across a page", { 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 5, 0x1ffd, ATTACH_EMULATED,
		  INSN_OTHER, 5 },
		{ "nopw 6", { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 6, 0, ATTACH_EMULATED, INSN_OTHER, 6 },
		{ "cs nopw (padding)", { 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0 }, 10, 0,
		  ATTACH_UNPROBEABLE, INSN_OTHER, 10 },
		{ "lock decl (%rdi)", { 0xf0, 0xff, 0x0f }, 3, 0, ATTACH_UNPROBEABLE, INSN_OTHER, 3 },
		{ "notrack jmp *%rax", { 0x3e, 0xff, 0xe0 }, 3, 0, ATTACH_UNPROBEABLE,
		  INSN_JMP_INDIRECT, 3 },
		{ "jmp *%rax", { 0xff, 0xe0 }, 2, 0, ATTACH_SINGLE_STEP, INSN_JMP_INDIRECT, 2 },
		{ "jmp rel32", { 0xe9, 1, 0, 0, 0 }, 5, 0, ATTACH_EMULATED, INSN_JMP, 5 },
		{ "jmp rel8", { 0xeb, 0x10 }, 2, 0, ATTACH_EMULATED, INSN_JMP, 2 },
		{ "jmpw (66 e9)", { 0x66, 0xe9, 1, 0 }, 4, 0, ATTACH_UNPROBEABLE, INSN_JMP, 4 },
		{ "je rel32", { 0x0f, 0x84, 0, 0, 0, 0 }, 6, 0, ATTACH_EMULATED, INSN_JCC, 6 },
		{ "jne rel8", { 0x75, 0x02 }, 2, 0, ATTACH_EMULATED, INSN_JCC, 2 },
		{ "call rel32", { 0xe8, 0, 0, 0, 0 }, 5, 0, ATTACH_EMULATED, INSN_CALL, 5 },
		{ "ret", { 0xc3 }, 1, 0, ATTACH_SINGLE_STEP, INSN_RET, 1 },
		{ "rep ret", { 0xf3, 0xc3 }, 2, 0, ATTACH_SINGLE_STEP, INSN_RET, 2 },
		{ "ret $8", { 0xc2, 0x08, 0x00 }, 3, 0, ATTACH_SINGLE_STEP, INSN_RET, 3 },
		{ "mov %rdi,%rax", { 0x48, 0x89, 0xf8 }, 3, 0, ATTACH_SINGLE_STEP, INSN_OTHER, 3 },
		{ "syscall", { 0x0f, 0x05 }, 2, 0, ATTACH_SINGLE_STEP, INSN_OTHER, 2 },
		{ "endbr64", { 0xf3, 0x0f, 0x1e, 0xfa }, 4, 0, ATTACH_SINGLE_STEP, INSN_ENDBR64, 4 },
		{ "int3", { 0xcc }, 1, 0, ATTACH_UNPROBEABLE, INSN_TRAP, 1 },
		{ "hlt", { 0xf4 }, 1, 0, ATTACH_UNPROBEABLE, INSN_TRAP, 1 },
		{ "mov %eax,%ss", { 0x8e, 0xd0 }, 2, 0, ATTACH_UNPROBEABLE, INSN_OTHER, 2 },
		{ "vmovdqu (VEX 6f)", { 0xc5, 0xfe, 0x6f, 0x06 }, 4, 0, ATTACH_UNPROBEABLE, INSN_OTHER, 4 },
		{ "vpbroadcastb (EVEX 7a: a jp to the kernel)", { 0x62, 0xe2, 0x7d, 0x28, 0x7a, 0xce }, 6, 0,
		  ATTACH_UNPROBEABLE, INSN_OTHER, 6 },
		{ "vpxor (VEX ef)", { 0xc5, 0xf9, 0xef, 0xc0 }, 4, 0, ATTACH_UNPROBEABLE, INSN_OTHER, 4 },
		{ "vmovd (VEX 6e)", { 0xc5, 0xf9, 0x6e, 0xc6 }, 4, 0, ATTACH_UNPROBEABLE, INSN_OTHER, 4 },
		{ "vzeroupper (VEX 77: a ja to the kernel)", { 0xc5, 0xf8, 0x77 }, 3, 0,
		  ATTACH_UNPROBEABLE, INSN_OTHER, 3 },
		{ "vmovmskps (VEX 50: too long for push emulation)", { 0xc5, 0xf8, 0x50, 0xc0 }, 4, 0,
		  ATTACH_SINGLE_STEP, INSN_OTHER, 4 },
		{ "vpcmpeqb (VEX 74: a je to the kernel)", { 0xc5, 0xfd, 0x74, 0x0f }, 4, 0,
		  ATTACH_UNPROBEABLE, INSN_OTHER, 4 },
		{ "vmovaps (VEX 28)", { 0xc5, 0xf8, 0x28, 0xc1 }, 4, 0, ATTACH_SINGLE_STEP, INSN_OTHER, 4 },
		{ "cut short", { 0x0f, 0x1f, 0x44, 0x00 }, 4, 0, ATTACH_UNPROBEABLE, INSN_OTHER, 0 },
		{ "invalid in 64-bit (06)", { 0x06 }, 1, 0, ATTACH_UNPROBEABLE, INSN_OTHER, 0 },
		{ "nothing", { 0 }, 0, 0, ATTACH_UNPROBEABLE, INSN_OTHER, 0 },
	};
	struct x86_decoder *d = decoder_for("6.18.0");

	for (size_t i = 0; d && i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct insn_probe p;

		x86_decoder__classify(d, cases[i].code, cases[i].n, 0x401000, cases[i].off, &p);
		if (p.cost != cases[i].cost || p.kind != cases[i].kind || p.len != cases[i].len) {
			printf("  %s: got %s kind=%d len=%d (%s), want %s kind=%d len=%d\n", cases[i].what,
			       attach_cost__name(p.cost), p.kind, p.len, p.reason,
			       attach_cost__name(cases[i].cost), cases[i].kind, cases[i].len);
			unit_failed_checks++;
		}
		CHECK(p.reason && *p.reason);
	}
	x86_decoder__free(d);
}

/* Branch targets come out absolute. */
static void test_branch_targets(void)
{
	static const uint8_t jmp[] = { 0xe9, 0x10, 0x00, 0x00, 0x00 };
	static const uint8_t jcc[] = { 0x74, 0xfe };
	struct x86_decoder *d = decoder_for("6.18.0");
	struct insn_probe p;

	if (!d)
		return;
	x86_decoder__classify(d, jmp, sizeof(jmp), 0x1000, 0x1000, &p);
	CHECK_INT(p.target, 0x1015);
	x86_decoder__classify(d, jcc, sizeof(jcc), 0x2000, 0x2000, &p);
	CHECK_INT(p.kind, INSN_JCC);
	CHECK_INT(p.target, 0x2000);
	x86_decoder__free(d);
}

/* The entry point and cost of a function, by kernel version. */
static void test_entry_choice(void)
{
	static const struct {
		const char *what, *release;
		uint8_t code[8];
		size_t n;
		enum attach_cost cost;
		bool skip;
		enum skip_reason why;
	} cases[] = {
		{ "push %rbp", "6.18", { 0x55, 0x48, 0x89, 0xe5 }, 4, ATTACH_EMULATED, false, SKIP_NONE },
		{ "push %rbx", "6.18", { 0x53 }, 1, ATTACH_EMULATED, false, SKIP_NONE },
		{ "push %r15", "6.18", { 0x41, 0x57 }, 2, ATTACH_EMULATED, false, SKIP_NONE },
		{ "nop", "6.18", { 0x90 }, 1, ATTACH_EMULATED, false, SKIP_NONE },
		{ "xchg %ax,%ax", "6.18", { 0x66, 0x90 }, 2, ATTACH_EMULATED, false, SKIP_NONE },
		{ "nopl (%rax)", "6.18", { 0x0f, 0x1f, 0x00 }, 3, ATTACH_EMULATED, false, SKIP_NONE },
		{ "nopl (%rax) on 6.12", "6.12", { 0x0f, 0x1f, 0x00 }, 3, ATTACH_SINGLE_STEP, false,
		  SKIP_NONE },
		{ "nop5", "6.18", { 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 5, ATTACH_NOP5, false, SKIP_NONE },
		{ "nop5 on 6.16", "6.16", { 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 5, ATTACH_EMULATED, false,
		  SKIP_NONE },
		{ "nop5 on 6.1", "6.1", { 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 5, ATTACH_SINGLE_STEP, false,
		  SKIP_NONE },
		{ "nopw 6", "6.18", { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 6, ATTACH_EMULATED, false,
		  SKIP_NONE },
		{ "jmp rel32", "6.18", { 0xe9, 1, 2, 3, 4 }, 5, ATTACH_EMULATED, false, SKIP_NONE },
		{ "mov %rdi,%rax", "6.18", { 0x48, 0x89, 0xf8 }, 3, ATTACH_SINGLE_STEP, false, SKIP_NONE },
		{ "0f 1f /1 (not a nop)", "6.18", { 0x0f, 0x1f, 0x08 }, 3, ATTACH_SINGLE_STEP, false,
		  SKIP_NONE },
		{ "endbr64; push %rbp", "6.18", { 0xf3, 0x0f, 0x1e, 0xfa, 0x55 }, 5, ATTACH_EMULATED, true,
		  SKIP_NONE },
		{ "endbr64; push %r12", "6.18", { 0xf3, 0x0f, 0x1e, 0xfa, 0x41, 0x54 }, 6, ATTACH_EMULATED,
		  true, SKIP_NONE },
		{ "endbr64; nop5", "6.18", { 0xf3, 0x0f, 0x1e, 0xfa, 0x0f, 0x1f, 0x44, 0x00 }, 8,
		  ATTACH_SINGLE_STEP, false, SKIP_NONE }, /* nop5 cut short: stay on endbr64 */
		{ "endbr64; xchg", "6.18", { 0xf3, 0x0f, 0x1e, 0xfa, 0x66, 0x90 }, 6, ATTACH_EMULATED, true,
		  SKIP_NONE },
		{ "endbr64; lea", "6.18", { 0xf3, 0x0f, 0x1e, 0xfa, 0x8d, 0x47, 0x01 }, 7,
		  ATTACH_SINGLE_STEP, false, SKIP_NONE },
		{ "endbr64; lock", "6.18", { 0xf3, 0x0f, 0x1e, 0xfa, 0xf0, 0xff, 0x0f }, 7,
		  ATTACH_SINGLE_STEP, false, SKIP_NONE }, /* endbr64 itself is fine */
		{ "endbr64 alone", "6.18", { 0xf3, 0x0f, 0x1e, 0xfa }, 4, ATTACH_SINGLE_STEP, false,
		  SKIP_NONE },
		{ "endbr64 cut short", "6.18", { 0xf3, 0x0f, 0x1e }, 3, ATTACH_UNPROBEABLE, false,
		  SKIP_REFUSED_INSN },
		{ "lock decl (%rdi)", "6.18", { 0xf0, 0xff, 0x0f }, 3, ATTACH_UNPROBEABLE, false,
		  SKIP_REFUSED_INSN },
		{ "nothing", "6.18", { 0 }, 0, ATTACH_UNPROBEABLE, false, SKIP_NO_CODE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct x86_decoder *d = decoder_for(cases[i].release);
		struct func_symbol s = { 0 };

		if (!d)
			continue;
		x86_decoder__choose_entry(d, cases[i].code, cases[i].n, 0x401000, 0x1000, &s);
		if (s.cost != cases[i].cost || s.skipped_endbr64 != cases[i].skip ||
		    s.skip != cases[i].why) {
			printf("  %s: got %s skip=%d why=%d, want %s skip=%d why=%d\n", cases[i].what,
			       attach_cost__name(s.cost), s.skipped_endbr64, s.skip,
			       attach_cost__name(cases[i].cost), cases[i].skip, cases[i].why);
			unit_failed_checks++;
		}
		CHECK_INT(s.attach_offset, cases[i].skip ? 0x1004 : 0x1000);
		CHECK(s.cost_reason && *s.cost_reason);
		x86_decoder__free(d);
	}
}

/* A jump lands at landing (0: nothing lands anywhere). */
static uint64_t landing;

static bool lands_at(void *ctx, uint64_t vaddr)
{
	(void)ctx;
	return landing && vaddr == landing;
}

/* The cheaper entry past a function's first instructions: the prologues
 * met in Debian's binaries (redis, glibc, a Go program). */
static void test_body_entry(void)
{
	static const struct {
		const char *what;
		uint8_t code[24];
		size_t n;
		uint64_t lands;       /* vaddr a jump lands at, or 0 */
		bool found;
		uint64_t site;        /* from the start */
		uint32_t sp_delta;
		uint16_t clobbered;
		uint8_t nskipped;
	} cases[] = {
		{ "cmp $0x2c,%rsi; ja (createStringObject)",
		  { 0x48, 0x83, 0xfe, 0x2c, 0x77, 0x0a }, 6, 0, true, 4, 0, 0, 1 },
		{ "mov 0x8(%rdi),%rax; test; jne (prepareClientToWrite)",
		  { 0x48, 0x8b, 0x47, 0x08, 0xa9, 0x00, 0x01, 0x00, 0x08, 0x0f, 0x85, 0x98, 0, 0, 0 }, 15,
		  0, true, 9, 0, 1u << 0, 2 },
		{ "mov $0x8,%edx; jmp (lookupKeyWrite: rdx overwritten)",
		  { 0xba, 0x08, 0, 0, 0, 0xe9, 0x56, 0xfd, 0xff, 0xff }, 10, 0, true, 5, 0, 1u << 2, 1 },
		{ "sub $0x8,%rsp; call: sp moved 8",
		  { 0x48, 0x83, 0xec, 0x08, 0xe8, 0x00, 0x00, 0x00, 0x00 }, 9, 0, true, 4, 8, 0, 1 },
		{ "Go: cmp 0x10(%r14),%rsp; jbe",
		  { 0x49, 0x3b, 0x66, 0x10, 0x76, 0x30 }, 6, 0, true, 4, 0, 0, 1 },
		{ "Go, big frame: lea -0x98(%rsp),%r12; cmp 0x10(%r14),%r12; jbe",
		  { 0x4c, 0x8d, 0xa4, 0x24, 0x68, 0xff, 0xff, 0xff, 0x4d, 0x3b, 0x66, 0x10,
		    0x0f, 0x86, 0x10, 0, 0, 0 }, 18, 0, true, 12, 0, 1u << 12, 2 },
		{ "endbr64; mov %rdi,%rax; cmp; jb (memmove)",
		  { 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x89, 0xf8, 0x48, 0x83, 0xfa, 0x20, 0x72, 0x10 }, 13,
		  0, true, 11, 0, 1u << 0, 3 },
		{ "mov %rdi,%rax; (mempcpy jumps here) cmp; jb",
		  { 0x48, 0x89, 0xf8, 0x48, 0x83, 0xfa, 0x20, 0x72, 0x10 }, 9, 0x401003, false, 0, 0, 0,
		  0 },
		{ "a jump to the site itself",
		  { 0x48, 0x89, 0xf8, 0x72, 0x10 }, 5, 0x401003, false, 0, 0, 0, 0 },
		{ "mov $0x27,%eax; syscall; cmp; ja: the span would start after the call",
		  { 0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0x48, 0x3d, 0x01, 0xf0, 0xff, 0xff, 0x73, 0x01 },
		  15, 0, false, 0, 0, 0, 0 },
		{ "mov 0x8(%rdi),%rax; ret: a getter",
		  { 0x48, 0x8b, 0x47, 0x08, 0xc3 }, 5, 0, false, 0, 0, 0, 0 },
		{ "and $-16,%rsp; call: sp set otherwise",
		  { 0x48, 0x83, 0xe4, 0xf0, 0xe8, 0, 0, 0, 0 }, 9, 0, false, 0, 0, 0, 0 },
		{ "jmp *%rax first", { 0xff, 0xe0 }, 2, 0, false, 0, 0, 0, 0 },
		{ "lock incl (%rdi) (refused as a probe site, skipped like any); jne",
		  { 0xf0, 0xff, 0x07, 0x75, 0x02 }, 5, 0, true, 3, 0, 0, 1 },
		{ "notrack jmp *%rax first", { 0x3e, 0xff, 0xe0 }, 3, 0, false, 0, 0, 0, 0 },
		{ "undecodable", { 0x0f, 0xff }, 2, 0, false, 0, 0, 0, 0 },
		{ "push first: the entry itself", { 0x55, 0x48, 0x89, 0xe5 }, 4, 0, true, 0, 0, 0, 0 },
	};
	struct x86_decoder *d = decoder_for("6.18");

	if (!d)
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct body_entry b;

		landing = cases[i].lands;
		x86_decoder__find_body_entry(d, cases[i].code, cases[i].n, 0x401000, 0x1000, lands_at,
					     NULL, &b);
		if (b.found != cases[i].found ||
		    (b.found && (b.file_offset != 0x1000 + cases[i].site ||
				 b.sp_delta != cases[i].sp_delta || b.clobbered != cases[i].clobbered ||
				 b.nskipped != cases[i].nskipped))) {
			printf("  %s: got found=%d site=+0x%llx sp=%u clobbered=%#x skipped=%u (%s)\n",
			       cases[i].what, b.found, (unsigned long long)(b.file_offset - 0x1000),
			       b.sp_delta, b.clobbered, b.nskipped, b.reason ? b.reason : "");
			unit_failed_checks++;
		}
		CHECK(b.found ? b.site_insn != NULL : b.reason != NULL);
	}
	landing = 0;
	x86_decoder__free(d);
}

/* What an ifunc resolver may return: lea targets and direct jumps. */
static void test_code_refs(void)
{
	static const uint8_t resolver[] = {
		0x48, 0x8d, 0x05, 0x10, 0x00, 0x00, 0x00, /* lea 0x10(%rip),%rax */
		0x48, 0x8d, 0x15, 0x20, 0x00, 0x00, 0x00, /* lea 0x20(%rip),%rdx */
		0x48, 0x8d, 0x04, 0x24,                   /* lea (%rsp),%rax: not rip */
		0xc3,                                     /* ret */
		0xcc,                                     /* int3: stop */
		0x48, 0x8d, 0x05, 0x30, 0x00, 0x00, 0x00,
	};
	struct x86_decoder *d = decoder_for("6.18");
	uint64_t refs[8];
	size_t n;

	if (!d)
		return;
	n = x86_decoder__code_refs(d, resolver, sizeof(resolver), 0x1000, refs, 8);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(refs[0], 0x1000 + 7 + 0x10);
		CHECK_INT(refs[1], 0x1000 + 14 + 0x20);
	}
	CHECK_INT(x86_decoder__code_refs(d, resolver, sizeof(resolver), 0x1000, refs, 1), 1);
	CHECK_INT(x86_decoder__code_refs(d, resolver, 0, 0x1000, refs, 8), 0);
	x86_decoder__free(d);
	x86_decoder__free(NULL);
}

int main(void)
{
	unit_prog = "x86_uprobe_insn";
	RUN(test_rules_for_release);
	RUN(test_insn_verdicts);
	RUN(test_branch_targets);
	RUN(test_entry_choice);
	RUN(test_body_entry);
	RUN(test_code_refs);
	return unit_exit();
}
