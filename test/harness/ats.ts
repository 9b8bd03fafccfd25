// A private Apache Traffic Server for tests: the API that tests, the demo and
// the benchmarks use, gathered from the modules that hold it:
//
//   ats-instance.ts  startAts(), the AtsInstance (launch, readiness, stop, restart), trafficCtl
//   ats-runroot.ts   its runroot: production's (src/ats/runroot.ts) plus the tests' overrides
//   ats-verify.ts    verifyPlugin(): traffic_server -C verify_* in a temp runroot
//   http-request.ts  httpRequest(): one request, the whole answer
//
// Processes (runCommand, ManagedProcess) are in processes.ts, free ports in ports.ts.

export { startAts, trafficCtl, AtsStartError, type AtsInstance, type AtsOptions } from './ats-instance.js';
export { ATS_MODULES_DIR, DEFAULT_BIN_DIR, type AtsConfig, type RecordValue, type TlsCert } from './ats-runroot.js';
export { verifyPlugin, type VerifyResult } from './ats-verify.js';
export { httpRequest, type HttpRequestOptions, type HttpResponse } from './http-request.js';
export type { CommandResult } from './processes.js';
