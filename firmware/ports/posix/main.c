/* The POSIX port: the firmware as a process whose UART is a pseudo-terminal, so the
 * host opens /dev/pts/N with pyserial exactly as it opens a board's /dev/ttyACM0.
 *
 *   fleet-fw-posix --state DIR [--uid HEX] [--kind NAME] [--slot-bytes N]
 *                  [--arena-bytes N] [--period-ms N] [--cpu-hz N] [--sensor ina219|ina226]
 *
 * Prints "PTY /dev/pts/N" on stdout once the port is ready. The board powers on when the
 * host first writes to it, as a USB board powers on when plugged in: a host opening the
 * port flushes its input (pyserial does), so an earlier BOOT event would be lost. Slots
 * persist in DIR; the inference runner is TFLM (`make posix`) or the int8 reference runner
 * (`make posix-ref`), see port_runner.h. Power is modelled, or with --sensor measured by the
 * INA219/INA226 driver from a simulated part on the I2C HAL (ports/common/sim_ina.h) that
 * the inference marker and the power model feed: 1 ohm shunt at 0x40, 30 mA full scale. */
#define _GNU_SOURCE /* posix_openpt, ptsname, cfmakeraw */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "file_store.h"
#include "fw_device.h"
#include "fw_sha256.h"
#include "fw_version.h"
#include "model_power.h"
#include "port_runner.h"
#include "sim_ina.h"

#define MAX_PAYLOAD 1024u

static struct {
    int master;
    uint64_t t0_ns;
    uint64_t dropped; /* bytes a full PTY refused: a UART with nobody listening */
} g_port;

static uint64_t now_us(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec - g_port.t0_ns) / 1000u;
}

/* Non-blocking writes, with a short grace period when the PTY is full, then drop:
 * a board never stalls because the host stopped reading. */
static void uart_write(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    while (n) {
        ssize_t w = write(g_port.master, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        struct pollfd pfd = {g_port.master, POLLOUT, 0};
        if (w < 0 && errno == EAGAIN && poll(&pfd, 1, 50) > 0)
            continue;
        g_port.dropped += n;
        return;
    }
}

static int open_pty(char *name, size_t cap)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) || unlockpt(m) || !ptsname(m))
        return -1;
    snprintf(name, cap, "%s", ptsname(m));
    /* Hold the slave open: the master then never reads EIO between host sessions, and
     * raw mode stays set (no echo of the host's bytes, no line editing). */
    int s = open(name, O_RDWR | O_NOCTTY);
    struct termios t;
    if (s < 0 || tcgetattr(s, &t))
        return -1;
    cfmakeraw(&t);
    tcsetattr(s, TCSANOW, &t);
    fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
    return m;
}

