// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <bpf/libbpf.h>

#include "percpu_stats.h"

void percpu_stats__sum_all(const struct bpf_map *map, uint64_t *out, uint32_t n)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *values;

	for (uint32_t k = 0; k < n; k++)
		out[k] = 0;
	if (!map || ncpus <= 0)
		return;
	values = calloc(ncpus, sizeof(*values));
	if (!values)
		return;
	for (uint32_t k = 0; k < n; k++) {
		if (bpf_map__lookup_elem(map, &k, sizeof(k), values, sizeof(*values) * ncpus, 0))
			continue;
		for (int c = 0; c < ncpus; c++)
			out[k] += values[c];
	}
	free(values);
}

uint64_t percpu_stats__sum(const struct bpf_map *map, uint32_t key)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *values, sum = 0;

	if (!map || ncpus <= 0)
		return 0;
	values = calloc(ncpus, sizeof(*values));
	if (!values)
		return 0;
	if (bpf_map__lookup_elem(map, &key, sizeof(key), values, sizeof(*values) * ncpus, 0) == 0)
		for (int c = 0; c < ncpus; c++)
			sum += values[c];
	free(values);
	return sum;
}
