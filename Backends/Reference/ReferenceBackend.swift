// Placeholder until the reference backend lands.
