/*
 * target_apidest.c: API destinations as targets.
 *
 * The payload is rendered as for any target; the invocation itself goes
 * to the libcurl invoker (apidest/apidest.h) from delivery.c, which
 * submits it and settles the delivery when the completion comes back.
 * Here we only prepare the call: the destination ARN, the target's
 * HttpParameters (as JSON text, computed once per compiled target) and
 * the body.
 */
#include <stdlib.h>
#include <string.h>

#include "../json/json.h"
#include "delivery_internal.h"

char *evb__target_http_parameters(const char *spec) {
    evb_arena_t a;
    evb_arena_init(&a, 1024);
    evb_jval_t *v;
    char *out = NULL;
    if (!evb_json_parse(&a, spec, strlen(spec), 64, &v, NULL, 0) &&
        v->type == EVB_JSON_OBJECT)
        for (size_t i = 0; i < v->u.obj.n; i++) {
            const evb_jmember_t *m = &v->u.obj.members[i];
            if (strcmp(m->key, "HttpParameters") != 0 ||
                m->val->type != EVB_JSON_OBJECT)
                continue;
            evb_buf_t b;
            evb_buf_init(&b, 0);
            if (!evb_json_append_compact(&b, m->val->src, m->val->src_len)) {
                free(out);
                out = b.data;
            } else {
                evb_buf_free(&b);
            }
        }
    evb_arena_free(&a);
    return out;
}

void evb__target_apidest(evb_bus_service_t *svc, const due_t *d,
                         const evb_target_ref_t *t, outcome_t *o) {
    (void)svc;
    o->kind = OUT_DROPPED;
    evb_buf_t body;
    evb_buf_init(&body, 0);
    if (!evb__render_payload(d, t, o, &body))
        return;
    o->http.dest_arn = t->arn;
    o->http.params = d->ct->http_params;
    o->http.body = body.data ? body.data : evb__strdup_delivery("");
    o->http.len = body.len;
    if (!o->http.body) {
        memset(&o->http, 0, sizeof o->http);
        return;
    }
    o->kind = OUT_INFLIGHT;
}
