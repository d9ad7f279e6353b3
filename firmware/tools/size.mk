# Size report of the protocol core for a Cortex-M4 at -Os (tools/size_report.sh).
size:
	BUILD=$(BUILD) ARM_CC=$(ARM_CC) tools/size_report.sh
