# QEMU port: ARM MPS2 AN386 (Cortex-M4F) on `qemu-system-arm -M mps2-an386` (ports/mps2),
# over the shared Cortex-M code in ports/cortex_m (ports/qemu/qemu.mk defines CORTEX_M_SRC).
#   make mps2-ref   with the C reference runner: build/mps2/fleet-fw-mps2-ref.elf
MPS2_ARCH := -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
MPS2_CFLAGS := $(MPS2_ARCH) -Os -g -std=c99 -ffunction-sections -fdata-sections $(WARN) \
               $(INC) -Iports/common -Iports/mps2 -Iports/cortex_m
MPS2_LDFLAGS = $(MPS2_ARCH) -nostartfiles -T ports/mps2/an386.ld -Lports/cortex_m -Wl,--gc-sections \
               --specs=nano.specs -Wl,-Map=$(@:.elf=.map)
MPS2_SRC := $(CORTEX_M_SRC) $(wildcard ports/mps2/*.c)
MPS2_DEPS := $(CORTEX_M_DEPS) $(wildcard ports/mps2/*.h) ports/mps2/an386.ld

.PHONY: mps2-ref
mps2-ref: $(BUILD)/mps2/fleet-fw-mps2-ref.elf

$(BUILD)/mps2/fleet-fw-mps2-ref.elf: $(MPS2_SRC) ports/cortex_m/runner_ref.c $(RUNNER) $(MPS2_DEPS)
	@mkdir -p $(dir $@)
	$(ARM_CC) $(MPS2_CFLAGS) $(MPS2_LDFLAGS) $(MPS2_SRC) ports/cortex_m/runner_ref.c $(RUNNER) -lm -o $@
	arm-none-eabi-size $@

# TFLM with CMSIS-NN kernels for the Cortex-M4F, from the cmsis-nn tree (tflm.mk), built
# once into $(BUILD)/tflm-m4 with TFLM's own Cortex-M flags (SOURCES.md), hard-float.
#   make mps2       with the TFLM runner:           build/mps2/fleet-fw-mps2.elf
TFLM_M4_DIR ?= ../../shared/third_party/tflite-micro/cmsis-nn
TFLM_M4_DEFS := -DTF_LITE_STATIC_MEMORY -DTF_LITE_MCU_DEBUG_LOG -DCMSIS_NN -DKERNELS_OPTIMIZED_FOR_SPEED -DARMCM4 \
                -DCMSIS_DEVICE_ARM_CORTEX_M_XX_HEADER_FILE=\"ARMCM4.h\" -I$(TFLM_M4_DIR)/third_party/cmsis/Device/ARMCM4/Include
$(eval $(call tflm_library,TFLM_M4,$(TFLM_M4_DIR),arm-none-eabi-g++,$(ARM_CC),$(MPS2_ARCH) -Os -ffunction-sections -fdata-sections,$(TFLM_M4_DEFS),$(BUILD)/tflm-m4))
