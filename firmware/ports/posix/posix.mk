# POSIX port: the firmware as a process on a pseudo-terminal (see ports/posix/main.c).
POSIX_SRC := ports/posix/main.c ports/posix/file_store.c ports/common/model_power.c $(CORE) $(RUNNER)

posix: $(BUILD)/posix/fleet-fw-posix

$(BUILD)/posix/fleet-fw-posix: $(POSIX_SRC) $(wildcard core/*.h runner/*.h ports/posix/*.h ports/common/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -g $(WARN) $(INC) -Iports/common -Iports/posix $(POSIX_SRC) -lm -o $@
