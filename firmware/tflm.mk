# TensorFlow Lite Micro as a static library, built from a pinned TFLM source tree (the
# trees TFLM's create_tflm_tree.py generates; see ../../shared/third_party/tflite-micro/
# SOURCES.md). Nothing here downloads anything: without a tree the build stops and says
# how to make one.
#
# One call defines one library; a port may define several (host reference kernels,
# Cortex-M4 CMSIS-NN, ...), each in its own output directory:
#
#   $(eval $(call tflm_library,NAME,TREE,CXX,CC,FLAGS,DEFS,OUT))
#
#   NAME   prefix of the variables the call defines (e.g. TFLM_HOST)
#   TREE   the source tree (absolute or relative to firmware/)
#   CXX    C++ compiler for the tree's .cc files
#   CC     C compiler for its .c files (kissfft)
#   FLAGS  target and optimisation flags, for compiling and linking
#          (e.g. -O2, or -mcpu=cortex-m4 -mthumb -Os ...)
#   DEFS   preprocessor defines that every file including TFLM headers must share
#          with the library, e.g. -DTF_LITE_STATIC_MEMORY (it changes TfLiteTensor's
#          layout), -DCMSIS_NN
#   OUT    output directory, e.g. $(BUILD)/tflm-host
#
# It defines:
#
#   NAME_LIB       OUT/libtflm.a: a file target, so binaries depend on it and it is
#                  built once per OUT (objects are rebuilt only when their source, a
#                  header they include, or FLAGS/DEFS change)
#   NAME_CPPFLAGS  -I and -D flags for code compiled against the library
#   NAME_CXXFLAGS  the C++ dialect flags the library was compiled with
#
# What goes into the library: every .cc/.c of the tree except the CMSIS device startup
# files (third_party/cmsis/Device: a port links its own startup code) and debug_log.cc:
# the TFLM runner (runner/tflm) defines DebugLog and DebugVsnprintf itself, to capture
# TFLM's error text, so every port logs the same way.
#
# The runner is compiled with NAME_CXXFLAGS FLAGS NAME_CPPFLAGS and needs
# -DFW_TFLM_COMMIT=\"<short hash>\" (part of DEFS in the Makefile, so a new tree or
# commit rebuilds everything); with -DCMSIS_NN in DEFS it reports cmsis-nn kernels.

include $(dir $(lastword $(MAKEFILE_LIST)))stamp.mk

TFLM_CXX_DIALECT := -std=c++17 -fno-rtti -fno-exceptions -fno-threadsafe-statics
TFLM_PCH_SRC := $(dir $(lastword $(MAKEFILE_LIST)))runner/tflm/fw_tflm_pch.h

# How to make a tree, for the message when none is found.
define TFLM_HOW_TO
no TFLM source tree at '$(1)'.
Set TFLM_DIR= to a tree made by TFLM's own generator from the pinned commits
(../../shared/third_party/tflite-micro/SOURCES.md), on a machine with internet access:
  git clone https://github.com/tensorflow/tflite-micro && cd tflite-micro
  git checkout 90b983c2b3f1480642e040bbd2ddb37b998f3424
  python3 tensorflow/lite/micro/tools/project_generation/create_tflm_tree.py OUT          # reference/
  python3 tensorflow/lite/micro/tools/project_generation/create_tflm_tree.py \
      --makefile_options="TARGET=cortex_m_generic TARGET_ARCH=cortex-m4 OPTIMIZED_KERNEL_DIR=cmsis_nn" OUT  # cmsis-nn/
or, for the POSIX board without C++: make posix-ref
endef

define tflm_library
$(1)_TREE := $(patsubst %/,%,$(2))
$(1)_OUT := $(7)
$(1)_LIB := $(7)/libtflm.a
$(1)_SRCS := $$(if $$(wildcard $$($(1)_TREE)/tensorflow/lite/micro/micro_interpreter.cc),$$(shell cd $$($(1)_TREE) && find tensorflow signal third_party \( -name '*.cc' -o -name '*.c' \) -not -path 'third_party/cmsis/Device/*' -not -name debug_log.cc | LC_ALL=C sort))
$(1)_OBJS := $$(addprefix $(7)/obj/,$$(addsuffix .o,$$($(1)_SRCS)))
$(1)_INCDIRS := $$($(1)_TREE) $$(wildcard $$(addprefix $$($(1)_TREE)/third_party/,flatbuffers/include gemmlowp ruy kissfft \
    cmsis_nn cmsis_nn/Include cmsis/CMSIS/Core/Include))
$(1)_CPPFLAGS := $$(addprefix -isystem ,$$($(1)_INCDIRS)) $(6)
$(1)_CXXFLAGS := $$(TFLM_CXX_DIALECT)
$(1)_FLAGS := $(5)

# The compile command as a file: objects depend on it, so new FLAGS or DEFS rebuild them
# (and only then: the file is rewritten only when its text changes).
$(1)_STAMP_TEXT := $(2) $(3) $(4) $(5) $(6) $$(TFLM_CXX_DIALECT)
$$(call fw_stamp,$(7)/flags,$$($(1)_STAMP_TEXT))

$$($(1)_LIB): $$($(1)_OBJS)
	$$(if $$($(1)_SRCS),,$$(info $$(call TFLM_HOW_TO,$$($(1)_TREE)))@exit 1)
	@rm -f $$@
	$$(if $$(findstring arm-none-eabi,$(3)),arm-none-eabi-ar,ar) rcs $$@ $$^
	@echo "tflm: $$@ from $$($(1)_TREE) ($$(words $$^) objects)"

# The precompiled header (runner/tflm/fw_tflm_pch.h) is compiled with exactly the flags of
# the .cc files, as GCC requires; -Winvalid-pch says so if it ever stops being used.
$(7)/pch/fw_tflm_pch.h.gch: $$(TFLM_PCH_SRC) $(7)/flags
	@mkdir -p $$(dir $$@)
	cp $$< $(7)/pch/fw_tflm_pch.h
	$(3) $$(TFLM_CXX_DIALECT) $(5) $$($(1)_CPPFLAGS) -x c++-header $(7)/pch/fw_tflm_pch.h -o $$@

$(7)/obj/%.cc.o: $$($(1)_TREE)/%.cc $(7)/flags $(7)/pch/fw_tflm_pch.h.gch
	@mkdir -p $$(dir $$@)
	$(3) $$(TFLM_CXX_DIALECT) $(5) -MMD -MP $$($(1)_CPPFLAGS) -include $(7)/pch/fw_tflm_pch.h -Winvalid-pch -c $$< -o $$@

$(7)/obj/%.c.o: $$($(1)_TREE)/%.c $(7)/flags
	@mkdir -p $$(dir $$@)
	$(4) -std=c11 $(5) -MMD -MP $$($(1)_CPPFLAGS) -c $$< -o $$@

-include $$($(1)_OBJS:.o=.d)
endef
