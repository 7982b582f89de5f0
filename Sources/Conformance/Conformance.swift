// Placeholder until the conformance catalogue lands.
