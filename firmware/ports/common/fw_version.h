/* The firmware version every port reports in INFO. */
#ifndef FW_VERSION_H
#define FW_VERSION_H
#define FLEET_FW_VERSION "fleet-fw 0.1.0"
#endif
