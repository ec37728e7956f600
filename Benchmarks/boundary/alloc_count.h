#ifndef ALLOC_COUNT_H
#define ALLOC_COUNT_H
/*
 * Allocation counter for acl_bench: the executable defines malloc, calloc,
 * realloc, free and the aligned variants (exported with -rdynamic, so the
 * plugin and every library it pulls in call these), forwards each to glibc's
 * __libc_* implementation and counts calls while counting is on.
 */
#include <stdint.h>

struct alloc_counts {
	uint64_t allocs;        /* malloc, calloc, realloc, posix_memalign, ... on the counting thread */
	uint64_t frees;         /* free(non-NULL) on the counting thread */
	uint64_t other_allocs;  /* allocations on any other thread meanwhile */
};

/* Starts counting on the calling thread (and, as other_allocs, on all others). */
void alloc_count_start(void);
/* Allocations counted on the calling thread so far (counting stays on). */
uint64_t alloc_count_peek(void);
/* Stops counting and returns what was counted since alloc_count_start. */
struct alloc_counts alloc_count_stop(void);

#endif
