"""QC and the final-deliverable gate: discovery, check, package, verify-package, the watchdog."""
