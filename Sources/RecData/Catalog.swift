// The catalog of a prepared dataset; CatalogSearch.swift finds titles in it.

/// The catalog: one entry per distinct cleaned title.
public struct Catalog: Sendable, Equatable {
    public var titles: [String]
    /// The source item ids merged into each entry (more than one when titles repeat).
    public var sourceIDs: [[String]]

    public init(titles: [String], sourceIDs: [[String]]) {
        self.titles = titles
        self.sourceIDs = sourceIDs
    }

    public var count: Int { titles.count }
}
