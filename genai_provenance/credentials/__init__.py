"""Content Credentials. Signing: identity, HSM, manifest definition, the sign flow. Reading: the
c2pa Reader into the model, the GenAI scan, formats, markers of damaged boxes."""
