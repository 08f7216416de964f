export { Prng, zipfCumulative, sampleCumulative } from './prng.js';
export { generateSessions, sessionsToEvents, syntheticDefaults, type SyntheticOptions, type SyntheticSession, type SyntheticLog } from './generator.js';
