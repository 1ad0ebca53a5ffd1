/// A site's number in this replica's `_liaison_site` table (`sidx`), which the change log, the
/// version store and the conflicts use instead of the 36-character site id.
enum SiteIndex {
    /// This replica's own site: always the first row of `_liaison_site`.
    static let local: Int64 = 1
}
