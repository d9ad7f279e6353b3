# Size report (tools/size_report.sh): the protocol core for a Cortex-M4 at -Os, then the
# whole QEMU firmware images: lm3s6965 (reference runner), mps2-an386 with the reference
# runner and with TFLM + CMSIS-NN (which builds the TFLM library once, ~10 min).
SIZE_IMAGES := $(BUILD)/qemu/fleet-fw-qemu.elf $(BUILD)/mps2-ref/fleet-fw-mps2.elf $(BUILD)/mps2/fleet-fw-mps2.elf
size: $(SIZE_IMAGES)
	BUILD=$(BUILD) ARM_CC=$(ARM_CC) IMAGES="$(SIZE_IMAGES)" tools/size_report.sh
