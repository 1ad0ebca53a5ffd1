import Liaison

extension TerminalText {
    /// One held transaction on one line (its reason is a remote engine's text).
    static func describe(_ held: HeldTransaction) -> String {
        field("\(held.id) \(held.error): \(held.message)")
    }
}
