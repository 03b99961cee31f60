/*
 * uuid.c: UUIDs in their 36-character text form (common.h): random
 * version 4 ids for events, messages and resources, and the conversion
 * between the 16 bytes the AWS Glue wire format carries and the text the
 * registry's API speaks. One formatter and one parser serve every module.
 */
#include <errno.h>
#include <sys/random.h>

#include "common.h"

void evb_uuid_format(const uint8_t uuid[16], char out[37]) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[uuid[i] >> 4];
        out[o++] = hex[uuid[i] & 15];
    }
    out[o] = '\0';
}

bool evb_uuid_parse(const char *text, size_t len, uint8_t uuid[16]) {
    if (!text || len != 36)
        return false;
    size_t k = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return false;
            i++;
            continue;
        }
        int hi = evb_hex_value(text[i]), lo = evb_hex_value(text[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        uuid[k++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return true;
}

evb_err_t evb_uuid_v4(char out[37]) {
    uint8_t b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return EVB_ERR_IO;
        }
        got += (size_t)n;
    }
    b[6] = (uint8_t)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    evb_uuid_format(b, out);
    return EVB_ERR_OK;
}
