/* Slot storage in a state directory, so a restarted POSIX board keeps its slots:
 * meta.bin holds the persisted metadata (replaced atomically by rename), slot0.bin and
 * slot1.bin the slot images. The slots are mirrored in RAM so the runner can read a
 * model in place, as it reads memory-mapped flash on a board. */
#ifndef FILE_STORE_H
#define FILE_STORE_H
#include "fw_hal.h"

typedef struct {
    char dir[4000];
    uint32_t slot_bytes;
    uint8_t *slot[FW_SLOTS];
} file_store;

/* 0 on success; the directory is created if missing. */
int file_store_open(file_store *fs, const char *dir, uint32_t slot_bytes);
fw_store file_store_iface(file_store *fs);

#endif
