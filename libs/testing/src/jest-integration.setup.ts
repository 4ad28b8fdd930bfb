// Integration tests talk to real services and processes: a longer default than Jest's 5 s.
jest.setTimeout(60_000);
