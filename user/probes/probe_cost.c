// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "elf_symbols.h"
#include "entry_site.h"
#include "probe_cost.h"

/* Median duration of an empty function, per entry class, with the
 * uretprobe on its return (bench/per_call.sh on the 2-CPU VM, Linux
 * 6.18: 9.2 us, 0.70 us, 0.58 us): what any call of that class shows at
 * least, however short it is. */
#define FLOOR_SINGLE_STEP_NS 9000
#define FLOOR_EMULATED_NS     700
#define FLOOR_NOP5_NS         550

void probe_cost__of(const struct traced_func *f, struct probe_cost *out)
{
	struct entry_site entry;

	entry_site__of(f, &entry);
	out->cls = attach_cost__name(entry.cost);
	switch (entry.cost) {
	case ATTACH_SINGLE_STEP:
		out->overhead_ns = FLOOR_SINGLE_STEP_NS;
		break;
	case ATTACH_EMULATED:
		out->overhead_ns = FLOOR_EMULATED_NS;
		break;
	case ATTACH_NOP5:
		out->overhead_ns = FLOOR_NOP5_NS;
		break;
	default:
		out->overhead_ns = 0;
	}
}

bool probe_cost__dominates(uint32_t overhead_ns, uint64_t duration_ns)
{
	return overhead_ns && duration_ns <= 2ull * overhead_ns;
}
