// A test of these suites that fails is run once more, its first failure printed in full. Why: in
// about one run in fifteen on a loaded 2-core machine, the first request after the apps start got
// no answer within the test's timeout, with nothing at warn level in any app's output (open defect,
// noted on issue 13; the suites' later requests, and every re-run, were answered). A second
// failure fails the suite as before; the integration runner prints every failure at its end.
// (Jest's object in an ES module is `import.meta.jest`.)
(import.meta as ImportMeta & { jest: { retryTimes(times: number, options: { logErrorsBeforeRetry: boolean }): void } }).jest.retryTimes(1, { logErrorsBeforeRetry: true });
