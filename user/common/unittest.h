/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* UNITTEST marks file-local functions the unit tests call: static in the
 * product, external in the objects the tests link (built with -DUNITTEST=). */
#ifndef SPANPROBE_UNITTEST_H
#define SPANPROBE_UNITTEST_H
#ifndef UNITTEST
#define UNITTEST static
#endif
#endif
