import Foundation
import Synchronization
import LocalFleet
import OperatorKit
import SwitchboardBase

/// What `switchboard-dev fleet` shows while the scenario runs: each step as it starts and finishes, and one live line per
/// worker (records processed, in flight, consumer lag) read from its `/metrics`. On a terminal the worker lines
/// redraw in place; otherwise finished steps are printed one per line.
final class ScenarioProgress: Sendable {
    private struct State {
        var finished: [String] = []
        var current: (title: String, started: ContinuousClock.Instant)?
        var workerLines: [String] = []
        var drawnLines = 0
    }

    private let state = Mutex(State())
    private let interactive: Bool
    private let enabled: Bool

    init(enabled: Bool) {
        self.enabled = enabled
        interactive = enabled && isatty(STDERR_FILENO) == 1
    }

    func begin(_ title: String) {
        state.withLock { $0.current = (title, .now) }
        redraw()
    }

    func end() {
        let line: String? = state.withLock { state in
            guard let current = state.current else { return nil }
            let elapsed = ContinuousClock.now - current.started
            let line = "  ✓ \(current.title) (\(String(format: "%.1f", elapsed.seconds)) s)"
            state.finished.append(line)
            state.current = nil
            return line
        }
        if interactive {
            redraw()
        } else if enabled, let line {
            StandardError.line(line)
        }
    }

    /// Polls the workers' metrics and redraws until cancelled.
    func watch(_ workers: [WorkerProcess]) async {
        while !Task.isCancelled {
            let lines = await Self.workerLines(workers)
            state.withLock { $0.workerLines = lines }
            redraw()
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    /// One line per worker: processed records, in flight, lag.
    static func workerLines(_ workers: [WorkerProcess]) async -> [String] {
        var lines: [String] = []
        for worker in workers {
            let text = await worker.metrics()
            let processed = Int(metricSum(text, "switchboard_records_total"))
            let inFlight = Int(metricSum(text, "switchboard_in_flight_records"))
            let lag = Int(metricSum(text, "switchboard_consumer_group_lag_records"))
            let state = worker.isRunning ? (text.isEmpty ? "starting" : "up") : "exited"
            lines.append(
                "    \(worker.kind.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)) \(state.padding(toLength: 8, withPad: " ", startingAt: 0)) processed \(String(processed).leftPadded(5))   in flight \(String(inFlight).leftPadded(3))   lag \(String(lag).leftPadded(4))"
            )
        }
        return lines
    }

    private func redraw() {
        guard interactive else { return }
        let output: String = state.withLock { state in
            var text = state.drawnLines > 0 ? "\u{1B}[\(state.drawnLines)A\u{1B}[J" : ""
            var block = state.finished
            state.finished = []
            if let current = state.current { block.append("  ▸ \(current.title) …") }
            let live = state.workerLines
            text += (block + live).map { $0 + "\n" }.joined()
            state.drawnLines = (state.current == nil ? 0 : 1) + live.count
            return text
        }
        StandardError.write(output)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
