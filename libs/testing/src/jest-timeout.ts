// `testTimeout` is a global Jest option that a project entry ignores; integration tests talk to
// real stores and queues, so they get a minute.
jest.setTimeout(60_000);
