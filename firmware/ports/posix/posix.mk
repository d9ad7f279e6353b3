# POSIX port: the firmware as a process on a pseudo-terminal (see ports/posix/main.c).
# `posix` runs models with TFLM (C++, from TFLM_DIR); `posix-ref` with the C99 reference
# runner (FULLY_CONNECTED int8 models only), for machines without a TFLM tree or C++.
POSIX_SRC := ports/posix/main.c ports/posix/file_store.c $(SIM_SENSOR) $(DRIVERS) $(CORE)
POSIX_HDRS := $(wildcard core/*.h runner/*.h runner/tflm/*.h drivers/*.h ports/posix/*.h ports/common/*.h)
POSIX_CFLAGS := -std=c11 -O2 -g $(WARN) $(INC) -Iports/common -Iports/posix

posix: $(BUILD)/posix/fleet-fw-posix
posix-ref: $(BUILD)/posix-ref/fleet-fw-posix

$(BUILD)/posix/fleet-fw-posix: $(POSIX_SRC) $(POSIX_HDRS) $(TFLM_RUNNER_OBJ) $(TFLM_HOST_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(POSIX_CFLAGS) -Irunner/tflm -DFW_RUNNER_TFLM $(POSIX_SRC) $(TFLM_RUNNER_OBJ) $(TFLM_HOST_LIB) -lstdc++ -lm -o $@

$(BUILD)/posix-ref/fleet-fw-posix: $(POSIX_SRC) $(RUNNER) $(POSIX_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(POSIX_CFLAGS) $(POSIX_SRC) $(RUNNER) -lm -o $@
