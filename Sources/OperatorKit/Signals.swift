import UnixSignals

/// Waits until SIGTERM or SIGINT arrives.
public enum Signals {
    public static func waitForTermination() async {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        for await _ in signals { return }
    }
}
