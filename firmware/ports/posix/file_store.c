#define _XOPEN_SOURCE 700 /* pwrite */
#include "file_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Identifies meta.bin written by this layout; another value means "no saved state". */
#define META_MAGIC 0x464C5431u /* "FLT1" */

typedef struct {
    uint32_t magic;
    uint32_t slot_bytes;
    fw_persist p;
} meta_file;

static void path(const file_store *fs, char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", fs->dir, name);
}

static void slot_path(const file_store *fs, uint8_t slot, char *out, size_t cap)
{
    char name[16];
    snprintf(name, sizeof name, "slot%u.bin", (unsigned)slot);
    path(fs, out, cap, name);
}

static int write_all(int fd, const uint8_t *p, size_t n, off_t at)
{
    while (n) {
        ssize_t w = pwrite(fd, p, n, at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
        at += w;
    }
    return 0;
}

static int st_load(void *ctx, fw_persist *p)
{
    file_store *fs = ctx;
    char file[4096];
    meta_file m;
    path(fs, file, sizeof file, "meta.bin");
    FILE *f = fopen(file, "rb");
    if (!f)
        return 1;
    size_t got = fread(&m, 1, sizeof m, f);
    fclose(f);
    /* A state written with another slot size does not describe these slots. */
    if (got != sizeof m || m.magic != META_MAGIC || m.slot_bytes != fs->slot_bytes)
        return 1;
    *p = m.p;
    return 0;
}

static int st_save(void *ctx, const fw_persist *p)
{
    file_store *fs = ctx;
    char file[4096], tmp[4100];
    meta_file m;
    memset(&m, 0, sizeof m);
    m.magic = META_MAGIC;
    m.slot_bytes = fs->slot_bytes;
    m.p = *p;
    path(fs, file, sizeof file, "meta.bin");
    snprintf(tmp, sizeof tmp, "%s.tmp", file);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    int rc = write_all(fd, (const uint8_t *)&m, sizeof m, 0);
    close(fd);
    /* rename is atomic: a crash leaves the old metadata or the new, never half. */
    return rc == 0 ? rename(tmp, file) : -1;
}

static int st_write(void *ctx, uint8_t slot, uint32_t off, const uint8_t *p, uint32_t n)
{
    file_store *fs = ctx;
    char file[4096];
    slot_path(fs, slot, file, sizeof file);
    int fd = open(file, O_WRONLY | O_CREAT, 0644);
    if (fd < 0)
        return -1;
    int rc = write_all(fd, p, n, off);
    close(fd);
    if (rc == 0)
        memcpy(fs->slot[slot] + off, p, n);
    return rc;
}

static int st_erase(void *ctx, uint8_t slot)
{
    file_store *fs = ctx;
    memset(fs->slot[slot], 0xFF, fs->slot_bytes); /* erased flash reads as 0xFF */
    char file[4096];
    slot_path(fs, slot, file, sizeof file);
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    int rc = write_all(fd, fs->slot[slot], fs->slot_bytes, 0);
    close(fd);
    return rc;
}

static const uint8_t *st_map(void *ctx, uint8_t slot) { return ((file_store *)ctx)->slot[slot]; }

int file_store_open(file_store *fs, const char *dir, uint32_t slot_bytes)
{
    if (strlen(dir) >= sizeof fs->dir)
        return -1;
    strcpy(fs->dir, dir);
    fs->slot_bytes = slot_bytes;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return -1;
    for (uint8_t i = 0; i < FW_SLOTS; i++) {
        if (!fs->slot[i])
            fs->slot[i] = malloc(slot_bytes); /* the port, not the core, allocates */
        if (!fs->slot[i])
            return -1;
        memset(fs->slot[i], 0xFF, slot_bytes);
        char file[4096];
        slot_path(fs, i, file, sizeof file);
        FILE *f = fopen(file, "rb");
        if (f) {
            size_t got = fread(fs->slot[i], 1, slot_bytes, f);
            (void)got; /* a short file is a partly written slot; metadata says how much */
            fclose(f);
        }
    }
    return 0;
}

fw_store file_store_iface(file_store *fs)
{
    fw_store s = {fs, fs->slot_bytes, st_load, st_save, st_erase, st_write, st_map};
    return s;
}
