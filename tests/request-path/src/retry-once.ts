// A test of these suites that fails is run once more, its first failure printed in full, so the
// failure is seen and a second one still fails the suite. Why: a few of these tests measure time
// on a loaded 2-core CI machine (a session's lane heartbeat of 2 s, "refused at once" against a
// 20 s deadline). Not a cover for lost requests: those came from apps of other suites (or leaked
// ones) consuming the same topics on the shared broker and dropping requests of tasks they could
// not find, and every file now runs its apps in a broker namespace of its own.
// (Jest's object in an ES module is `import.meta.jest`.)
(import.meta as ImportMeta & { jest: { retryTimes(times: number, options: { logErrorsBeforeRetry: boolean }): void } }).jest.retryTimes(1, { logErrorsBeforeRetry: true });
