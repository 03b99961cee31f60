/*
 * target_bus.c: another event bus of the same account as a target.
 *
 * The event is forwarded unchanged (same id) and routed by the target
 * bus's own rules; it owes the deliveries those rules name. Reference
 * §4.5: EventBridge does not route an event that arrived from a bus on to
 * a third bus, so an event that was itself forwarded is not forwarded
 * again (the delivery is dropped and counted).
 */
#include <stdlib.h>
#include <string.h>

#include "delivery_internal.h"

void evb__target_bus(evb_bus_service_t *svc, const due_t *d,
                     const evb_target_ref_t *t, outcome_t *o) {
    o->kind = OUT_DROPPED;
    char name[1700];
    if (!evb_bus_arn_name(svc, t->arn, name, sizeof name))
        return; /* another account or region: not reachable here */
    if (d->via_bus)
        return; /* one hop only */
    char err[256];
    if (evb_bus_route_event(svc, name, d->body, d->body_len, &o->fwd.hits,
                            &o->fwd.nhits, err, sizeof err))
        return;
    o->fwd.bus = evb__strdup_delivery(name);
    if (!o->fwd.bus) {
        evb__outcome_free(o);
        o->kind = OUT_DROPPED;
        return;
    }
    o->kind = OUT_DONE;
}
