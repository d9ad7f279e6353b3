"""External power meters: their serial protocols, host-side drivers and sessions, meter
discovery, and the per-inference energy reducer (docs/power.md). The emulators that play
meters for virtual boards are in fleet.sim.meters."""
