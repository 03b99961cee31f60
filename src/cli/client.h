/*
 * client.h: the HTTP client of the commands that talk to a running
 * server (`evbus put`, `evbus tail`, `evbus test-pattern --bus`), on
 * libcurl.
 *
 * The endpoint is --endpoint-url, else $EVBUS_ENDPOINT_URL, else
 * http://127.0.0.1:4010 (serve's default). HTTPS is verified against the
 * system's CAs, or --ca-bundle / $AWS_CA_BUNDLE. When the environment
 * holds AWS credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * optionally AWS_SESSION_TOKEN) every request is signed with Signature
 * V4 for service `events` in --region / $AWS_REGION / $AWS_DEFAULT_REGION
 * (default us-east-1), as a server started with --credentials requires.
 * The secret goes to libcurl only; it is never printed.
 */
#ifndef EVB_CLI_CLIENT_H
#define EVB_CLI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "common/common.h"
#include "options.h"

#define EVB_CLI_DEFAULT_ENDPOINT "http://127.0.0.1:4010"

typedef struct evb__client evb__client_t;

typedef struct evb__client_opts {
    const char *endpoint;  /* NULL: $EVBUS_ENDPOINT_URL or the default */
    const char *ca_bundle; /* NULL: $AWS_CA_BUNDLE or the system's */
    const char *region;    /* NULL: $AWS_REGION, $AWS_DEFAULT_REGION,
                              us-east-1 */
} evb__client_opts_t;

/* The options of every command that talks to a server: --endpoint-url,
 * --ca-bundle, --region (ids EVB_CLI_ID_CLIENT..). evb__client_option
 * takes one into opts. */
extern const evb_cli_option_group_t evb__client_group;
bool evb__client_option(evb__client_opts_t *opts, const evb_cli_option_t *opt,
                        const evb_cli_value_t *v);

/* EVB_ERR_INVALID_ARG: the endpoint is not http(s)://...; errstr says. */
evb_err_t evb__client_new(const evb__client_opts_t *opts, evb__client_t **out,
                          char *errstr, size_t errstr_size);
void evb__client_free(evb__client_t *c);
const char *evb__client_endpoint(const evb__client_t *c);

/*
 * POST an AWS JSON 1.1 call (X-Amz-Target: target). On an answer, *status
 * is its HTTP status and *answer its JSON object (the caller decrefs).
 * An error answer's "__type" and "message" are put in errstr as
 * "Type: message" and EVB_ERR_INVALID_ARG returned (*answer still set).
 * EVB_ERR_IO: no answer (errstr says why).
 */
evb_err_t evb__client_call(evb__client_t *c, const char *target,
                           const json_t *request, json_t **answer, char *errstr,
                           size_t errstr_size);

/*
 * GET path (with its query, already escaped) and hand the body to on_data
 * as it arrives (return false to stop: then EVB_ERR_OK). A status other
 * than 200 is EVB_ERR_INVALID_ARG with "Type: message" from the error
 * body in errstr. stop, when not NULL, is polled about once a second:
 * when it turns true the transfer ends (EVB_ERR_OK).
 */
typedef bool (*evb__client_data_fn)(void *ud, const char *data, size_t len);
evb_err_t evb__client_get_stream(evb__client_t *c, const char *path,
                                 evb__client_data_fn on_data, void *ud,
                                 volatile int *stop, char *errstr,
                                 size_t errstr_size);

/* A query-string value, escaped (malloc'ed; NULL when memory runs out). */
char *evb__client_escape(evb__client_t *c, const char *s);

#endif
