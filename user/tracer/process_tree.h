/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The traced process tree of -c and -p as user space sees it: the kernel
 * side keeps the set of traced tgids (traced_tgids) and reports each fork
 * and exit; this keeps the count of processes seen and which still run, and
 * adds the descendants a -p process already has when tracing starts. */
#ifndef SPANPROBE_PROCESS_TREE_H
#define SPANPROBE_PROCESS_TREE_H

#include <stddef.h>
#include <sys/types.h>

struct process_tree;

struct process_tree *process_tree__new(pid_t root);
/* Adds root's current descendants (from /proc) to the BPF map at map_fd
 * (tgid -> parent tgid) and to the tree. Returns how many, or a negative
 * errno. */
int process_tree__add_existing(struct process_tree *pt, int map_fd);
void process_tree__fork(struct process_tree *pt, pid_t pid, pid_t ppid);
void process_tree__exit(struct process_tree *pt, pid_t pid);
/* Processes traced so far, the root included. */
size_t process_tree__seen(const struct process_tree *pt);
/* Descendants that still run (checked now), up to max in out; returns how
 * many there are. */
size_t process_tree__running(const struct process_tree *pt, pid_t *out, size_t max);
void process_tree__free(struct process_tree *pt);

#endif
