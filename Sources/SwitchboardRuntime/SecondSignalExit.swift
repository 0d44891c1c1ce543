import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// The one shutdown policy ServiceGroup lacks: an operator who sends SIGTERM or SIGINT a second time while a graceful
/// shutdown drains wants the process gone now, without committing unfinished work (it is redelivered).
///
/// Listed first in the worker's ServiceGroup, so it is shut down last and listens while everything else drains.
package struct SecondSignalExit: Service {
    let logger: Logger

    package init(logger: Logger) { self.logger = logger }

    package func run() async {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        await cancelWhenGracefulShutdown {
            var received = 0
            for await signal in signals {
                received += 1
                if received == 1 {
                    logger.notice("\(signal) received: shutting down gracefully (a second signal exits immediately)")
                } else {
                    logger.warning("second signal: exiting now without committing unfinished work")
                    _exit(130)
                }
            }
        }
    }
}
