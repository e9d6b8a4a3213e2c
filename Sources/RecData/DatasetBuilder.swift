// Turns an InteractionLog into a catalog and train/valid/test samples, as docs/DESIGN.md
// ("Samples and prompts") says: titles cleaned and duplicates merged; optional k-core filter; per-user
// time order; one sample per interaction after a user's first, with up to H previous items;
// a `time` (8:1:1 by target time) or `loo` split; seeded subsampling of each split.
import Support

public enum SplitMethod: String, Sendable, Codable, CaseIterable {
    /// All samples sorted by target time: first 80% train, next 10% valid, last 10% test.
    case time
    /// Per user: last sample test, second-last valid, the rest train.
    case loo
}

public struct BuildOptions: Sendable, Codable, Equatable {
    /// Items in a history, most recent kept (default 10).
    public var historyLength = 10
    public var split = SplitMethod.time
    /// Users and items with fewer interactions are removed, repeatedly until none is left (0 = off).
    public var kCore = 0
    /// Drop items without a title (and their interactions) instead of failing.
    public var dropUntitled = false
    public var maxTrain: Int?
    public var maxValid: Int?
    public var maxTest: Int?
    /// Seed of the subsampling.
    public var seed: UInt64 = 42

    public init() {}
}

public struct BuiltDataset: Sendable {
    public var catalog: Catalog
    public var userNames: [String]
    public var train: [Sample]
    public var valid: [Sample]
    public var test: [Sample]
    public var counts: BuildCounts
}

/// What happened on the way, for stats.json and the summary.
public struct BuildCounts: Sendable, Codable, Equatable {
    /// Interactions, users and source items as read.
    public var rawInteractions = 0, rawUsers = 0, rawItems = 0
    /// Source items sharing a title with another, merged into one catalog entry.
    public var duplicateTitlesMerged = 0
    /// Items without a title that were dropped (with --drop-untitled), and their interactions.
    public var untitledItemsDropped = 0, untitledInteractionsDropped = 0
    /// After k-core filtering (what the dataset holds).
    public var interactions = 0, users = 0, items = 0
    /// Catalog entries (distinct titles).
    public var catalogItems = 0
    /// Users with a single interaction, who yield no sample.
    public var usersWithoutSamples = 0
    /// Samples per split before subsampling.
    public var trainBeforeSubsampling = 0, validBeforeSubsampling = 0, testBeforeSubsampling = 0
}

