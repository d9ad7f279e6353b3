# QEMU port: TI LM3S6965 (Cortex-M3) on `qemu-system-arm -M lm3s6965evb` (ports/qemu).
ARM_CC ?= arm-none-eabi-gcc
QEMU_SRC := $(wildcard ports/qemu/*.c) ports/common/model_power.c $(CORE) $(RUNNER)
QEMU_CFLAGS := -mcpu=cortex-m3 -mthumb -Os -g -std=c99 -ffunction-sections -fdata-sections $(WARN) \
               $(INC) -Iports/common -Iports/qemu
QEMU_LDFLAGS := -nostartfiles -T ports/qemu/lm3s6965.ld -Wl,--gc-sections --specs=nano.specs \
                -Wl,-Map=$(BUILD)/qemu/fleet-fw-qemu.map

qemu: $(BUILD)/qemu/fleet-fw-qemu.elf

$(BUILD)/qemu/fleet-fw-qemu.elf: $(QEMU_SRC) ports/qemu/lm3s6965.ld $(wildcard core/*.h runner/*.h ports/qemu/*.h ports/common/*.h)
	@mkdir -p $(dir $@)
	$(ARM_CC) $(QEMU_CFLAGS) $(QEMU_LDFLAGS) $(QEMU_SRC) -lm -o $@
	arm-none-eabi-size $@
