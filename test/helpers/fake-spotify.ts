// The fake Spotify API lives in src/ so the benchmarks (from dist/) and `soulspot bench` can use it too.
export * from '../../src/bench/fake-spotify/server.js';
