import WorkerKit

await WorkerRuntime.main(OutboundWorker.definition)