static int parse_hex(const char *hex, uint8_t *out, uint8_t *len)
{
    size_t n = strlen(hex);
    if (n == 0 || n % 2 || n / 2 > FW_MAX_UID)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    *len = (uint8_t)(n / 2);
    return 0;
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s --state DIR [--uid HEX] [--kind NAME] [--slot-bytes N] [--arena-bytes N]\n"
            "          [--period-ms N] [--cpu-hz N] [--sensor ina219|ina226]\n",
            prog);
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"state", required_argument, 0, 's'},      {"uid", required_argument, 0, 'u'},
        {"kind", required_argument, 0, 'k'},       {"slot-bytes", required_argument, 0, 'b'},
        {"arena-bytes", required_argument, 0, 'a'}, {"period-ms", required_argument, 0, 'p'},
        {"cpu-hz", required_argument, 0, 'c'},     {"sensor", required_argument, 0, 'S'},
        {0, 0, 0, 0},
    };
    const char *state = NULL, *uid_hex = NULL, *kind = "posix", *sensor = NULL;
    unsigned long slot_bytes = 262144, arena_bytes = 65536, period_ms = 10, cpu_hz = 0;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 's': state = optarg; break;
        case 'u': uid_hex = optarg; break;
        case 'k': kind = optarg; break;
        case 'b': slot_bytes = strtoul(optarg, NULL, 0); break;
        case 'a': arena_bytes = strtoul(optarg, NULL, 0); break;
        case 'p': period_ms = strtoul(optarg, NULL, 0); break;
        case 'c': cpu_hz = strtoul(optarg, NULL, 0); break;
        case 'S': sensor = optarg; break;
        default: usage(argv[0]);
        }
    }
    if (!state || slot_bytes == 0 || slot_bytes > (64u << 20) || period_ms == 0 ||
        (sensor && strcmp(sensor, "ina219") && strcmp(sensor, "ina226")))
        usage(argv[0]);

    uint8_t uid[FW_MAX_UID];
    uint8_t uid_len = 8;
    if (uid_hex) {
        if (parse_hex(uid_hex, uid, &uid_len))
            usage(argv[0]);
    } else {
        /* A stable identity per state directory, as a chip's is per chip. */
        char real[4096];
        uint8_t digest[FW_SHA256_SIZE];
        fw_sha256 h;
        const char *id = realpath(state, real) ? real : state;
        fw_sha256_init(&h);
        fw_sha256_update(&h, (const uint8_t *)id, strlen(id));
        fw_sha256_final(&h, digest);
        memcpy(uid, digest, uid_len);
    }

    static file_store store;
    if (file_store_open(&store, state, (uint32_t)slot_bytes)) {
        perror(state);
        return 1;
    }
    uint8_t *arena = aligned_alloc(16, (arena_bytes + 15) & ~15ul);
    char pty[256];
    g_port.master = open_pty(pty, sizeof pty);
    if (!arena || g_port.master < 0) {
        perror("fleet-fw-posix");
        return 1;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    g_port.t0_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;

    static model_power power = {3300, 2000, 6000};
    static fw_hal hal;
    hal.uart.write = uart_write;
    hal.clock.now_us = now_us;
    hal.store = file_store_iface(&store);
    hal.power = model_power_meter(&power);
    hal.runner = port_runner_make(arena, (uint32_t)arena_bytes);
    static sim_ina part;
    static fw_i2c i2c;
    static fw_ina ina;
    if (sensor) {
        fw_ina_chip chip = strcmp(sensor, "ina219") ? FW_INA226 : FW_INA219;
        const fw_ina_config ina_cfg = {chip, 0x40, 1000000, 30000, 0};
        sim_ina_init(&part, chip, 0x40, 1000000, &power, &hal.clock);
        i2c = sim_ina_bus(&part);
        fw_ina_init(&ina, &i2c, &ina_cfg);
        hal.sensor = fw_ina_sensor(&ina);
        hal.marker = sim_ina_marker(&part);
    }
    const fw_config cfg = {uid, uid_len, kind, FLEET_FW_VERSION, (uint32_t)cpu_hz, MAX_PAYLOAD,
                           4096, (uint32_t)(period_ms * 1000u), 10, FW_CAP_DEFLATE | FW_CAP_DELTA};
    static fw_device dev;
    static uint8_t rx[FW_RX_BUF_SIZE(MAX_PAYLOAD)], tx[FW_TX_BUF_SIZE(MAX_PAYLOAD)];
    uint8_t reason = FW_BOOT_POWER_ON;
    uint8_t buf[4096];
    ssize_t pending = 0; /* the host's first bytes, handled once the board is up */

    printf("PTY %s\n", pty);
    fflush(stdout);
    while (pending <= 0) {
        struct pollfd pfd = {g_port.master, POLLIN, 0};
        if (poll(&pfd, 1, -1) > 0)
            pending = read(g_port.master, buf, sizeof buf);
    }
    for (;;) {
        /* (Re)boot: all RAM state is rebuilt; the slots come back from the files. */
        file_store_open(&store, state, (uint32_t)slot_bytes);
        hal.runner = port_runner_make(arena, (uint32_t)arena_bytes);
        fw_device_init(&dev, &cfg, &hal, rx, tx);
        fw_device_boot(&dev, reason);
        if (pending > 0)
            fw_device_input(&dev, buf, (size_t)pending);
        pending = 0;
        while (!fw_device_reboot_requested(&dev)) {
            uint32_t wait_us = fw_device_poll(&dev);
            struct pollfd pfd = {g_port.master, POLLIN, 0};
            if (poll(&pfd, 1, (int)((wait_us + 999u) / 1000u)) > 0) {
                ssize_t n = read(g_port.master, buf, sizeof buf);
                if (n > 0)
                    fw_device_input(&dev, buf, (size_t)n);
            }
        }
        reason = FW_BOOT_REQUESTED;
    }
}
