/// Logging metadata keys, in one place, so every log line spells them the same way.
public enum LogKeys {
    public static let eventId = "event_id"
    public static let topic = "topic"
    public static let partition = "partition"
    public static let offset = "offset"
    public static let accountId = "account_id"
    public static let group = "group"
    public static let errorClass = "error_class"
    public static let reason = "reason"
    public static let worker = "worker"
}
