/*
 * registry_server.h: evbus's own API (and with it the schema registry's
 * REST endpoints) served on a free loopback port, for tests of registry
 * clients.
 */
#ifndef EVB_TEST_REGISTRY_SERVER_H
#define EVB_TEST_REGISTRY_SERVER_H

#include "api/api.h"
#include "api/http.h"
#include "registry/registry.h"
#include "store/store.h"

typedef struct evb_test_registry_server {
    evb_api_t *api;
    evb_http_server_t *srv;
    char url[64]; /* http://127.0.0.1:PORT */
} evb_test_registry_server_t;

/* Serve reg (over store) until evb_test_registry_server_stop; a failure
 * fails the calling cmocka test. */
void evb_test_registry_server_start(evb_store_t *store, evb_registry_t *reg,
                                    evb_test_registry_server_t *s);
void evb_test_registry_server_stop(evb_test_registry_server_t *s);

#endif
