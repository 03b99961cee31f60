/*
 * replay_main.c: a main() for the fuzz targets when they are built without
 * libFuzzer. It calls LLVMFuzzerTestOneInput once for every file named on
 * the command line and every regular file inside each directory named (not
 * recursive, dot files skipped, in name order), so the seed corpora and
 * any saved crash inputs run as ordinary regression tests under CTest and
 * the sanitizer build. Arguments starting with '-' (libFuzzer flags) are
 * ignored.
 *
 * Each input is copied into a heap block of exactly its size so that
 * AddressSanitizer catches reads past the end, as libFuzzer would.
 * Exit status: 0 when at least one input ran and every path was readable;
 * 1 otherwise (a crash in a target aborts the process as usual).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Run the target on one file; returns 0 on success, -1 if unreadable. */
static int replay_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "replay: %s: read error\n", path);
        free(buf);
        return -1;
    }
    /* Exact-size copy: an overread is then a heap-buffer-overflow. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        fprintf(stderr, "replay: out of memory\n");
        return -1;
    }
    memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

static int skip_dots(const struct dirent *de) {
    return de->d_name[0] != '.';
}

/* Replay every regular file in dir; adds to *count. */
static int replay_dir(const char *dir, size_t *count) {
    struct dirent **ents;
    int n = scandir(dir, &ents, skip_dots, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        size_t need = strlen(dir) + strlen(ents[i]->d_name) + 2;
        char *path = malloc(need);
        struct stat st;
        if (path) {
            snprintf(path, need, "%s/%s", dir, ents[i]->d_name);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                if (replay_file(path) == 0)
                    (*count)++;
                else
                    rc = -1;
            }
        } else {
            rc = -1;
        }
        free(path);
        free(ents[i]);
    }
    free(ents);
    return rc;
}

int main(int argc, char **argv) {
    size_t count = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (argv[i][0] == '-')
            continue;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            rc = 1;
        } else if (S_ISDIR(st.st_mode)) {
            if (replay_dir(argv[i], &count) != 0)
                rc = 1;
        } else if (replay_file(argv[i]) == 0) {
            count++;
        } else {
            rc = 1;
        }
    }
    fprintf(stderr, "replay: %zu inputs ran\n", count);
    if (count == 0) {
        fprintf(stderr, "replay: no inputs (usage: %s FILE|DIR...)\n", argv[0]);
        rc = 1;
    }
    return rc;
}
