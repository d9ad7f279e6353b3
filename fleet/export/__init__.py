"""Telemetry export to systems outside fleet: an MQTT broker (`fleet.export.mqtt`).

Exporters are manager consumers like `fleet monitor`'s view: a bounded queue fed by the
manager's hub, so a slow or absent broker costs dropped (and counted) messages, never a
stalled board reader. paho-mqtt is imported only when an exporter starts.
"""
