# $(call fw_stamp,FILE,TEXT): FILE holds TEXT, rewritten only when TEXT changes, so
# targets that depend on FILE rebuild when a make variable (a path, a flag) changes
# and only then. Evaluated when the makefile is read.
fw_stamp = $(shell mkdir -p $(dir $(1)) && if [ "`cat $(1) 2>/dev/null`" != '$(2)' ]; then echo '$(2)' > $(1); fi)
