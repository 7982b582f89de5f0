// Placeholder until the BLAS backend lands.
