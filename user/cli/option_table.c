// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>

#include "option_table.h"

const struct option_def option_defs[] = {
	{ "pid", 'p', "PID", "Trace only this process and the processes it starts", false },
	{ "cmd", 'c', "CMD", "Run CMD, trace it and the processes it starts, exit with its status",
	  false },
	{ "no-follow", OPT_NO_FOLLOW, NULL,
	  "With -p/-c, trace only that process, not the processes it starts", false },
	{ "exe", OPT_EXE, "GLOB",
	  "Without -p/-c, trace only processes whose executable matches GLOB (a path glob, or a "
	  "name when it has no '/'); the others get no probe at all; repeatable", false },
	{ "namespace", OPT_NAMESPACE, "NS",
	  "Without -p/-c, trace only processes of pods in namespace NS (from the Kubernetes API: "
	  "needs the pod watch); the others get no probe at all; repeatable", false },
	{ "pod-selector", OPT_POD_SELECTOR, "SELECTOR",
	  "Without -p/-c, trace only processes of pods whose labels match SELECTOR "
	  "('app=web,tier in (a,b),!canary', as kubectl -l); needs the pod watch", false },
	{ "container", OPT_CONTAINER, "NAME",
	  "Without -p/-c, trace only processes of the pod containers named NAME; needs the pod "
	  "watch; repeatable", false },
	{ "list", 'l', NULL, "List the functions PROBE matches, with their probe cost", true },
	{ "output", 'o', "FORMAT",
	  "tree (default), lines (one line a call), jsonl, otlp, or summary (the summary alone: "
	  "no span is sent from the kernel); repeatable", false },
	{ "output-file", OPT_OUTPUT_FILE, "FILE", "Write tree/jsonl output to FILE", false },
	{ "error", OPT_ERROR, "FUNCS:COND",
	  "Returns that count as errors: ret<N, ret<=N, ret==N, ret!=N, ret>N, ret>=N, NULL; repeatable",
	  false },
	{ "arg", OPT_ARG, "FUNCS:ARG[=TYPE],...",
	  "Capture arguments at entry as span attributes: argN (0-5) or a DWARF parameter name; "
	  "TYPE int, uint, int8..int64, uint8..uint64, hex, string, pstring (char **), or from "
	  "DWARF; repeatable", false },
	{ "summary", OPT_SUMMARY, NULL,
	  "Print per-function statistics at exit (calls, errors, total and self time, "
	  "percentiles, latency histograms); by default only after more than 100 traces", false },
	{ "no-summary", OPT_NO_SUMMARY, NULL,
	  "No summary, and no statistics kept in the kernel", false },
	{ "top", OPT_TOP, "N", "Functions in the summary, by total time (default 10; 0: all)",
	  false },
	{ "min-duration", OPT_MIN_DURATION, "DUR",
	  "Send only calls lasting at least DUR (10ms, 250us, 1.5s), with their ancestors", false },
	{ "errors-only", OPT_ERRORS_ONLY, NULL,
	  "Send only calls that ended with an error, and their ancestors", false },
	{ "endpoint", OPT_ENDPOINT, "URL", "OTLP endpoint (overrides OTEL_EXPORTER_OTLP_*ENDPOINT)",
	  false },
	{ "protocol", OPT_PROTOCOL, "PROTO",
	  "grpc or http/protobuf (overrides OTEL_EXPORTER_OTLP_*PROTOCOL)", false },
	{ "service-name", OPT_SERVICE_NAME, "NAME", "service.name (overrides OTEL_SERVICE_NAME)",
	  false },
	{ "dry-run", OPT_DRY_RUN, NULL, "Resolve and attach, then exit", false },
	{ "wait", OPT_WAIT, NULL,
	  "Keep running while an absolute BINARY is found nowhere; attach when a process (a new "
	  "container) has it", false },
	{ "config", OPT_CONFIG, "FILE",
	  "Read options from FILE: one long option a line ('probe P', 'error R', ...)", true },
	{ "metrics-addr", OPT_METRICS_ADDR, "HOST:PORT",
	  "Serve Prometheus metrics (probe hits, spans, losses, exports) there; off by default",
	  false },
	{ "ready-file", OPT_READY_FILE, "FILE",
	  "Create FILE once attached (readiness checks); removed at exit", false },
	{ "ring-buffer", OPT_RING_BUFFER, "SIZE",
	  "Kernel ring buffer for span records, a power of two (default 4M, about 47,000 spans "
	  "unread; 16M or more for bursts longer than half a second at 100,000 spans/s)", false },
	{ "return-probes", OPT_RETURN_PROBES, "HOW",
	  "How returns are seen: auto (default: probes on the exit instructions for Go, C++ and "
	  "Rust code and functions that return twice, uretprobes elsewhere), exits or uretprobe",
	  false },
	{ "node-name", OPT_NODE_NAME, "NAME",
	  "This node's name, whose pods name traced processes (default: $K8S_NODE_NAME; with a "
	  "kubeconfig, this host's name)", false },
	{ "kube-api", OPT_KUBE_API, "URL",
	  "Kubernetes API server to name pods from (default: in a pod its ServiceAccount, outside "
	  "one the kubeconfig of $KUBECONFIG or ~/.kube/config, as kubectl)", false },
	{ "kube-token-file", OPT_KUBE_TOKEN_FILE, "FILE", "Bearer token for --kube-api", false },
	{ "kube-ca-file", OPT_KUBE_CA_FILE, "FILE", "CA bundle of --kube-api's certificate", false },
	{ "kube-context", OPT_KUBE_CONTEXT, "NAME",
	  "The kubeconfig context to use instead of its current-context (as kubectl --context)",
	  false },
	{ "verbose", 'v', NULL, "libbpf debug output; with -l, why each cost", false },
};
const size_t option_defs_count = sizeof(option_defs) / sizeof(option_defs[0]);

const struct option_def *option_def__find(const char *name)
{
	for (size_t i = 0; i < option_defs_count; i++)
		if (strcmp(option_defs[i].name, name) == 0)
			return &option_defs[i];
	return NULL;
}

const char *option_def__config_keys(void)
{
	static char keys[512];
	size_t len;

	if (keys[0])
		return keys;
	len = snprintf(keys, sizeof(keys), "%s", CONFIG_PROBE_KEY);
	for (size_t i = 0; i < option_defs_count && len < sizeof(keys); i++)
		if (!option_defs[i].cli_only)
			len += snprintf(keys + len, sizeof(keys) - len, ", %s", option_defs[i].name);
	return keys;
}
