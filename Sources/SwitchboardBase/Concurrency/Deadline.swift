import Synchronization

/// Runs `operation` in its own task and returns its result, or throws `timeoutError()` once `timeout` passes —
/// even when the operation ignores cancellation. On timeout the operation is cancelled and left to finish (or not)
/// on its own; the caller is never held by it. Cancelling the caller cancels the operation.
///
/// For calls into libraries that can wait forever on a connection that died mid-request: a caller that must make
/// progress (a record holding its key's lane) gets an error it can retry instead.
public func withDeadline<T: Sendable>(
    _ timeout: Duration,
    timeoutError: @escaping @Sendable () -> any Error,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = DeadlineRace<T>()
    let work = Task {
        do {
            race.finish(.success(try await operation()))
        } catch {
            race.finish(.failure(error))
        }
    }
    let timer = Task {
        try await Task.sleep(for: timeout)
        race.finish(.failure(timeoutError()))
        work.cancel()
    }
    defer { timer.cancel() }
    return try await withTaskCancellationHandler {
        try await race.value()
    } onCancel: {
        work.cancel()
    }
}

/// The first of the operation's result and the timer's error; later ones are dropped.
private final class DeadlineRace<T: Sendable>: Sendable {
    private enum State {
        case waiting
        case awaited(CheckedContinuation<T, any Error>)
        case finished(Result<T, any Error>)
        case done
    }

    private let state = Mutex<State>(.waiting)

    func finish(_ result: Result<T, any Error>) {
        let continuation: CheckedContinuation<T, any Error>? = state.withLock { state in
            switch state {
            case .waiting:
                state = .finished(result)
                return nil
            case .awaited(let continuation):
                state = .done
                return continuation
            case .finished, .done:
                return nil
            }
        }
        continuation?.resume(with: result)
    }

    func value() async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<T, any Error>? = state.withLock { state in
                if case .finished(let result) = state {
                    state = .done
                    return result
                }
                state = .awaited(continuation)
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
