/* CRC-32: the check value from PROTOCOL.md and incremental use. */
#include <string.h>

#include "check.h"
#include "fw_crc32.h"

int main(void)
{
    const uint8_t *digits = (const uint8_t *)"123456789";
    CHECK_EQ(fw_crc32(0, digits, 9), 0xCBF43926u);
    CHECK_EQ(fw_crc32(fw_crc32(0, digits, 4), digits + 4, 5), 0xCBF43926u);
    CHECK_EQ(fw_crc32(0, digits, 0), 0);
    const uint8_t zeros[4] = {0};
    CHECK_EQ(fw_crc32(0, zeros, 4), 0x2144DF1Cu); /* zlib.crc32(bytes(4)) */
    return check_done("crc32");
}