public enum DatasetBuilder {
    public static func build(_ log: InteractionLog, options: BuildOptions) throws -> BuiltDataset {
        guard options.historyLength >= 1 else { throw DataError.badOption("--history must be at least 1, got \(options.historyLength)") }
        var counts = BuildCounts()
        counts.rawInteractions = log.count
        counts.rawUsers = log.users.count
        counts.rawItems = Set(log.itemOf).count

        // 1. Titles: clean, check, merge duplicates. catalogOf[sourceItem] = catalog entry or -1 (dropped).
        var catalogOf = [Int32](repeating: -1, count: log.items.count)
        var accumulator = CatalogAccumulator()
        var used = [Bool](repeating: false, count: log.items.count)
        for i in log.itemOf { used[Int(i)] = true }
        for item in 0..<log.items.count where used[item] {
            let id = log.items.names[item]
            guard let raw = log.rawTitle[item] else {
                if options.dropUntitled { counts.untitledItemsDropped += 1; continue }
                throw DataError.untitledItem(file: log.interactionsFile, line: Int(log.itemFirstLine[item]), item: id,
                                             itemsFile: log.itemsFile)
            }
            let title = TitleCleaning.clean(raw, unescapeHTML: log.titlesAreHTML)
            if title.isEmpty {
                if options.dropUntitled { counts.untitledItemsDropped += 1; continue }
                throw DataError.emptyTitle(file: log.itemsFile, line: Int(log.titleLine[item]), item: id)
            }
            catalogOf[item] = accumulator.add(id: id, title: title)
        }
        counts.duplicateTitlesMerged = accumulator.merged
        let titles = accumulator.titles, sourceIDs = accumulator.sourceIDs

        // 2. Interactions on catalog entries; k-core on users and catalog entries.
        var keep = [Bool](repeating: true, count: log.count)
        for k in 0..<log.count where catalogOf[Int(log.itemOf[k])] < 0 {
            keep[k] = false
            counts.untitledInteractionsDropped += 1
        }
        if options.kCore > 1 {
            applyKCore(options.kCore, users: log.userOf, items: log.itemOf.map { catalogOf[Int($0)] },
                       userCount: log.users.count, itemCount: titles.count, keep: &keep)
        }

        // 3. Per-user sequences in time order; ties keep file order (a stable sort).
        var perUser = [[Int]](repeating: [], count: log.users.count)
        for k in 0..<log.count where keep[k] { perUser[Int(log.userOf[k])].append(k) }
        var keptItems = Set<Int32>()
        var samplesByUser = [[Sample]](repeating: [], count: log.users.count)
        for u in 0..<perUser.count where !perUser[u].isEmpty {
            let order = perUser[u].enumerated()
                .sorted { (a, b) in
                    let (ta, tb) = (log.timestamp[a.element], log.timestamp[b.element])
                    return ta != tb ? ta < tb : a.offset < b.offset
                }
                .map(\.element)
            let items = order.map { catalogOf[Int(log.itemOf[$0])] }
            counts.interactions += items.count
            counts.users += 1
            keptItems.formUnion(items)
            if items.count < 2 { counts.usersWithoutSamples += 1 }
            for j in 1..<max(items.count, 1) {
                let start = max(0, j - options.historyLength)
                samplesByUser[u].append(Sample(user: Int32(u), history: Array(items[start..<j]), target: items[j],
                                               timestamp: log.timestamp[order[j]]))
            }
        }
        guard counts.interactions > 0 else {
            throw DataError.noSamples("no interactions are left after filtering (k-core \(options.kCore)); lower --kcore")
        }

        // 4. Catalog: only titles that still have interactions, renumbered densely in first-seen order.
        var renumber = [Int32](repeating: -1, count: titles.count)
        var catalog = Catalog(titles: [], sourceIDs: [])
        for c in 0..<titles.count where keptItems.contains(Int32(c)) {
            renumber[c] = Int32(catalog.titles.count)
            catalog.titles.append(titles[c])
            catalog.sourceIDs.append(sourceIDs[c])
        }
        counts.items = catalog.sourceIDs.reduce(0) { $0 + $1.count }
        counts.catalogItems = catalog.count
        for u in 0..<samplesByUser.count {
            for s in 0..<samplesByUser[u].count {
                samplesByUser[u][s].target = renumber[Int(samplesByUser[u][s].target)]
                samplesByUser[u][s].history = samplesByUser[u][s].history.map { renumber[Int($0)] }
            }
        }

        // 5. Split, then subsample each part.
        var (train, valid, test) = split(samplesByUser, method: options.split)
        counts.trainBeforeSubsampling = train.count
        counts.validBeforeSubsampling = valid.count
        counts.testBeforeSubsampling = test.count
        // One stream per split, so that the test samples depend only on the seed, never on
        // whether (or how much) the training split was subsampled.
        var trainRNG = SeededGenerator(seed: options.seed), validRNG = SeededGenerator(seed: options.seed &+ 1)
        var testRNG = SeededGenerator(seed: options.seed &+ 2)
        train = subsample(train, options.maxTrain, &trainRNG)
        valid = subsample(valid, options.maxValid, &validRNG)
        test = subsample(test, options.maxTest, &testRNG)
        return BuiltDataset(catalog: catalog, userNames: log.users.names, train: train, valid: valid, test: test, counts: counts)
    }

    static func split(_ samplesByUser: [[Sample]], method: SplitMethod) -> ([Sample], [Sample], [Sample]) {
        switch method {
        case .time:
            // Stable by target time: ties keep user order, then position (as the D3 reference does).
            let all = samplesByUser.flatMap { $0 }
            let sorted = all.enumerated()
                .sorted { $0.element.timestamp != $1.element.timestamp ? $0.element.timestamp < $1.element.timestamp : $0.offset < $1.offset }
                .map(\.element)
            let n = sorted.count
            let trainEnd = n * 8 / 10, validEnd = n * 9 / 10
            return (Array(sorted[..<trainEnd]), Array(sorted[trainEnd..<validEnd]), Array(sorted[validEnd...]))
        case .loo:
            var train: [Sample] = [], valid: [Sample] = [], test: [Sample] = []
            for samples in samplesByUser where !samples.isEmpty {
                test.append(samples[samples.count - 1])
                if samples.count >= 2 { valid.append(samples[samples.count - 2]) }
                if samples.count >= 3 { train.append(contentsOf: samples[..<(samples.count - 2)]) }
            }
            return (train, valid, test)
        }
    }

    /// `limit` samples chosen uniformly with the seeded generator, in their original order.
    static func subsample(_ samples: [Sample], _ limit: Int?, _ rng: inout SeededGenerator) -> [Sample] {
        guard let limit, limit < samples.count else { return samples }
        return rng.sampleIndices(limit, from: samples.count).map { samples[$0] }
    }

    /// Iterative k-core: removes users and items with fewer than k kept interactions until stable.
    static func applyKCore(_ k: Int, users: [Int32], items: [Int32], userCount: Int, itemCount: Int, keep: inout [Bool]) {
        while true {
            var userDegree = [Int](repeating: 0, count: userCount)
            var itemDegree = [Int](repeating: 0, count: itemCount)
            for i in 0..<keep.count where keep[i] {
                userDegree[Int(users[i])] += 1
                itemDegree[Int(items[i])] += 1
            }
            var changed = false
            for i in 0..<keep.count where keep[i] && (userDegree[Int(users[i])] < k || itemDegree[Int(items[i])] < k) {
                keep[i] = false
                changed = true
            }
            if !changed { return }
        }
    }
}
