/*
 * api_logs.c: the CloudWatch Logs API subset (X-Amz-Target:
 * Logs_20140328.<Action>, AWS JSON 1.1) that reads the log groups rule
 * targets write into: enough for `aws logs tail` and
 * `aws logs filter-log-events`.
 */
#include "api_internal.h"

static const evb__api_action_t actions[] = {
    {NULL, NULL},
};

const evb__api_service_t evb__api_logs_service = {
    "Logs_20140328", "application/x-amz-json-1.1", actions, 0};
