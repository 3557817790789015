/// A part of the running daemon with an ordered start and an orderly stop: the outputs, the
/// processing stage, the kernel reader, the final report between them.
///
/// Synchronous on purpose: the daemon's control thread starts and stops components one after
/// another, and each step must be finished (a thread joined, a queue drained) before the next one
/// begins. The order is the data path's: whatever feeds a component starts after it and stops
/// before it, so nothing is ever handed to a component that is gone.
package protocol Component: AnyObject {
    /// A short name for logs and errors ("outputs", "reader").
    var name: String { get }
    /// Acquires what the component needs (threads, sockets, files). A component that throws has
    /// nothing to release: it is not stopped.
    func start() throws(DaemonError)
    /// Finishes the work already handed to it. Called on a normal stop, after every component
    /// that feeds this one has stopped.
    func drain()
    /// Releases what `start()` acquired. Called once for every component that started, in
    /// reverse order, on a normal stop (after `drain()`) and when a later start fails.
    func stop()
}

extension Component {
    package func drain() {}
    package func stop() {}
}

/// Components started in order and stopped in reverse, also when a later start fails.
///
/// The daemon and `replay` build their pipeline on one stack, so the unwinding that a failed
/// start needs is written once, here, and tested without threads or a kernel.
package struct ComponentStack {
    private var running: [any Component] = []

    package init() {}

    /// The names of the components that started and have not stopped, in start order.
    package var names: [String] { running.map(\.name) }

    /// Starts `component`. If it fails, every component started before it is stopped (without
    /// draining: the pipeline never ran) in reverse order, and the error is rethrown.
    package mutating func start(_ component: any Component) throws(DaemonError) {
        do {
            try component.start()
        } catch {
            stopAll(draining: false)
            throw error
        }
        running.append(component)
    }

    /// Stops every component in reverse start order; with `draining`, each drains first, so each
    /// stage finishes what the stages before it handed over.
    package mutating func stopAll(draining: Bool = true) {
        while let component = running.popLast() {
            if draining { component.drain() }
            component.stop()
        }
    }
}
