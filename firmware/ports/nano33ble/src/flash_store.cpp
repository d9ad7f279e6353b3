#include "flash_store.h"

#include <mbed.h>
#include <string.h>

namespace {

const uint32_t kSlotBase[FW_SLOTS] = {0x50000u, 0xA0000u};
const uint32_t kMetaBase = 0xF0000u;
const uint32_t kPage = 4096u;
const uint32_t kMagic = 0x464C544Du; /* "FLTM" */

/* The core saves metadata after every chunk. Rewriting one page each time would wear
 * it out within a few hundred uploads, so saves append records to a two-page log and
 * a page is erased only when the log moves to it (about once per 15 saves). */
struct Record {
    uint32_t magic;
    uint32_t seq;
    fw_persist p;
    uint32_t pad; /* keeps the record a multiple of 8 bytes */
};
const uint32_t kRecord = (sizeof(Record) + 7u) & ~7u;
const uint32_t kPerPage = kPage / kRecord;

mbed::FlashIAP g_flash;
uint32_t g_next_addr; /* where the next record goes */
uint32_t g_seq;
const Record *record_at(uint32_t addr) { return reinterpret_cast<const Record *>(addr); }

int load(void *, fw_persist *p)
{
    const Record *best = nullptr;
    for (uint32_t page = 0; page < 2; page++)
        for (uint32_t i = 0; i < kPerPage; i++) {
            const Record *r = record_at(kMetaBase + page * kPage + i * kRecord);
            if (r->magic == kMagic && (!best || r->seq > best->seq))
                best = r;
        }
    if (!best) {
        g_next_addr = kMetaBase;
        g_seq = 0;
        return 1;
    }
    *p = best->p;
    g_seq = best->seq + 1;
    g_next_addr = reinterpret_cast<uint32_t>(best) + kRecord;
    return 0;
}

int save(void *, const fw_persist *p)
{
    uint32_t offset = (g_next_addr - kMetaBase) % kPage;
    if (g_next_addr >= kMetaBase + 2 * kPage || offset + kRecord > kPage)
        g_next_addr = g_next_addr >= kMetaBase + kPage ? kMetaBase : kMetaBase + kPage;
    if ((g_next_addr - kMetaBase) % kPage == 0 && g_flash.erase(g_next_addr, kPage) != 0)
        return -1;
    Record r;
    memset(&r, 0xFF, sizeof r);
    r.magic = kMagic;
    r.seq = g_seq++;
    r.p = *p;
    if (g_flash.program(&r, g_next_addr, kRecord) != 0)
        return -1;
    g_next_addr += kRecord;
    return 0;
}

int erase(void *, uint8_t slot) { return g_flash.erase(kSlotBase[slot], FLASH_SLOT_BYTES) == 0 ? 0 : -1; }

/* Flash is programmed in aligned 4-byte words. Bytes of a word that this chunk does
 * not cover are written as 0xFF, which leaves them as they are (programming only
 * clears bits), so a chunk ending mid-word is completed by the next one: at most two
 * writes per word, within the nRF52840's limit. Every byte acknowledged is in flash. */
int write(void *, uint8_t slot, uint32_t off, const uint8_t *p, uint32_t n)
{
    while (n) {
        uint32_t at = off & ~3u, first = off - at;
        uint32_t take = 4u - first < n ? 4u - first : n;
        uint8_t word[4] = {0xFF, 0xFF, 0xFF, 0xFF};
        memcpy(word + first, p, take);
        if (g_flash.program(word, kSlotBase[slot] + at, 4) != 0)
            return -1;
        off += take;
        p += take;
        n -= take;
    }
    return 0;
}

const uint8_t *map(void *, uint8_t slot) { return reinterpret_cast<const uint8_t *>(kSlotBase[slot]); }

} // namespace

fw_store flash_store_open()
{
    g_flash.init();
    fw_store s = {nullptr, FLASH_SLOT_BYTES, load, save, erase, write, map};
    return s;
}
