/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The API server and credentials of a kubeconfig, as kubectl finds them:
 * the files of $KUBECONFIG (colon-separated) or ~/.kube/config, merged the
 * way client-go merges them (the first file that sets current-context
 * decides it; a cluster, user or context is taken from the first file that
 * defines one of that name), then the current context (or the one named)
 * resolved into a kube_config: server, CA (a path relative to the file that
 * names it, or -data), insecure-skip-tls-verify, and the user's token,
 * tokenFile, client certificate and key (paths or -data) or exec plugin. */
#ifndef SPANPROBE_KUBECONFIG_H
#define SPANPROBE_KUBECONFIG_H

#include <stddef.h>

#include "kube_config.h"

/* From the environment ($KUBECONFIG, $HOME). 0: cfg filled (cfg->source
 * names the file of the context). -ENOENT: no kubeconfig to use (KUBECONFIG
 * unset and no ~/.kube/config). Any other -errno: the kubeconfig is
 * broken; err is one line "kubeconfig FILE: cause (fix)". context NULL:
 * the current context. */
int kubeconfig__load(const char *context, struct kube_config *cfg, char *err, size_t err_len);
/* The same with $KUBECONFIG (NULL: unset) and $HOME given. */
int kubeconfig__load_from(const char *kubeconfig_env, const char *home, const char *context,
			  struct kube_config *cfg, char *err, size_t err_len);

#endif /* SPANPROBE_KUBECONFIG_H */
