import Foundation

/// Threads of their own for the in-process test servers (`withServer`) and for waits that
/// measure time, so that neither depends on Swift's cooperative pool.
///
/// The pool has one thread per core (two here). Test bodies that run seconds of synchronous
/// SQLite work on it, in parallel suites, can hold both threads; an in-process server then
/// cannot answer at all, and a loop that measures how long something took wakes late. That is
/// how availability tests failed under a full `Scripts/test` run (requests unanswered for 15 s,
/// a 0.5 s stop measured as 7.6 s) while passing alone. A real `liaison serve` has a process of
/// its own; these threads give the in-process one the same independence (the operating system
/// schedules them preemptively, whatever the pool does).
public final class TestExecutor: TaskExecutor, @unchecked Sendable {
    /// The executor the test servers and timing waits share.
    public static let shared = TestExecutor(threads: 4)

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var next = 0

    init(threads: Int) {
        for index in 0..<threads {
            let thread = Thread { self.work() }
            thread.name = "liaison-test-executor-\(index)"
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while next == jobs.count { condition.wait() }
            let job = jobs[next]
            next += 1
            if next > 1_024 {
                jobs.removeFirst(next)
                next = 0
            }
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
