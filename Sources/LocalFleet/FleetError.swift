/// Something the local fleet (a broker, a worker process, a test fixture) could not do, in words.
public struct FleetError: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}
