// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>

#include "env_switches.h"

/* set, and not empty or "0" */
static bool on(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0") != 0;
}

static const char *value(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

bool env_switch__no_uprobe_multi(void)
{
	return on("SPANPROBE_NO_UPROBE_MULTI");
}

bool env_switch__python_usdt(void)
{
	const char *v = value("SPANPROBE_PYTHON_PATH");

	return v && strcmp(v, "usdt") == 0;
}

const char *env_switch__python_return(void)
{
	const char *v = value("SPANPROBE_PYTHON_RETURN");

	return v && strcmp(v, "session") != 0 ? v : NULL;
}

const char *env_switch__sysfs(void)
{
	return value("SPANPROBE_SYSFS") ?: "/sys";
}

const char *env_switch__test_refuse(void)
{
	return value("SPANPROBE_TEST_REFUSE");
}
