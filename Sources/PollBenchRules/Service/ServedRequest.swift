/// An authenticated API request as the service's pipeline leaves it, before any runner writes it down
/// (the sandbox as HTTP documents, the fast simulation as events).
public enum ServedRequest<Handled> {
    /// Over the client's budget: 429 with this `Retry-After`, and no work done.
    case rateLimited(retryAfterSeconds: Int64)
    /// A drawn server error, answered before any handling.
    case serverError(status: Int)
    /// Handled by the endpoint, then delivered as drawn for the handled status, after the injected latency.
    case handled(Handled, delivery: InjectedFault.Delivery, latencyMicros: Int64)
}

extension ServiceRules {
    /// The one order of the service's pipeline, after ``admit(_:budget:faults:at:)``: a request over
    /// budget is refused; a drawn 5xx is answered at once; otherwise `handle` runs (a create for a provider
    /// in an outage answers 503 there), and the drawn delivery fault for its `status` (a cut, a malformed
    /// body only of a 2xx, a drip) and the injected latency ride on its answer.
    @inlinable
    public func serve<Handled>(_ admission: Admission, handle: () -> Handled, status: (Handled) -> Int) -> ServedRequest<Handled> {
        switch admission {
        case .rateLimited(let seconds):
            return .rateLimited(retryAfterSeconds: seconds)
        case .admitted(let fault):
            if let status = fault.serverErrorStatus { return .serverError(status: status) }
            let handled = handle()
            return .handled(handled, delivery: fault.delivery(forStatus: status(handled)), latencyMicros: fault.latencyMicros)
        }
    }
}
