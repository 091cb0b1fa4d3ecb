// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A stripped file's separate debug file: /usr/lib/debug/.build-id/xx/yyyy.debug,
 * then the .gnu_debuglink name next to the file, in .debug/ beside it, and
 * under /usr/lib/debug. The candidate must carry the same build-id (when the
 * file has one) and either a .symtab (function names) or DWARF. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_internal.h"

#ifndef NT_GNU_BUILD_ID
#define NT_GNU_BUILD_ID 3
#endif

bool elf_read_build_id(Elf *elf, const unsigned char **id, size_t *len)
{
	size_t size = 0;
	const char *image = elf_rawfile(elf, &size);
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (!image)
		return false;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		Elf_Data *data;
		GElf_Nhdr nhdr;
		size_t off = 0, name_off, desc_off;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		if (sh.sh_offset > size || sh.sh_size > size - sh.sh_offset)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		while ((off = gelf_getnote(data, off, &nhdr, &name_off, &desc_off)) > 0) {
			if (nhdr.n_type == NT_GNU_BUILD_ID && nhdr.n_namesz == 4 &&
			    memcmp((const char *)data->d_buf + name_off, "GNU", 4) == 0 &&
			    nhdr.n_descsz > 0) {
				*id = (const unsigned char *)data->d_buf + desc_off;
				*len = nhdr.n_descsz;
				return true;
			}
		}
	}
	return false;
}

static bool has_symbols_or_dwarf(Elf *elf)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			return true;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && strcmp(name, ".debug_info") == 0)
			return true;
	}
	return false;
}

/* Opens candidate as the debug file of b when it fits. */
static bool try_debug_file(struct elf_binary *b, const char *candidate)
{
	const unsigned char *want = NULL, *got = NULL;
	size_t want_len = 0, got_len = 0;
	struct stat st_main, st_dbg;
	Elf *elf = NULL;
	bool ok = false;
	int fd;

	/* in the root the file came from: a container's build-id or debug
	 * link never names a host file */
	fd = in_root__open(b->lookup_root, candidate, &st_dbg);
	if (fd < 0)
		return false;
	if (fstat(b->fd, &st_main) < 0 ||
	    (st_dbg.st_dev == st_main.st_dev && st_dbg.st_ino == st_main.st_ino))
		goto cleanup;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto cleanup;
	if (elf_read_build_id(b->elf, &want, &want_len) &&
	    (!elf_read_build_id(elf, &got, &got_len) || got_len != want_len ||
	     memcmp(got, want, want_len) != 0))
		goto cleanup;
	if (!has_symbols_or_dwarf(elf))
		goto cleanup;
	b->debug_path = strdup(candidate);
	if (!b->debug_path)
		goto cleanup;
	b->debug_elf = elf;
	b->debug_fd = fd;
	elf = NULL;
	fd = -1;
	ok = true;
cleanup:
	elf_end(elf);
	if (fd >= 0)
		close(fd);
	return ok;
}

/* The .gnu_debuglink file name, or NULL (points into the image). */
static const char *debuglink_name(const struct elf_binary *b)
{
	Elf_Scn *scn;
	Elf_Data *data;
	GElf_Shdr sh;
	const char *link;

	scn = elf_raw__section(b->elf, ".gnu_debuglink", &sh);
	if (!scn || sh.sh_type == SHT_NOBITS || sh.sh_offset > b->image_size ||
	    sh.sh_size > b->image_size - sh.sh_offset)
		return NULL;
	data = elf_getdata(scn, NULL);
	if (!data || data->d_size < 2)
		return NULL;
	link = data->d_buf;
	if (!memchr(link, '\0', data->d_size) || !*link || strchr(link, '/'))
		return NULL;
	return link;
}

static size_t build_id_hex(const struct elf_binary *b, char *out, size_t out_len)
{
	const unsigned char *id;
	size_t len, n = 0;

	if (out_len)
		out[0] = '\0';
	if (!elf_read_build_id(b->elf, &id, &len) || len < 2 || len > 64)
		return 0;
	for (size_t i = 0; i < len && n + 3 <= out_len; i++)
		n += (size_t)snprintf(out + n, out_len - n, "%02x", id[i]);
	return len;
}

static void look_for_debug_file(struct elf_binary *b)
{
	char hex[130], path[PATH_MAX], dir[PATH_MAX], *slash;
	const char *link;

	if (build_id_hex(b, hex, sizeof(hex)) &&
	    (size_t)snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%.2s/%s.debug", hex,
			     hex + 2) < sizeof(path) &&
	    try_debug_file(b, path))
		return;
	link = debuglink_name(b);
	if (!link)
		return;
	snprintf(dir, sizeof(dir), "%s", b->lookup_path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, link) < sizeof(path) &&
	    try_debug_file(b, path))
		return;
	if ((size_t)snprintf(path, sizeof(path), "%s/.debug/%s", dir, link) < sizeof(path) &&
	    try_debug_file(b, path))
		return;
	if (dir[0] == '/' &&
	    (size_t)snprintf(path, sizeof(path), "/usr/lib/debug%s/%s", dir, link) < sizeof(path))
		try_debug_file(b, path);
}

void elf_debug_file__open(struct elf_binary *b)
{
	if (b->debug_tried)
		return;
	b->debug_tried = true;
	look_for_debug_file(b);
}

void elf_debug_file__close(struct elf_binary *b)
{
	if (b->debug_elf)
		elf_end(b->debug_elf);
	if (b->debug_fd >= 0)
		close(b->debug_fd);
	free(b->debug_path);
	b->debug_elf = NULL;
	b->debug_fd = -1;
	b->debug_path = NULL;
}

void elf_binary__debug_hints(const struct elf_binary *b, char *build_id, size_t build_id_len,
			     char *debuglink, size_t debuglink_len)
{
	const char *link = b ? debuglink_name(b) : NULL;

	if (build_id_len)
		build_id[0] = '\0';
	if (b)
		build_id_hex(b, build_id, build_id_len);
	if (debuglink_len)
		snprintf(debuglink, debuglink_len, "%s", link ? link : "");
}
