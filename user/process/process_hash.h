/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A hash of processes keyed by (pid, start time), one entry per pid at a
 * time: a PID another process took later (another start time) is a new
 * entry, once its owner removed the old one. Intrusive: an entry embeds a
 * struct process_link, so each owner keeps its own entries and their
 * lifetime (process_info.c: as long as its table, for naming;
 * process_choice.c: until the process exits, for selection and the -p/-c
 * tree). Not thread-safe: the owner locks. */
#ifndef SPANPROBE_PROCESS_HASH_H
#define SPANPROBE_PROCESS_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct process_key {
	pid_t pid;
	uint64_t start; /* /proc/PID/stat field 22, clock ticks since boot; 0: not known */
};

struct process_link {
	struct process_key key;
	struct process_link *next;
};

struct process_hash {
	struct process_link **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
};

/* 0, or -ENOMEM. */
int process_hash__init(struct process_hash *h);
/* The entry for pid, whatever its start time, or NULL. */
struct process_link *process_hash__find(const struct process_hash *h, pid_t pid);
/* Adds l (its key set; no entry for that pid in h). The buckets double
 * when the entries are twice as many (without memory, chains grow). */
void process_hash__add(struct process_hash *h, struct process_link *l);
/* Takes l out, if it is in h. */
void process_hash__remove(struct process_hash *h, struct process_link *l);
/* Every entry, in no particular order: first, then next until NULL. Take
 * next before removing l; adding during a walk may skip or repeat one. */
struct process_link *process_hash__first(const struct process_hash *h);
struct process_link *process_hash__next(const struct process_hash *h, const struct process_link *l);
size_t process_hash__count(const struct process_hash *h);
/* Frees the buckets, not the entries (walk them first). Accepts NULL. */
void process_hash__fini(struct process_hash *h);

#endif
