import ArgumentParser
import OperatorKit

/// The `dlq` commands' selection options, read into a `DeadLetterFilter`.
struct DeadLetterOptions: ParsableArguments {
    @Option(
        name: .customLong("topic"), help: "Source topic (e.g. sms.inbound) or its DLQ; repeatable (default: every DLQ)."
    )
    var topics: [String] = []
    @Option(help: "Only records dead-lettered at or after this time (RFC 3339, or an age like 2h).") var since: String?
    @Option(help: "Only records dead-lettered before this time (RFC 3339, or an age like 30m).") var until: String?
    @Option(help: "Only this error class, or a prefix ending in '.' (event. matches event.schema_invalid).")
    var errorClass: String?
    @Option(help: "Only records of this account (their key starts with `<account>:`).") var account: String?
    @Flag(help: "Include records already redriven or acknowledged (before the review group's offset).")
    var includeReviewed = false

    /// The values given.
    var filter: DeadLetterFilter {
        DeadLetterFilter(
            topics: topics, since: since, until: until, errorClass: errorClass, account: account,
            includeReviewed: includeReviewed)
    }
}
