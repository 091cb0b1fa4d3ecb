/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* spanprobe's version: the OTLP instrumentation scope version and --version. */
#ifndef SPANPROBE_VERSION_H
#define SPANPROBE_VERSION_H
#define SPANPROBE_VERSION "0.1.0"
#endif
