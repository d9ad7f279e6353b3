"""External power meters: emulators on pseudo-terminals, host-side drivers, and the
per-inference energy reducer (docs/power.md)."""
