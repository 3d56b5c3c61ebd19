#pragma once

// Giving freed memory back to the system.

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace avow {

// Return the heap's free pages to the system (glibc's malloc_trim), not only to the heap: after a large buffer or
// cache is dropped, so that the process's peak RSS does not keep it. A no-op elsewhere.
inline void release_freed_memory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

} // namespace avow
