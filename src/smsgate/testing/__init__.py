"""In-memory fakes of the services' ports, shared by the tests and the benchmarks."""
