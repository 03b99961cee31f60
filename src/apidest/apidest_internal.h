/* apidest_internal.h: what the control plane shares with the invoker. */
#ifndef EVB_APIDEST_INTERNAL_H
#define EVB_APIDEST_INTERNAL_H

#include "apidest.h"

/* A destination resolved for one invocation: both rows, secrets included.
 * Free with evb__apidest_target_free. */
typedef struct evb__apidest_target {
    json_t *dest;      /* the destination's spec */
    char *conn_arn;
    char *conn_state;
    json_t *auth;      /* the connection's full AuthParameters (secrets) */
    char *auth_type;   /* BASIC | API_KEY | OAUTH_CLIENT_CREDENTIALS */
    int64_t conn_modified_ms;
} evb__apidest_target_t;

/* Read the destination with ARN arn and its connection. EVB_ERR_NOT_FOUND
 * when either is missing (errstr says which). */
evb_err_t evb__apidest_resolve(const evb_apidest_scope_t *sc, const char *arn,
                               evb__apidest_target_t *out, char *errstr,
                               size_t errstr_size);
void evb__apidest_target_free(evb__apidest_target_t *t);

int64_t evb__apidest_now_ms(void);

/* A number the control plane bumps after every committed change to a
 * connection or an API destination (evb__apidest_changed): the invoker's
 * cache of resolved destinations is current while it stays the same.
 * Process-wide (a change in one store only costs others a re-read). */
uint64_t evb__apidest_generation(void);
void evb__apidest_changed(void);

#endif
