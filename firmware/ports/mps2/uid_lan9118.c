/* The AN386's uid: the MAC address of its LAN9118 Ethernet controller, which QEMU takes
 * from the NIC (`-nic user,mac=...`), so several QEMU boards get distinct uids. The MAC
 * registers are behind the controller's indirect MAC CSR interface. */
#include "board.h"
#include "cortex_m.h"

#define LAN9118 0x40200000u
#define MAC_CSR_CMD REG32(LAN9118 + 0xA4u)
#define MAC_CSR_DATA REG32(LAN9118 + 0xA8u)
#define CSR_BUSY (1u << 31)
#define CSR_READ (1u << 30)
#define MAC_ADDRH 2u
#define MAC_ADDRL 3u

static uint32_t mac_read(uint32_t index)
{
    MAC_CSR_CMD = CSR_BUSY | CSR_READ | index;
    while (MAC_CSR_CMD & CSR_BUSY)
        ;
    return MAC_CSR_DATA;
}

void board_uid(uint8_t uid[BOARD_UID_BYTES])
{
    uint32_t lo = mac_read(MAC_ADDRL), hi = mac_read(MAC_ADDRH);
    uid[0] = (uint8_t)lo;
    uid[1] = (uint8_t)(lo >> 8);
    uid[2] = (uint8_t)(lo >> 16);
    uid[3] = (uint8_t)(lo >> 24);
    uid[4] = (uint8_t)hi;
    uid[5] = (uint8_t)(hi >> 8);
}
