/// Errors the CLI reports with a distinct exit code.
public enum CLIError: Error, CustomStringConvertible {
    case notFound(String)
    case failed(String)

    public var description: String {
        switch self {
        case .notFound(let message), .failed(let message): message
        }
    }
}
