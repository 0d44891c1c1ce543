import WorkerKit

await WorkerRuntime.main(InboundWorker.definition)
