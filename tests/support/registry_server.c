/* registry_server.c: see registry_server.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "support/registry_server.h"

void evb_test_registry_server_start(evb_store_t *store, evb_registry_t *reg,
                                    evb_test_registry_server_t *s) {
    char errstr[256];
    evb_api_config_t acfg = {.store = store, .registry = reg};
    assert_int_equal(evb_api_new(&acfg, &s->api, errstr, sizeof errstr), 0);
    evb_http_config_t h = evb_http_config_default();
    h.host = "127.0.0.1";
    h.threads = 2;
    assert_int_equal(evb_http_server_start(&h, evb_api_handle, s->api, &s->srv,
                                           errstr, sizeof errstr),
                     0);
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%u",
             (unsigned)evb_http_server_port(s->srv));
}

void evb_test_registry_server_stop(evb_test_registry_server_t *s) {
    evb_http_server_stop(s->srv);
    evb_api_free(s->api);
}
