# QEMU port: ARM MPS2 AN386 (Cortex-M4F) on `qemu-system-arm -M mps2-an386` (ports/mps2),
# over the shared Cortex-M code in ports/cortex_m (ports/qemu/qemu.mk defines CORTEX_M_SRC).
#   make mps2       TFLM with CMSIS-NN kernels:  build/mps2/fleet-fw-mps2.elf
#   make mps2-ref   the C reference runner:      build/mps2-ref/fleet-fw-mps2.elf
ARM_CXX ?= arm-none-eabi-g++
MPS2_ARCH := -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
MPS2_CFLAGS := $(MPS2_ARCH) -Os -g -std=c99 -ffunction-sections -fdata-sections $(WARN) \
               $(INC) -Iports/common -Iports/mps2 -Iports/cortex_m
MPS2_LDFLAGS = $(MPS2_ARCH) -nostartfiles -T ports/mps2/an386.ld -Lports/cortex_m -Wl,--gc-sections \
               --specs=nano.specs -Wl,-Map=$(@:.elf=.map)
MPS2_SRC := $(CORTEX_M_SRC) $(wildcard ports/mps2/*.c)
MPS2_DEPS := $(CORTEX_M_DEPS) $(wildcard ports/mps2/*.h) ports/mps2/an386.ld

# TFLM with CMSIS-NN kernels from the cmsis-nn tree (tflm.mk), built once into
# $(BUILD)/tflm-m4 with TFLM's Cortex-M flags (../../shared/third_party/tflite-micro/SOURCES.md),
# hard-float for the M4F. PROJECT_GENERATION gives cortex_m_generic/micro_time.cc the stubs
# the generated tree expects (its DWT cycle counter needs CMSIS headers the tree lacks, and
# QEMU does not model DWT); latency comes from the board's SysTick clock instead.
TFLM_M4_DIR ?= ../../shared/third_party/tflite-micro/cmsis-nn
TFLM_M4_FLAGS := $(MPS2_ARCH) -Os -ffunction-sections -fdata-sections
TFLM_M4_DEFS := -DTF_LITE_STATIC_MEMORY -DTF_LITE_MCU_DEBUG_LOG -DCMSIS_NN -DKERNELS_OPTIMIZED_FOR_SPEED \
                -DPROJECT_GENERATION -DFW_TFLM_COMMIT=\"$(TFLM_COMMIT)\"
$(eval $(call tflm_library,TFLM_M4,$(TFLM_M4_DIR),$(ARM_CXX),$(ARM_CC),$(TFLM_M4_FLAGS),$(TFLM_M4_DEFS),$(BUILD)/tflm-m4))

# The shared TFLM runner (runner/tflm), compiled against the M4 library.
MPS2_RUNNER_OBJ := $(BUILD)/tflm-m4/fw_tflm_runner.o
$(MPS2_RUNNER_OBJ): runner/tflm/fw_tflm_runner.cpp runner/tflm/fw_tflm_ops.inc $(TFLM_M4_OUT)/flags | $(TFLM_M4_LIB)
	$(ARM_CXX) $(TFLM_M4_CXXFLAGS) $(TFLM_M4_FLAGS) -g -Wall -Wextra -Werror -MMD -MP $(INC) -Irunner/tflm \
	    $(TFLM_M4_CPPFLAGS) -c $< -o $@
-include $(MPS2_RUNNER_OBJ:.o=.d)

.PHONY: mps2 mps2-ref
mps2: $(BUILD)/mps2/fleet-fw-mps2.elf
mps2-ref: $(BUILD)/mps2-ref/fleet-fw-mps2.elf

$(BUILD)/mps2/fleet-fw-mps2.elf: $(MPS2_SRC) $(MPS2_DEPS) $(MPS2_RUNNER_OBJ) $(TFLM_M4_LIB)
	@mkdir -p $(dir $@)
	$(ARM_CC) $(MPS2_CFLAGS) -Irunner/tflm -DFW_RUNNER_TFLM $(MPS2_LDFLAGS) --specs=nosys.specs $(MPS2_SRC) \
	    $(MPS2_RUNNER_OBJ) $(TFLM_M4_LIB) -lstdc++ -lm -o $@
	arm-none-eabi-size $@

$(BUILD)/mps2-ref/fleet-fw-mps2.elf: $(MPS2_SRC) $(RUNNER) $(MPS2_DEPS)
	@mkdir -p $(dir $@)
	$(ARM_CC) $(MPS2_CFLAGS) $(MPS2_LDFLAGS) $(MPS2_SRC) $(RUNNER) -lm -o $@
	arm-none-eabi-size $@
