// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A function's formal parameters from DWARF (libdw), for --arg: each one's
 * name and whether it is an integer, a pointer, a string (char *) or a
 * pointer to one (char **), so an argument named by its parameter name is
 * found in its register and read as its type. */
#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include "elf_internal.h"

/* Strips typedefs and qualifiers; false when the chain is broken or void. */
static bool strip_type(Dwarf_Die *type)
{
	Dwarf_Attribute attr;

	for (int depth = 0; depth < 16; depth++) {
		switch (dwarf_tag(type)) {
		case DW_TAG_typedef:
		case DW_TAG_const_type:
		case DW_TAG_volatile_type:
		case DW_TAG_restrict_type:
		case DW_TAG_atomic_type:
			if (!dwarf_attr(type, DW_AT_type, &attr) || !dwarf_formref_die(&attr, type))
				return false;
			continue;
		default:
			return true;
		}
	}
	return false;
}

/* The type a pointer points to, stripped; false for void * or unknown. */
static bool pointee(Dwarf_Die *ptr, Dwarf_Die *out)
{
	Dwarf_Attribute attr;

	if (!dwarf_attr(ptr, DW_AT_type, &attr) || !dwarf_formref_die(&attr, out))
		return false;
	return strip_type(out);
}

static bool is_char(Dwarf_Die *type)
{
	Dwarf_Attribute attr;
	Dwarf_Word enc;

	if (dwarf_tag(type) != DW_TAG_base_type || dwarf_bytesize(type) != 1 ||
	    dwarf_formudata(dwarf_attr(type, DW_AT_encoding, &attr), &enc) != 0)
		return false;
	return enc == DW_ATE_signed_char || enc == DW_ATE_unsigned_char ||
	       enc == DW_ATE_signed || enc == DW_ATE_unsigned || enc == DW_ATE_UTF;
}

static bool is_pointer_tag(int tag)
{
	return tag == DW_TAG_pointer_type || tag == DW_TAG_reference_type ||
	       tag == DW_TAG_rvalue_reference_type;
}

static void classify(Dwarf_Die *param, struct func_param *p)
{
	Dwarf_Attribute attr;
	Dwarf_Die type, to, to2;
	Dwarf_Word enc;
	int size;

	p->kind = PARAM_OTHER;
	if (!dwarf_attr_integrate(param, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &type) ||
	    !strip_type(&type))
		return;
	if (is_pointer_tag(dwarf_tag(&type))) {
		p->kind = PARAM_POINTER;
		p->size = 8;
		if (pointee(&type, &to)) {
			if (is_char(&to))
				p->kind = PARAM_STRING;
			else if (dwarf_tag(&to) == DW_TAG_pointer_type && pointee(&to, &to2) &&
				 is_char(&to2))
				p->kind = PARAM_STRING_PTR;
		}
		return;
	}
	size = dwarf_bytesize(&type);
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return;
	if (dwarf_tag(&type) == DW_TAG_enumeration_type) {
		p->kind = PARAM_INT;
		p->size = (uint8_t)size;
		p->is_signed = true;
		return;
	}
	if (dwarf_tag(&type) != DW_TAG_base_type ||
	    dwarf_formudata(dwarf_attr(&type, DW_AT_encoding, &attr), &enc) != 0)
		return;
	if (enc == DW_ATE_float || enc == DW_ATE_complex_float || enc == DW_ATE_decimal_float)
		return; /* in an xmm register */
	p->kind = PARAM_INT;
	p->size = (uint8_t)size;
	p->is_signed = enc == DW_ATE_signed || enc == DW_ATE_signed_char;
}

void read_params(Dwarf_Die *fn, struct func_symbol *s)
{
	Dwarf_Die child;
	size_t cap = 0;

	s->params_known = true;
	if (dwarf_child(fn, &child) != 0)
		return;
	do {
		struct func_param *p;
		Dwarf_Attribute attr;
		const char *name;

		if (dwarf_tag(&child) != DW_TAG_formal_parameter)
			continue;
		if (s->nparams == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct func_param *n = realloc(s->params, ncap * sizeof(*n));

			if (!n) {
				params__release(s);
				return; /* out of memory: as without DWARF */
			}
			s->params = n;
			cap = ncap;
		}
		p = &s->params[s->nparams++];
		memset(p, 0, sizeof(*p));
		/* an out-of-line copy of an inline function names them in its origin */
		name = dwarf_formstring(dwarf_attr_integrate(&child, DW_AT_name, &attr));
		p->name = name ? strdup(name) : NULL;
		classify(&child, p);
	} while (dwarf_siblingof(&child, &child) == 0);
}

void params__release(struct func_symbol *s)
{
	for (size_t i = 0; i < s->nparams; i++)
		free(s->params[i].name);
	free(s->params);
	s->params = NULL;
	s->nparams = 0;
	s->params_known = false;
}
