# QEMU port: TI LM3S6965 (Cortex-M3) on `qemu-system-arm -M lm3s6965evb` (ports/qemu), over
# the shared Cortex-M code in ports/cortex_m, with the reference runner.
ARM_CC ?= arm-none-eabi-gcc
CORTEX_M_SRC := ports/cortex_m/main.c ports/cortex_m/startup.c ports/cortex_m/clock_systick.c \
                ports/cortex_m/ram_store.c ports/cortex_m/rx_ring.c $(SIM_SENSOR) $(DRIVERS) $(CORE)
CORTEX_M_DEPS := $(wildcard core/*.h runner/*.h drivers/*.h ports/cortex_m/* ports/common/*.h)
QEMU_SRC := $(CORTEX_M_SRC) $(RUNNER) $(wildcard ports/qemu/*.c)
QEMU_CFLAGS := -mcpu=cortex-m3 -mthumb -Os -g -std=c99 -ffunction-sections -fdata-sections $(WARN) \
               $(INC) -Iports/common -Iports/qemu -Iports/cortex_m
QEMU_LDFLAGS := -nostartfiles -T ports/qemu/lm3s6965.ld -Lports/cortex_m -Wl,--gc-sections --specs=nano.specs \
                -Wl,-Map=$(BUILD)/qemu/fleet-fw-qemu.map

qemu: $(BUILD)/qemu/fleet-fw-qemu.elf

$(BUILD)/qemu/fleet-fw-qemu.elf: $(QEMU_SRC) ports/qemu/lm3s6965.ld $(CORTEX_M_DEPS) $(wildcard ports/qemu/*.h)
	@mkdir -p $(dir $@)
	$(ARM_CC) $(QEMU_CFLAGS) $(QEMU_LDFLAGS) $(QEMU_SRC) -lm -o $@
	arm-none-eabi-size $@
