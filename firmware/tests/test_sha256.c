/* SHA-256 against the FIPS 180-2 appendix B examples, fed in awkward pieces. */
#include <string.h>

#include "check.h"
#include "fw_sha256.h"

static void digest_of(const uint8_t *p, size_t n, size_t piece, uint8_t out[32])
{
    fw_sha256 s;
    fw_sha256_init(&s);
    for (size_t i = 0; i < n; i += piece)
        fw_sha256_update(&s, p + i, n - i < piece ? n - i : piece);
    fw_sha256_final(&s, out);
}

static void expect(const char *msg, size_t piece, const char *hex)
{
    uint8_t d[32];
    char got[65];
    digest_of((const uint8_t *)msg, strlen(msg), piece, d);
    for (int i = 0; i < 32; i++)
        snprintf(got + 2 * i, 3, "%02x", d[i]);
    CHECK(strcmp(got, hex) == 0);
}

int main(void)
{
    static const char *abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    static const char *two = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
    static const char *empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    static const char *mil = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    const char *msg2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    expect("abc", 1, abc);
    expect("abc", 64, abc);
    expect(msg2, 1, two);
    expect(msg2, 7, two);
    expect(msg2, 100, two);
    expect("", 1, empty);
    static uint8_t a[1000000];
    memset(a, 'a', sizeof a);
    uint8_t d[32];
    char got[65];
    digest_of(a, sizeof a, 4093, d);
    for (int i = 0; i < 32; i++)
        snprintf(got + 2 * i, 3, "%02x", d[i]);
    CHECK(strcmp(got, mil) == 0);
    return check_done("sha256");
}
