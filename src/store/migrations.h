/* migrations.h: the store's schema, one SQL script per version (internal). */
#ifndef EVB_STORE_MIGRATIONS_H
#define EVB_STORE_MIGRATIONS_H

#include <stddef.h>

extern const char *const evb__migrations[];
extern const size_t evb__migrations_count;

#endif
