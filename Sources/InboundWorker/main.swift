import Shared

await WorkerRuntime.main(InboundWorker.definition)
