"""The typed model of what an asset says about itself: manifests, GenAI uses, clearance checks, statuses."""
