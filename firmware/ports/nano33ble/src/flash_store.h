/* Model slots in the nRF52840's internal flash, through mbed's FlashIAP.
 *
 * Layout (1 MB flash, 4 KB pages; the Arduino bootloader owns 0x00000-0x0FFFF and the
 * application must fit 0x10000-0x4FFFF):
 *   0x50000  slot 0 (320 KB)   0xA0000  slot 1 (320 KB)   0xF0000  metadata log (2 pages)
 * Slots are memory-mapped, so the runner reads a model in place. */
#ifndef FLASH_STORE_H
#define FLASH_STORE_H

extern "C" {
#include "fw_hal.h"
}

#define FLASH_SLOT_BYTES (320u * 1024u)

fw_store flash_store_open();

#endif
