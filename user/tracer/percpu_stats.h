/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Reading the BPF side's per-CPU u64 counters. */
#ifndef SPANPROBE_PERCPU_STATS_H
#define SPANPROBE_PERCPU_STATS_H

#include <stdint.h>

struct bpf_map;

/* Sum over CPUs of slot key of a per-CPU u64 array; 0 when it can't be read. */
uint64_t percpu_stats__sum(const struct bpf_map *map, uint32_t key);
/* Slots 0..n-1 summed into out[]. */
void percpu_stats__sum_all(const struct bpf_map *map, uint64_t *out, uint32_t n);

#endif
