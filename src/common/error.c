/* error.c: the tables generated from EVB_ERRORS, and evb_err_set. */
#include <stdio.h>

#include "common.h"

static const char *const err_names[] = {
#define X(name, aws, msg) #name,
    EVB_ERRORS(X)
#undef X
};
static const char *const err_aws[] = {
#define X(name, aws, msg) aws,
    EVB_ERRORS(X)
#undef X
};
static const char *const err_msgs[] = {
#define X(name, aws, msg) msg,
    EVB_ERRORS(X)
#undef X
};

const char *evb_err_name(evb_err_t err) {
    return (unsigned)err < EVB_ERR__COUNT ? err_names[err] : "UNKNOWN";
}
const char *evb_err_aws_type(evb_err_t err) {
    return (unsigned)err < EVB_ERR__COUNT ? err_aws[err] : "InternalException";
}
const char *evb_err_message(evb_err_t err) {
    return (unsigned)err < EVB_ERR__COUNT ? err_msgs[err] : "Unknown error";
}

evb_err_t evb_err_set(evb_err_t err, char *errstr, size_t errstr_size,
                      const char *fmt, ...) {
    if (errstr && errstr_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
    }
    return err;
}
