/*
 * Allocation counter: replaces glibc's malloc family in this executable (glibc
 * supports this, see "Replacing malloc" in its manual) and forwards every call
 * to the __libc_* functions, so the heap itself is glibc's own and
 * malloc_usable_size() keeps working. No stdio, no locks: only atomics and a
 * thread-local flag, which never allocate.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc_count.h"

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t nmemb, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void __libc_free(void *ptr);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

static atomic_bool counting;
static __thread bool counting_thread;
static atomic_uint_fast64_t n_allocs, n_frees, n_other;

static inline void count_alloc(void)
{
	if(!atomic_load_explicit(&counting, memory_order_relaxed)) return;
	if(counting_thread){
		atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
	}else{
		atomic_fetch_add_explicit(&n_other, 1, memory_order_relaxed);
	}
}

static inline void count_free(void *ptr)
{
	if(ptr == NULL || !counting_thread) return;
	if(!atomic_load_explicit(&counting, memory_order_relaxed)) return;
	atomic_fetch_add_explicit(&n_frees, 1, memory_order_relaxed);
}

void alloc_count_start(void)
{
	atomic_store(&n_allocs, 0);
	atomic_store(&n_frees, 0);
	atomic_store(&n_other, 0);
	counting_thread = true;
	atomic_store(&counting, true);
}

uint64_t alloc_count_peek(void)
{
	return atomic_load_explicit(&n_allocs, memory_order_relaxed);
}

struct alloc_counts alloc_count_stop(void)
{
	struct alloc_counts c;

	atomic_store(&counting, false);
	counting_thread = false;
	c.allocs = atomic_load(&n_allocs);
	c.frees = atomic_load(&n_frees);
	c.other_allocs = atomic_load(&n_other);
	return c;
}

void *malloc(size_t size)
{
	count_alloc();
	return __libc_malloc(size);
}

void *calloc(size_t nmemb, size_t size)
{
	count_alloc();
	return __libc_calloc(nmemb, size);
}

void *realloc(void *ptr, size_t size)
{
	count_alloc();
	return __libc_realloc(ptr, size);
}

void *reallocarray(void *ptr, size_t nmemb, size_t size)
{
	size_t total;

	if(__builtin_mul_overflow(nmemb, size, &total)){
		errno = ENOMEM;
		return NULL;
	}
	return realloc(ptr, total);
}

void free(void *ptr)
{
	count_free(ptr);
	__libc_free(ptr);
}

void *memalign(size_t alignment, size_t size)
{
	count_alloc();
	return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size)
{
	return memalign(alignment, size);
}

int posix_memalign(void **memptr, size_t alignment, size_t size)
{
	void *p;

	if(alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
	p = memalign(alignment, size);
	if(p == NULL) return ENOMEM;
	*memptr = p;
	return 0;
}

void *valloc(size_t size)
{
	count_alloc();
	return __libc_valloc(size);
}

void *pvalloc(size_t size)
{
	count_alloc();
	return __libc_pvalloc(size);
}
